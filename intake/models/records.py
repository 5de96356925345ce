"""Rows of the permanent record: append-only, and chained per case so that a change
behind the models' back shows (`manage.py verify_audit`)."""

import hashlib
import json
import uuid
from datetime import UTC, date, datetime

from django.db import models


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


def _plain(value):
    # One text form per value, the same before the INSERT and after reading it back.
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, (date, uuid.UUID)):
        return str(value) if isinstance(value, uuid.UUID) else value.isoformat()
    return value


class ChainedRecord(AppendOnlyModel):
    """A row of a case's tamper-evident chain (case events, decisions, addenda).

    Each row holds its place in the case's chain, the hash of the row before it,
    and the hash of its own content with that link; the case holds the newest
    hash and the length. `manage.py verify_audit` walks the chains and names the
    first row that was altered, inserted or deleted behind the models' back."""

    chain_seq = models.PositiveIntegerField(null=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    row_hash = models.CharField(max_length=64, blank=True, editable=False)

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
            and not (f.attname in self.chain_added_fields and getattr(self, f.attname) in ("", None))
        ]
        return {f.attname: _plain(getattr(self, f.attname)) for f in fields}

    def compute_hash(self) -> str:
        content = json.dumps(self.chain_content(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(f"{self._meta.label}|{content}".encode()).hexdigest()
