"""Drafts join their case's audit chain, and every chain is re-keyed (HMAC with AUDIT_KEY_ID).

A case whose chain verifies under the old unkeyed scheme gets every row re-hashed with the key,
its drafts folded into the chain in the order they were written, and its head and seal set. A
chain that does not verify is left exactly as it is: its rows stay unkeyed, and verify_audit
keeps reporting it. (A chain someone recomputed with plain SHA-256 before this migration verifies
under the old scheme, and is re-keyed as it stands: the unkeyed scheme could not tell.)

What it hashes is frozen here, as it stood at this migration (the case's sealed fields, the seal,
the MAC), so a later change to intake.models.records never changes what this migration does."""

import hashlib
import hmac
import json
import uuid
from datetime import UTC, date, datetime

import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

GENESIS = "0" * 64
# The case's sealed fields as they stood at this migration (intake.models.records.SEALED_LOOKUPS
# without the fields added later, which are sealed as empty and so leave the seal as it is).
LOOKUPS_HERE = (
    "patient_id", "source", "partner_id", "external_id", "sandbox", "status", "priority",
    "condition_code", "condition_text", "affected_sites", "active_malignancy", "active_infection",
    "pregnant", "anticoagulant_therapy", "bleeding_disorder", "immunosuppressed", "consent_obtained",
    "consent_form_version", "goals", "notes", "open_question", "current_draft_id",
)
PATIENT_LOOKUPS_HERE = (
    "patient__mrn", "patient__given_name", "patient__family_name", "patient__birth_date",
    "patient__sex", "patient__phone", "patient__email",
)


def audit_mac(key_id: str, message: str) -> str:
    return hmac.new(settings.AUDIT_KEYS[key_id].encode(), message.encode(), hashlib.sha256).hexdigest()


def _plain(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, (date, uuid.UUID)):
        return str(value) if isinstance(value, uuid.UUID) else value.isoformat()
    return value


def seal(*, key_id: str, case_id, head: str, length: int, values) -> str:
    content = json.dumps(
        [str(case_id), head or GENESIS, length, [_plain(value) for value in values]],
        separators=(",", ":"),
        sort_keys=True,
        default=str,
    )
    return f"{key_id}:{audit_mac(key_id, f'intake.Case|{content}')}"

# ChainedRecord.chain_added_fields as they stood when the chain was unkeyed.
ADDED_FIELDS = {"Decision": ("signed_name", "signed_credentials")}
CHAIN_FIELDS = ["chain_seq", "prev_hash", "hash_key", "row_hash"]


def _content(row, *, leave_out: set[str]) -> str:
    # ChainedRecord.chain_content, for the migration's own (historical) models.
    added = ADDED_FIELDS.get(row._meta.object_name, ())
    fields = [
        f
        for f in row._meta.concrete_fields
        if f.attname not in leave_out
        and not isinstance(f, models.AutoField | models.BigAutoField)
        and not (f.attname in added and getattr(row, f.attname) in ("", None))
    ]
    content = {f.attname: _plain(getattr(row, f.attname)) for f in fields}
    return f"{row._meta.label}|{json.dumps(content, sort_keys=True, separators=(',', ':'), default=str)}"


def _old_hash(row) -> str:
    return hashlib.sha256(_content(row, leave_out={"row_hash", "hash_key"}).encode()).hexdigest()


def _verifies_unkeyed(rows: list, head: str, length: int) -> bool:
    previous = GENESIS
    for expected, row in enumerate(rows, start=1):
        if row.chain_seq != expected or row.prev_hash != previous or _old_hash(row) != row.row_hash:
            return False
        previous = row.row_hash
    return len(rows) == length and previous == (head or GENESIS)


def _time_of(row):
    return getattr(row, "decided_at", None) or row.created_at


def _rekey_chunk(apps, cases: list[tuple], key_id: str) -> None:
    CaseEvent = apps.get_model("intake", "CaseEvent")
    Case = apps.get_model("intake", "Case")
    Decision = apps.get_model("recommendations", "Decision")
    Addendum = apps.get_model("recommendations", "Addendum")
    Recommendation = apps.get_model("recommendations", "Recommendation")
    ids = [case[0] for case in cases]
    rows: dict = {case_id: [] for case_id in ids}
    drafts: dict = {case_id: [] for case_id in ids}
    for model, lookup in ((CaseEvent, "case_id"), (Decision, "case_id"), (Addendum, "decision__case_id")):
        for row in model.objects.filter(**{f"{lookup}__in": ids}).annotate(ref=models.F(lookup)):
            rows[row.ref].append(row)
    for draft in Recommendation.objects.filter(case_id__in=ids).order_by("created_at", "sequence"):
        drafts[draft.case_id].append(draft)
    changed: dict = {CaseEvent: [], Decision: [], Addendum: [], Recommendation: []}
    for case_id, head, length, *values in cases:
        chain = sorted(rows[case_id], key=lambda r: (r.chain_seq or 0, r._meta.label, str(r.pk)))
        if not _verifies_unkeyed(chain, head, length):
            continue
        waiting, merged = list(drafts[case_id]), []
        for row in chain:
            while waiting and waiting[0].created_at <= _time_of(row):
                merged.append(waiting.pop(0))
            merged.append(row)
        merged += waiting
        head = GENESIS
        for seq, row in enumerate(merged, start=1):
            row.chain_seq, row.prev_hash, row.hash_key = seq, head, key_id
            row.row_hash = audit_mac(key_id, _content(row, leave_out={"row_hash"}))
            head = row.row_hash
            changed[type(row)].append(row)
        Case.objects.filter(pk=case_id).update(
            audit_head=head,
            audit_length=len(merged),
            audit_seal=seal(key_id=key_id, case_id=case_id, head=head, length=len(merged), values=values),
        )
    for model, updated in changed.items():
        model.objects.bulk_update(updated, CHAIN_FIELDS, batch_size=500)


def _current_drafts(schema_editor) -> dict:
    # The case's current_draft_id column left the models' state when "the current draft" became a
    # selector (recommendations 0012 drops it after re-sealing), so it is read here as a column:
    # present on every database this migration has cases to re-key in.
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor, "intake_case")}
        if "current_draft_id" not in columns:
            return {}
        cursor.execute("SELECT id, current_draft_id FROM intake_case WHERE current_draft_id IS NOT NULL")
        # SQLite hands uuids back as bare hex: keyed and valued as the ORM reads them.
        return {uuid.UUID(str(case_id)): uuid.UUID(str(draft)) for case_id, draft in cursor.fetchall()}


def rekey_chains(apps, schema_editor) -> None:
    Case = apps.get_model("intake", "Case")
    drafts = _current_drafts(schema_editor)
    cases = Case.objects.order_by("created_at", "id").values_list(
        "id", "audit_head", "audit_length", *LOOKUPS_HERE[:-1], *PATIENT_LOOKUPS_HERE
    )
    chunk: list[tuple] = []
    fixed = 3 + len(LOOKUPS_HERE) - 1
    for row in cases.iterator(chunk_size=200):
        case = (*row[:fixed], drafts.get(row[0]), *row[fixed:])
        chunk.append(case)
        if len(chunk) == 200:
            _rekey_chunk(apps, chunk, settings.AUDIT_KEY_ID)
            chunk = []
    if chunk:
        _rekey_chunk(apps, chunk, settings.AUDIT_KEY_ID)


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0015_keyed_audit_chain"),
        ("recommendations", "0008_escalation_delivery"),
    ]

    operations = [
        migrations.AddField(
            model_name="addendum",
            name="hash_key",
            field=models.CharField(blank=True, editable=False, max_length=16),
        ),
        migrations.AddField(
            model_name="decision",
            name="hash_key",
            field=models.CharField(blank=True, editable=False, max_length=16),
        ),
        migrations.AddField(
            model_name="recommendation",
            name="chain_seq",
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="recommendation",
            name="hash_key",
            field=models.CharField(blank=True, editable=False, max_length=16),
        ),
        migrations.AddField(
            model_name="recommendation",
            name="prev_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="recommendation",
            name="row_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name="recommendation",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        # Reversing leaves the rows keyed: the old scheme would report them, as it should report
        # any chain it cannot recompute.
        migrations.RunPython(rekey_chains, migrations.RunPython.noop),
    ]
