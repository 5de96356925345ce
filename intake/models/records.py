"""Rows of the permanent record: append-only, and chained per case so that a change
behind the models' back shows (`manage.py verify_audit`).

Each chained row is HMAC'd with a key that lives outside the database (settings.AUDIT_KEYS,
named by the row's `hash_key`), so whoever can write the database cannot recompute a row's
hash after changing it. The case's head, its clinical fields and its patient's identity are
sealed the same way (`seal`), so a change to them that wrote no chained row shows too."""

import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import models

from intake.vocabulary.contraindications import CONTRAINDICATIONS


class ImmutableRecordError(Exception):
    """Raised when code tries to change or delete a row of the permanent record."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableRecordError(f"{self.model.__name__} rows are append-only; they cannot be updated.")

    def delete(self):
        raise ImmutableRecordError(f"{self.model.__name__} rows are append-only; they cannot be deleted.")


class AppendOnlyModel(models.Model):
    """A row that is written once and never changed or deleted through the ORM."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecordError(
                f"{type(self).__name__} {self.pk} is part of the permanent record and cannot be changed."
            )
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError(
            f"{type(self).__name__} {self.pk} is part of the permanent record and cannot be deleted."
        )


GENESIS = "0" * 64
# An added field holding one of these is left out of a row's hash (rows hashed before it existed).
EMPTY = ("", None, [], {})


class UnknownAuditKeyError(Exception):
    """A row or checkpoint names a key that settings.AUDIT_KEYS does not hold."""


def audit_mac(key_id: str, message: str) -> str:
    """HMAC-SHA256 of `message` with the audit key `key_id` (settings.AUDIT_KEYS)."""
    secret = settings.AUDIT_KEYS.get(key_id) if key_id else None
    if secret is None:
        raise UnknownAuditKeyError(
            f"Audit key {key_id!r} is not in AUDIT_KEYS; list every key that ever signed rows."
        )
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _plain(value):
    # One text form per value, the same before the INSERT and after reading it back.
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, (date, uuid.UUID)):
        return str(value) if isinstance(value, uuid.UUID) else value.isoformat()
    return value


# What the case's seal covers besides its chain head: the fields a specialist decides on, the
# case's place in the workflow, and who the patient is. Each changes only through a service that
# writes a chained row after it (intake.workflow, intake.services.amend_patient), which re-seals.
SEALED_CASE_FIELDS = (
    "patient_id",
    "source",
    "partner_id",
    "external_id",
    "sandbox",
    "status",
    "priority",
    "condition_code",
    "condition_text",
    "affected_sites",
    *CONTRAINDICATIONS,
    "consent_obtained",
    "consent_form_version",
    "goals",
    "notes",
    "open_question",
)
SEALED_PATIENT_FIELDS = ("mrn", "given_name", "family_name", "birth_date", "sex", "phone", "email")
# Case fields added after cases were sealed (rule set v3's intake): sealed only when they hold a
# value, so the seals written before them stay valid.
SEALED_ADDED_CASE_FIELDS = ("findings", "additional_conditions", "consent_by", "assent", "breastfeeding")
# The same, as one values_list() of Case: read with the head, in the same SELECT.
SEALED_LOOKUPS = (
    *SEALED_CASE_FIELDS,
    *(f"patient__{name}" for name in SEALED_PATIENT_FIELDS),
    *SEALED_ADDED_CASE_FIELDS,
)


def sealed_values_of(case) -> tuple:
    """The sealed values of a case (and its patient) as held in memory, in SEALED_LOOKUPS order."""
    return (
        *(getattr(case, name) for name in SEALED_CASE_FIELDS),
        *(getattr(case.patient, name) for name in SEALED_PATIENT_FIELDS),
        *(getattr(case, name) for name in SEALED_ADDED_CASE_FIELDS),
    )


def _sealed_content(values: Sequence) -> list:
    fixed = len(values) - len(SEALED_ADDED_CASE_FIELDS)
    content = [_plain(value) for value in values[:fixed]]
    added = {
        name: _plain(value)
        for name, value in zip(SEALED_ADDED_CASE_FIELDS, values[fixed:], strict=True)
        if value not in (None, "", [], {})
    }
    return [*content, added] if added else content


def seal(*, key_id: str, case_id, head: str, length: int, values: Sequence) -> str:
    """The case's seal: "<key id>:<HMAC>" over its chain head and its sealed values."""
    content = json.dumps(
        [str(case_id), head or GENESIS, length, _sealed_content(values)],
        separators=(",", ":"),
        # jsonb hands an object's keys back in its own order: the seal must not depend on it.
        sort_keys=True,
        default=str,
    )
    return f"{key_id}:{audit_mac(key_id, f'intake.Case|{content}')}"


class ChainedRecord(AppendOnlyModel):
    """A row of a case's tamper-evident chain (case events, drafts, decisions, addenda).

    Each row holds its place in the case's chain, the hash of the row before it,
    and the HMAC of its own content with that link under the key named by
    `hash_key`; the case holds the newest hash, the length and its seal.
    `manage.py verify_audit` walks the chains and names the first row that was
    altered, inserted or deleted behind the models' back."""

    chain_seq = models.PositiveIntegerField(null=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    row_hash = models.CharField(max_length=64, blank=True, editable=False)
    # The id of the audit key (settings.AUDIT_KEYS) the row was HMAC'd with; part of the HMAC.
    # Empty only on rows of the unkeyed scheme that migration could not re-key (verify reports them).
    hash_key = models.CharField(max_length=16, blank=True, editable=False)

    class Meta:
        abstract = True

    # How verify_audit finds a row's case from the row's table ("case_id", "decision__case_id").
    chain_case_lookup = "case_id"
    # Fields added after rows were already chained: left out of a row's hash while empty, so
    # the rows written before them keep their hashes (and verify_audit still passes on them).
    chain_added_fields: tuple[str, ...] = ()

    def save(self, *args, **kwargs):
        if self._state.adding and not self.row_hash:
            # The chain head lives on the case; only intake.chain.append writes both together.
            raise ImmutableRecordError(
                f"{type(self).__name__} rows join their case's audit chain; "
                "write them with intake.chain.append."
            )
        super().save(*args, **kwargs)

    def chain_case_id(self):
        raise NotImplementedError

    def chain_content(self) -> dict:
        # Database-assigned ids are unknown until the INSERT; the chain position stands in for them.
        fields = [
            f
            for f in self._meta.concrete_fields
            if f.attname != "row_hash"
            and not isinstance(f, models.AutoField | models.BigAutoField)
            and not (f.attname in self.chain_added_fields and getattr(self, f.attname) in EMPTY)
        ]
        return {f.attname: _plain(getattr(self, f.attname)) for f in fields}

    def compute_hash(self) -> str:
        """The row's HMAC under its own key (raises UnknownAuditKeyError for a key not held)."""
        content = json.dumps(self.chain_content(), sort_keys=True, separators=(",", ":"), default=str)
        return audit_mac(self.hash_key, f"{self._meta.label}|{content}")
