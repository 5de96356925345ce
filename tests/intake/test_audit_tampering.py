"""Tampering behind the application's back is caught: recomputed chains, downgraded rows, altered or
deleted drafts, case rows changed without an entry, seals emptied, chains made up."""

import hashlib
import hmac
import json
from datetime import date

import pytest

from intake.audit import verify_chains
from intake.models import Case, Patient
from recommendations.models import Decision
from recommendations.services import make_draft
from tests.factories import make_case
from tests.intake.test_audit import (  # noqa: F401  (fixtures used by name)
    _infusion_covered,
    chain_of,
    decided_case_with_addendum,
    own_checkpoint_file,
    raw,
    verify,
)


def recompute_from(case: Case, first: int, hash_of) -> None:
    """What a database admin would do after editing row #first: re-hash it and every later row,
    relink them and move the case's head, all by SQL."""
    rows, previous = chain_of(case), None
    for row in rows:
        if row.chain_seq >= first:
            row.refresh_from_db()
            row.prev_hash = previous
            row.row_hash = hash_of(row)
            raw(
                f"UPDATE {row._meta.db_table} SET prev_hash = %s, row_hash = %s, hash_key = %s WHERE id = %s",
                [row.prev_hash, row.row_hash, row.hash_key, row.pk],
            )
        previous = row.row_hash
    raw("UPDATE intake_case SET audit_head = %s WHERE id = %s", [previous, case.pk])


def plain_sha256(row) -> str:
    content = json.dumps(row.chain_content(), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{row._meta.label}|{content}".encode()).hexdigest()


def wrong_key(row) -> str:
    content = json.dumps(row.chain_content(), sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(
        b"a guessed key " * 3, f"{row._meta.label}|{content}".encode(), hashlib.sha256
    ).hexdigest()


@pytest.mark.django_db
@pytest.mark.parametrize("hash_of", [plain_sha256, wrong_key], ids=["plain-sha256", "wrong-key"])
def test_a_chain_recomputed_after_an_edit_is_caught(hash_of):
    case = decided_case_with_addendum()
    decision = Decision.objects.get(case=case)
    raw("UPDATE recommendations_decision SET reason = %s WHERE id = %s", ["Quietly rewritten", decision.pk])

    recompute_from(case, decision.chain_seq, hash_of)

    report = verify()
    assert report.startswith("BROKEN: altered:") and f"Decision {decision.pk}" in report


@pytest.mark.django_db
def test_a_row_downgraded_to_the_unkeyed_scheme_is_caught():
    case = decided_case_with_addendum()
    decision = Decision.objects.get(case=case)
    raw(
        "UPDATE recommendations_decision SET reason = %s, hash_key = '' WHERE id = %s",
        ["Rewritten", decision.pk],
    )
    recompute_from(case, decision.chain_seq, plain_sha256)

    assert verify().startswith("BROKEN: unkeyed:") and f"Decision {decision.pk}" in verify()


@pytest.mark.django_db
def test_a_draft_altered_or_deleted_by_sql_is_caught():
    altered = make_case()
    draft = make_draft(case_id=altered.pk)
    raw("UPDATE recommendations_recommendation SET route = 'intravenous' WHERE id = %s", [draft.pk])
    assert verify().startswith("BROKEN: altered:") and f"Recommendation {draft.pk}" in verify()

    raw("UPDATE recommendations_recommendation SET route = %s WHERE id = %s", [draft.route, draft.pk])
    assert "Audit chains intact" in verify()
    deleted = make_case()
    gone = make_draft(case_id=deleted.pk)
    raw("DELETE FROM recommendations_recommendation WHERE id = %s", [gone.pk])

    assert any(str(p).startswith(f"deleted: case {deleted.pk}") for p in verify_chains())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        lambda case: raw("UPDATE intake_case SET pregnant = true WHERE id = %s", [case.pk]),
        lambda case: Case.objects.filter(pk=case.pk).update(condition_code="M17.0"),
        lambda case: raw("UPDATE intake_case SET status = 'withdrawn' WHERE id = %s", [case.pk]),
        lambda case: raw("UPDATE intake_patient SET family_name = 'Doe' WHERE id = %s", [case.patient_id]),
        lambda case: Patient.objects.filter(pk=case.patient_id).update(birth_date=date(1990, 1, 1)),
        lambda case: Patient.objects.filter(pk=case.patient_id).update(given_name="Someone"),
        lambda case: raw(
            "UPDATE intake_case SET audit_seal = 'test1:' || repeat('é', 64) WHERE id = %s", [case.pk]
        ),
    ],
    ids=[
        *("contraindication-sql", "condition-orm", "status-sql", "name-sql", "birth-date-orm", "name-orm"),
        "non-ascii-seal",
    ],
)
def test_a_clinical_field_or_the_patients_identity_changed_behind_the_services_is_caught(change):
    case = decided_case_with_addendum()
    assert "Audit chains intact" in verify()

    change(case)

    report = verify()
    assert report.startswith(f"BROKEN: altered: case {case.pk}, the case row:"), report


@pytest.mark.django_db
@pytest.mark.parametrize(("seal", "kind"), [("", "unsealed"), ("k9:" + "0" * 64, "unknown key")])
def test_a_seal_emptied_or_naming_a_key_not_held_does_not_hide_a_change(seal, kind):
    case = decided_case_with_addendum()
    raw("UPDATE intake_case SET audit_seal = %s, status = 'withdrawn' WHERE id = %s", [seal, case.pk])
    raw("UPDATE intake_patient SET family_name = 'Doe' WHERE id = %s", [case.patient_id])

    assert verify().startswith(f"BROKEN: {kind}: case {case.pk}, the case row:"), verify()


@pytest.mark.django_db
def test_a_case_without_a_chain_is_caught_made_up_or_emptied():
    emptied = make_case()  # the application opens every case with a chained row
    raw("DELETE FROM intake_caseevent WHERE case_id = %s", [emptied.pk])
    raw(
        "UPDATE intake_case SET audit_head = '', audit_length = 0, audit_seal = '' WHERE id = %s",
        [emptied.pk],
    )
    raw("CREATE TEMP TABLE made_up AS SELECT * FROM intake_case WHERE id = %s", [make_case().pk])
    raw(
        "UPDATE made_up SET id = gen_random_uuid(), number = number + 1000, "
        "audit_head = '', audit_length = 0, audit_seal = ''",
        [],
    )
    raw("INSERT INTO intake_case SELECT * FROM made_up", [])
    made_up = Case.objects.exclude(audit_length__gt=0).exclude(pk=emptied.pk).get()

    problems = [str(problem) for problem in verify_chains()]
    assert sorted(p.partition(",")[0] for p in problems) == sorted(
        f"deleted: case {case.pk}" for case in (emptied, made_up)
    ), problems
    assert "no chained rows" in problems[0]


@pytest.mark.django_db
def test_a_hash_rewritten_with_a_non_ascii_character_is_named_not_a_crash():
    decision = Decision.objects.get(case=decided_case_with_addendum())
    raw(
        "UPDATE recommendations_decision SET row_hash = 'é' || substr(row_hash, 2) WHERE id = %s",
        [decision.pk],
    )

    assert verify().startswith("BROKEN: altered:") and f"Decision {decision.pk}" in verify()
