""""The current draft" is a selector (the case's newest draft), no longer a column on the case.

The case's seal covered its current_draft_id. Each case whose seal verifies with it is re-sealed
without it, under the key that signed it; a seal that does not verify (or names a key not held)
is left exactly as it is, so verify_audit keeps reporting it. Nothing is lost: every draft is a
row of its case's chain, and the newest is the one with the highest sequence.

The column lives in intake's table but is dropped here, in the app its values pointed at, so
that intake's migrations never depend on this app's (and this runs after 0009, which read it).
SQLite cannot drop a column that carries a foreign key; there it stays, unread and unwritten.

What is sealed is frozen here, as it stood at this migration, as in 0009."""

import hashlib
import hmac
import json
import uuid
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import migrations

GENESIS = "0" * 64
CASE_FIELDS = (
    "patient_id", "source", "partner_id", "external_id", "sandbox", "status", "priority",
    "condition_code", "condition_text", "affected_sites", "active_malignancy", "active_infection",
    "pregnant", "anticoagulant_therapy", "bleeding_disorder", "immunosuppressed", "consent_obtained",
    "consent_form_version", "goals", "notes", "open_question",
)
PATIENT_FIELDS = (
    "patient__mrn", "patient__given_name", "patient__family_name", "patient__birth_date",
    "patient__sex", "patient__phone", "patient__email",
)
ADDED_FIELDS = ("findings", "additional_conditions", "consent_by", "assent", "breastfeeding")


def _plain(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, (date, uuid.UUID)):
        return str(value) if isinstance(value, uuid.UUID) else value.isoformat()
    return value


def _seal(key_id: str, case_id, head: str, length: int, fixed: list, added: tuple) -> str:
    content = [_plain(value) for value in fixed]
    extra = {
        name: _plain(value)
        for name, value in zip(ADDED_FIELDS, added, strict=True)
        if value not in (None, "", [], {})
    }
    body = json.dumps(
        [str(case_id), head or GENESIS, length, [*content, extra] if extra else content],
        separators=(",", ":"),
        sort_keys=True,
        default=str,
    )
    mac = hmac.new(settings.AUDIT_KEYS[key_id].encode(), f"intake.Case|{body}".encode(), hashlib.sha256)
    return f"{key_id}:{mac.hexdigest()}"


def _has_column(schema_editor) -> bool:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, "intake_case")
    return any(column.name == "current_draft_id" for column in columns)


def _current_drafts(schema_editor) -> dict:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id, current_draft_id FROM intake_case WHERE current_draft_id IS NOT NULL")
        # SQLite hands uuids back as bare hex: keyed and valued as the ORM reads them.
        return {uuid.UUID(str(case_id)): uuid.UUID(str(draft)) for case_id, draft in cursor.fetchall()}


def _reseal(apps, schema_editor, *, with_draft_before: bool) -> None:
    """Re-seal every case whose seal verifies in the old form, in the new form."""
    Case = apps.get_model("intake", "Case")
    drafts = _current_drafts(schema_editor)
    cases = Case.objects.order_by("created_at", "id").values_list(
        "id", "audit_head", "audit_length", "audit_seal", *CASE_FIELDS, *PATIENT_FIELDS, *ADDED_FIELDS
    )
    fixed_count = len(CASE_FIELDS) + len(PATIENT_FIELDS)
    for case_id, head, length, sealed, *values in cases.iterator(chunk_size=200):
        key_id = sealed.partition(":")[0]
        if key_id not in settings.AUDIT_KEYS:
            continue
        fixed, added = values[:fixed_count], tuple(values[fixed_count:])
        own = list(fixed[: len(CASE_FIELDS)])
        with_draft = [*own, drafts.get(case_id), *fixed[len(CASE_FIELDS) :]]
        without = [*own, *fixed[len(CASE_FIELDS) :]]
        before, after = (with_draft, without) if with_draft_before else (without, with_draft)
        if hmac.compare_digest(sealed, _seal(key_id, case_id, head, length, before, added)):
            Case.objects.filter(pk=case_id).update(
                audit_seal=_seal(key_id, case_id, head, length, after, added)
            )


def forward(apps, schema_editor) -> None:
    if not _has_column(schema_editor):
        return  # a database made after this change: there never was a column
    _reseal(apps, schema_editor, with_draft_before=True)
    if schema_editor.connection.vendor != "sqlite":
        schema_editor.execute("ALTER TABLE intake_case DROP COLUMN current_draft_id")


def backward(apps, schema_editor) -> None:
    if not _has_column(schema_editor):
        kind = "char(32)" if schema_editor.connection.vendor == "sqlite" else "uuid"
        schema_editor.execute(f"ALTER TABLE intake_case ADD COLUMN current_draft_id {kind} NULL")
    schema_editor.execute(
        "UPDATE intake_case SET current_draft_id = (SELECT r.id FROM recommendations_recommendation r "
        "WHERE r.case_id = intake_case.id ORDER BY r.sequence DESC LIMIT 1)"
    )
    _reseal(apps, schema_editor, with_draft_before=False)


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0016_case_v3_fields"),
        ("recommendations", "0011_decision_protocol"),
    ]

    operations = [migrations.RunPython(forward, backward)]
