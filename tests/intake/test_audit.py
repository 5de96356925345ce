import csv
import os
import subprocess
import sys
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from clinic.aftercare.models import CourseEvent
from intake.audit import verify_chains
from intake.clinical import Answer
from intake.models import Case, CaseEvent, ReadAccess
from intake.services import amend_patient, answer_information, withdraw_case
from intake.workflow import SYSTEM
from recommendations import review
from recommendations.models import Addendum, Decision, Recommendation
from recommendations.services import make_draft
from tests.factories import make_case, make_partner, make_patient, make_referral, make_user


@pytest.fixture(autouse=True)
def _infusion_covered(knee_infusion_protocol):
    """Specialists here amend knee drafts to an infusion, which rule set v3 takes under a protocol."""


@pytest.fixture(autouse=True)
def own_checkpoint_file(tmp_path):
    # Never a developer's .var/audit-checkpoints.jsonl, which records another database's cases.
    with override_settings(AUDIT_CHECKPOINT_FILE=tmp_path / "audit-checkpoints.jsonl"):
        yield


def decided_case_with_addendum() -> Case:
    case = make_case()
    make_draft(case_id=case.pk)
    doctor = make_user(group="Specialists")
    decision = review.amend_draft(case_id=case.pk, user=doctor, route="intravenous", reason="Two joints")
    review.add_addendum(decision_id=decision.pk, user=doctor, reason="Typo in the reason")
    return Case.objects.get(pk=case.pk)


def chain_of(case: Case) -> list:
    return sorted(
        [
            *CaseEvent.objects.filter(case=case),
            *Recommendation.objects.filter(case=case),
            *Decision.objects.filter(case=case),
            *Addendum.objects.filter(decision__case=case),
            # The treatment course the decision opened (clinic.aftercare) joins the same chain.
            *CourseEvent.objects.filter(case=case),
        ],
        key=lambda row: row.chain_seq,
    )


def verify() -> str:
    out = StringIO()
    try:
        call_command("verify_audit", stdout=out)
    except CommandError:
        return "BROKEN: " + out.getvalue()
    return out.getvalue()


@pytest.mark.django_db
def test_events_drafts_decisions_and_addenda_form_one_keyed_chain_per_case():
    case = decided_case_with_addendum()

    rows = sorted(
        [
            *CaseEvent.objects.filter(case=case),
            *Recommendation.objects.filter(case=case),
            *Decision.objects.filter(case=case),
            *Addendum.objects.filter(decision__case=case),
            # The treatment course the decision opened (clinic.aftercare) joins the same chain.
            *CourseEvent.objects.filter(case=case),
        ],
        key=lambda row: row.chain_seq,
    )

    assert [row.chain_seq for row in rows] == list(range(1, len(rows) + 1))
    assert all(later.prev_hash == earlier.row_hash for earlier, later in zip(rows, rows[1:], strict=False))
    assert case.audit_head == rows[-1].row_hash and case.audit_length == len(rows)
    assert {type(row).__name__ for row in rows} == {
        "CaseEvent",
        "Recommendation",
        "Decision",
        "Addendum",
        "CourseEvent",
    }
    assert {row.hash_key for row in rows} == {"test1"} and case.audit_seal.startswith("test1:")
    assert "Audit chains intact" in verify()


def raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
def test_verify_audit_names_an_altered_row():
    case = decided_case_with_addendum()
    decision = Decision.objects.get(case=case)

    raw("UPDATE recommendations_decision SET reason = %s WHERE id = %s", ["Quietly rewritten", decision.pk])

    report = verify()
    assert report.startswith("BROKEN: altered:") and f"Decision {decision.pk}" in report


@pytest.mark.django_db
def test_verify_audit_names_a_deleted_row():
    case = decided_case_with_addendum()
    middle = CaseEvent.objects.filter(case=case).order_by("chain_seq")[1]
    last = Addendum.objects.get(decision__case=case)

    raw("DELETE FROM intake_caseevent WHERE id = %s", [middle.pk])
    assert "BROKEN: deleted:" in verify() and "row #2 before it is missing" in verify()

    other = decided_case_with_addendum()
    raw(
        "DELETE FROM recommendations_addendum WHERE decision_id IN "
        "(SELECT id FROM recommendations_decision WHERE case_id = %s)",
        [other.pk],
    )
    problems = [str(p) for p in verify_chains()]
    assert any(p.startswith(f"deleted: case {other.pk}") for p in problems)
    assert last.pk


@pytest.mark.django_db
def test_verify_audit_names_an_inserted_row():
    case = decided_case_with_addendum()
    copy = CaseEvent.objects.filter(case=case).order_by("chain_seq")[2]

    raw(
        "INSERT INTO intake_caseevent (case_id, kind, from_status, to_status, actor_label, note, "
        "created_at, chain_seq, prev_hash, row_hash, hash_key) "
        "VALUES (%s, 'note', '', '', 'intruder', 'backdated note', %s, %s, %s, %s, %s)",
        [case.pk, copy.created_at, copy.chain_seq, copy.prev_hash, copy.row_hash, copy.hash_key],
    )

    report = verify()
    assert report.startswith("BROKEN: inserted:")


@pytest.mark.django_db
def test_reads_are_recorded_for_desk_admin_and_api(client):
    partner, key = make_partner()
    case = make_referral(partner)
    make_draft(case_id=case.pk)

    client.force_login(make_user("desk_amy", group="Front desk"))
    client.get(f"/desk/cases/{case.pk}/")
    client.force_login(make_user("dr_bea", group="Specialists", is_staff=True))
    client.get(f"/admin/recommendations/reviewcase/{case.pk}/change/")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    api.get(f"/api/v1/referrals/{case.pk}/")

    reads = list(ReadAccess.objects.order_by("at").values_list("channel", "actor_label", "case_id"))
    assert reads == [
        ("desk", "desk_amy", case.pk),
        ("admin", "dr_bea", case.pk),
        ("api", f"partner: {partner.name}", case.pk),
    ]


@pytest.mark.django_db
def test_export_audit_for_a_patient_as_csv(client):
    patient = make_patient(mrn="MRN-EXP")
    case = make_case(patient=patient)
    make_case()  # someone else's
    client.force_login(make_user("desk_cy", group="Front desk"))
    client.get(f"/desk/cases/{case.pk}/")
    out = StringIO()

    call_command("export_audit", "--patient", "MRN-EXP", stdout=out)

    rows = list(csv.DictReader(StringIO(out.getvalue())))
    assert [(r["kind"], r["actor"]) for r in rows] == [("change", "system"), ("read", "desk_cy")]
    assert {r["patient_mrn"] for r in rows} == {"MRN-EXP"}
    with pytest.raises(CommandError, match="Say whose audit"):
        call_command("export_audit")
    with pytest.raises(CommandError, match="not a date"):
        call_command("export_audit", "--since", "yesterday")
    with pytest.raises(CommandError, match="Cannot write /no/such/dir/a.csv"):
        call_command("export_audit", "--patient", "MRN-EXP", "--output", "/no/such/dir/a.csv")


# --- the keyed chain: what someone who can write the database cannot do unnoticed -------------


@pytest.mark.django_db
def test_legitimate_work_keeps_every_chain_intact(client):
    doctor = make_user(group="Specialists")
    asked = make_case()
    make_draft(case_id=asked.pk)
    review.claim_case(case_id=asked.pk, user=doctor)
    review.release_claim(case_id=asked.pk, user=doctor)
    review.request_information(case_id=asked.pk, user=doctor, question="Which knee?")
    answer_information(
        case=Case.objects.get(pk=asked.pk),
        actor=SYSTEM,
        answer=Answer("Both", affected_sites=["right_knee", "left_knee"]),
    )
    make_draft(case_id=asked.pk)
    review.amend_draft(case_id=asked.pk, user=doctor, route="intravenous", reason="Both knees")
    decided = decided_case_with_addendum()
    withdrawn = make_case()
    withdraw_case(case=withdrawn, actor=SYSTEM, reason="Patient moved away")

    amend_patient(
        patient_id=decided.patient_id,
        actor=SYSTEM,
        changes={"family_name": "Souza", "birth_date": date(1961, 4, 3)},
    )

    assert "Audit chains intact: 3 cases checked" in verify()
    notes = list(CaseEvent.objects.filter(case=decided).order_by("chain_seq").values_list("note", flat=True))
    assert notes[-1] == "Patient details changed: family name, birth date"


@pytest.mark.django_db
def test_a_patient_edited_in_the_admin_is_amended_through_the_chain(client):
    case = decided_case_with_addendum()
    patient = case.patient
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    form = {
        "mrn": patient.mrn,
        "given_name": "Ana",
        "family_name": "Pereira",
        "birth_date": "1962-05-06",
        "sex": patient.sex,
        "phone": patient.phone,
        "email": patient.email,
    }

    response = client.post(f"/admin/intake/patient/{patient.pk}/change/", form)

    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.given_name, patient.family_name, str(patient.birth_date)) == (
        "Ana",
        "Pereira",
        "1962-05-06",
    )
    last = CaseEvent.objects.filter(case=case).order_by("-chain_seq").first()
    assert (last.actor_label, last.note) == (
        "root",
        "Patient details changed: given name, family name, birth date",
    )
    assert "Audit chains intact" in verify()


@pytest.mark.django_db
def test_rows_signed_with_a_retired_key_still_verify_while_it_is_listed():
    old = decided_case_with_addendum()
    both = {"test1": settings.AUDIT_KEYS["test1"], "test2": "second-test-only-audit-key-0123456789"}

    with override_settings(AUDIT_KEYS=both, AUDIT_KEY_ID="test2"):
        review.add_addendum(
            decision_id=Decision.objects.get(case=old).pk,
            user=make_user(group="Specialists"),
            reason="Late note",
        )
        new = decided_case_with_addendum()
        assert "Audit chains intact: 2 cases checked" in verify()
        assert {row.hash_key for row in chain_of(old)} == {"test1", "test2"}
        assert {row.hash_key for row in chain_of(new)} == {"test2"}

    with override_settings(AUDIT_KEYS={"test2": both["test2"]}, AUDIT_KEY_ID="test2"):
        report = verify()
    assert report.startswith(f"BROKEN: unknown key: case {old.pk}") and "AUDIT_KEYS does not hold" in report


def django_setup(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("AUDIT_KEYS", "AUDIT_KEY_ID", "DEBUG")}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=Path(__file__).resolve().parents[2],
        env=clean | {"DJANGO_SETTINGS_MODULE": "clinic.settings", "CLINIC_ENV_FILE": os.devnull} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_proper_audit_key():
    assert "AUDIT_KEYS is not set" in django_setup({}).stderr
    assert "shorter than 32 characters" in django_setup({"AUDIT_KEYS": "k1:short"}).stderr
    assert (
        "AUDIT_KEY_ID is 'k9'" in django_setup({"AUDIT_KEYS": "k1:" + "x" * 32, "AUDIT_KEY_ID": "k9"}).stderr
    )
    assert django_setup({"AUDIT_KEYS": "k1:" + "x" * 32}).returncode == 0
    assert django_setup({"DEBUG": "1"}).returncode == 0
