"""Many cases, fast: COPY straight into PostgreSQL, in the shapes the pages read."""

import json
import random
import uuid
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from intake.models import Case, Patient
from intake.vocabulary.names import name_key
from recommendations.models import Recommendation

# Of every 100 cases: where a clinic's history would have them.
STATUS_MIX = (
    ["decided"] * 88
    + ["withdrawn"] * 5
    + ["awaiting_review"] * 3
    + ["needs_information"] * 1
    + ["received"] * 1
    + ["drafting"] * 1
    + ["draft_failed"] * 1
)
RULES = json.dumps(
    [
        {
            "id": "LOC-FEW-SITES",
            "text": "Localized condition at fewer sites...",
            "source": "Clinic reference text",
            "detail": "M17.11 matched M17",
        }
    ]
)
CONDITION = json.dumps(
    {
        "code": "M17.11",
        "prefix": "M17",
        "label": "Osteoarthritis of knee",
        "category": "localized",
        "source": "ICD-10-CM",
        "note": "",
    }
)


def _columns(model) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def _copy(model) -> str:
    return f"COPY {model._meta.db_table} ({', '.join(_columns(model))}) FROM STDIN"


def add_cases(total: int, *, patients: int | None = None, seed: int = 7, status: str | None = None) -> None:
    """Add `total` cases (and their patients, and drafts for those in review); with
    `status`, every case has that status (a backlog: "received", no drafts)."""
    rng = random.Random(seed)
    forced = status
    patients = patients or max(total // 10, 1)
    now = timezone.now()
    patient_ids = [uuid.uuid4() for _ in range(patients)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        with cursor.copy(
            f"COPY {Patient._meta.db_table} ({', '.join(_columns(Patient))}) FROM STDIN"
        ) as copy:
            for n, pid in enumerate(patient_ids):
                values = {
                    "id": pid,
                    "mrn": f"B{uuid.uuid4().hex[:12]}",
                    "given_name": f"Given{n}",
                    "family_name": f"Family{n % 5000}",
                    "name_key": name_key(f"Given{n}", f"Family{n % 5000}"),
                    "birth_date": date(1940, 1, 1) + timedelta(days=n % 25000),
                    "sex": "female" if n % 2 else "male",
                    "phone": "",
                    "phone_key": "",
                    "email": "",
                    "created_at": now,
                    "submission_key": None,
                    "sandbox": False,
                }
                copy.write_row([values[c] for c in _columns(Patient)])
        drafts = []
        case_columns = _columns(Case)
        # add_cases runs more than once (the sizes grow): number on from the highest so far.
        cursor.execute("SELECT COALESCE(MAX(number), 0) FROM intake_case")
        first_number = cursor.fetchone()[0] + 1
        with cursor.copy(_copy(Case)) as copy:
            for n in range(total):
                status = forced or STATUS_MIX[n % len(STATUS_MIX)]
                created = now - timedelta(minutes=total - n)
                case_id, draft_id = uuid.uuid4(), None
                if status in ("awaiting_review", "needs_information", "decided"):
                    draft_id = uuid.uuid4()
                    drafts.append((draft_id, case_id, created))
                values = {
                    "id": case_id,
                    "patient_id": rng.choice(patient_ids),
                    "source": "front_desk",
                    "partner_id": None,
                    "external_id": None,
                    "created_by_id": None,
                    "submission_key": None,
                    "number": first_number + n,
                    "patient_needs_review": False,
                    "sandbox": False,
                    "condition_code": "M17.11",
                    "condition_text": "",
                    "affected_sites": json.dumps(["right_knee"]),
                    "active_malignancy": False,
                    "active_infection": False,
                    "pregnant": False,
                    "anticoagulant_therapy": False,
                    "bleeding_disorder": False,
                    "immunosuppressed": n % 7 == 0,
                    "consent_obtained": True,
                    "consent_form_version": "v1",
                    "findings": "{}",
                    "additional_conditions": "[]",
                    "consent_by": "patient",
                    "assent": None,
                    "breastfeeding": None,
                    "goals": "",
                    "notes": "",
                    "status": status,
                    "priority": 1 if n % 10 == 0 else 2,
                    "created_at": created,
                    "status_changed_at": created,
                    "due_at": created + timedelta(days=5),
                    "draft_enqueued_at": created,
                    "open_question": "",
                    "claimed_by_id": None,
                    "claimed_at": None,
                    # A received case's chain holds its intake event, as a referral leaves it (the
                    # event row itself is not loaded: no page reads it, and the drafts only count it).
                    "audit_head": "" if status != "received" else "0" * 64,
                    "audit_length": 0 if status != "received" else 1,
                    "audit_seal": "",
                }
                copy.write_row([values[c] for c in case_columns])
        rec_columns = _columns(Recommendation)
        flags = json.dumps(["immunosuppressed"])
        with cursor.copy(
            f"COPY {Recommendation._meta.db_table} ({', '.join(rec_columns)}) FROM STDIN"
        ) as copy:
            for draft_id, case_id, created in drafts:
                values = {
                    "id": draft_id,
                    "case_id": case_id,
                    "sequence": 1,
                    "route": "local_injection",
                    "rules": RULES,
                    "flags": flags,
                    "ruleset_version": "v1",
                    "notice": "Investigational.",
                    "missing": "",
                    "condition": CONDITION,
                    "answers": "[]",
                    "other_route": "",
                    "engine_input": "{}",
                    "protocol_id": "",
                    "protocol_version": None,
                    "needs": "{}",
                    "shadow": False,
                    "created_at": created,
                    # Loaded rows stand outside any chain (verify_audit would report them).
                    "chain_seq": None,
                    "prev_hash": "",
                    "row_hash": "",
                    "hash_key": "",
                }
                copy.write_row([values[c] for c in rec_columns])
    with connection.cursor() as cursor:
        # New referrals during the run must not draw a number the loaded cases already have.
        cursor.execute("SELECT setval('intake_case_number_seq', (SELECT MAX(number) FROM intake_case))")
        cursor.execute(
            f"ANALYZE {Patient._meta.db_table}, {Case._meta.db_table}, {Recommendation._meta.db_table}"
        )
