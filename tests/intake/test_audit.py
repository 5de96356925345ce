import csv
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from rest_framework.test import APIClient

from intake.audit import verify_chains
from intake.models import Case, CaseEvent, ReadAccess
from recommendations import review
from recommendations.models import Addendum, Decision
from recommendations.services import make_draft
from tests.factories import make_case, make_partner, make_patient, make_referral, make_user


def decided_case_with_addendum() -> Case:
    case = make_case()
    make_draft(case_id=case.pk)
    doctor = make_user(group="Specialists")
    decision = review.amend_draft(case_id=case.pk, user=doctor, route="intravenous", reason="Two joints")
    review.add_addendum(decision_id=decision.pk, user=doctor, reason="Typo in the reason")
    return Case.objects.get(pk=case.pk)


def verify() -> str:
    out = StringIO()
    try:
        call_command("verify_audit", stdout=out)
    except CommandError:
        return "BROKEN: " + out.getvalue()
    return out.getvalue()


@pytest.mark.django_db
def test_events_decisions_and_addenda_form_one_chain_per_case():
    case = decided_case_with_addendum()

    rows = sorted(
        [
            *CaseEvent.objects.filter(case=case),
            *Decision.objects.filter(case=case),
            *Addendum.objects.filter(decision__case=case),
        ],
        key=lambda row: row.chain_seq,
    )

    assert [row.chain_seq for row in rows] == list(range(1, len(rows) + 1))
    assert all(later.prev_hash == earlier.row_hash for earlier, later in zip(rows, rows[1:], strict=False))
    assert case.audit_head == rows[-1].row_hash and case.audit_length == len(rows)
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
        "created_at, chain_seq, prev_hash, row_hash) "
        "VALUES (%s, 'note', '', '', 'intruder', 'backdated note', %s, %s, %s, %s)",
        [case.pk, copy.created_at, copy.chain_seq, copy.prev_hash, copy.row_hash],
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
