"""Sandbox partners: the same API, automatic decisions by external_id, and no way across to live data."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from intake.clinical import Answer
from intake.matching import likely_duplicates, search_patients
from intake.models import Case, PartnerNotification, Patient
from intake.selectors import board, case_by_reference
from intake.services import answer_information
from intake.workflow import SYSTEM
from recommendations import analytics, review
from recommendations.models import Decision
from recommendations.sandbox import decide_sandbox_case, sandbox_action, undecided_sandbox_cases
from recommendations.selectors import review_queue
from recommendations.services import make_draft
from tests.factories import make_case, make_partner, make_referral, make_user, referral_body
from tests.support import committed_db, wait_for


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def drafted(partner, external_id: str, **changes) -> Case:
    # The sandbox drafts with rule set v3 and the demo protocols: the knee protocol needs these findings.
    changes = {"findings": {"kl_grade": 2, "conservative_care_months": 6}} | changes
    case = make_referral(partner, external_id=external_id, **changes)
    make_draft(case_id=case.pk)
    return case


@pytest.mark.parametrize(
    ("external_id", "asked_before", "consent", "action"),
    [
        ("approve-1", False, True, "approve"),
        ("AMEND-7", False, True, "amend"),
        ("decline-x", False, True, "decline"),
        ("decline-x", False, False, "decline"),
        ("ask-1", False, True, "ask"),
        ("ask-1", True, True, "approve"),
        ("RF-1001", False, True, "approve"),
        ("approve-1", False, False, "ask"),
    ],
)
def test_the_external_ids_prefix_chooses_what_the_sandbox_does(external_id, asked_before, consent, action):
    assert sandbox_action(external_id, asked_before=asked_before, consent=consent) == action


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("external_id", "outcome", "route"),
    [
        ("approve-1", "approved", "local_injection"),
        # No demo protocol covers intravenous cells for knee osteoarthritis: amend- declines.
        ("amend-1", "declined", "not_recommended"),
        ("decline-1", "declined", "not_recommended"),
    ],
)
def test_a_sandbox_case_is_decided_by_its_prefix_and_signed_as_no_clinician(external_id, outcome, route):
    partner, _ = make_partner(sandbox=True)
    case = drafted(partner, external_id)

    assert decide_sandbox_case(case_id=case.pk) in ("approve", "amend", "decline")

    decision = Decision.objects.get(case=case)
    assert (decision.outcome, decision.route) == (outcome, route)
    assert decision.signed_credentials == "not a clinical decision"
    assert not decision.decided_by.is_active  # the sandbox's signer cannot sign in
    assert PartnerNotification.objects.get(case=case).event_type == "referral.decided"
    assert decide_sandbox_case(case_id=case.pk) is None  # a second run changes nothing


@pytest.mark.django_db
def test_ask_asks_once_and_the_answer_leads_to_a_decision():
    partner, _ = make_partner(sandbox=True)
    case = drafted(partner, "ask-1")

    assert decide_sandbox_case(case_id=case.pk) == "ask"
    case.refresh_from_db()
    assert case.status == "needs_information" and "Sandbox question" in case.open_question

    answer_information(case=case, actor=SYSTEM, answer=Answer("Here it is."))
    make_draft(case_id=case.pk)
    assert decide_sandbox_case(case_id=case.pk) == "approve"
    assert Case.objects.get(pk=case.pk).status == "decided"


@pytest.mark.django_db
def test_without_consent_the_sandbox_asks_for_it_as_a_specialist_would_have_to():
    partner, _ = make_partner(sandbox=True)
    case = drafted(partner, "approve-1", consent_obtained=False)

    assert decide_sandbox_case(case_id=case.pk) == "ask"
    assert "consent" in Case.objects.get(pk=case.pk).open_question


@pytest.mark.django_db
def test_a_live_case_is_never_decided_by_the_sandbox():
    partner, _ = make_partner()
    case = drafted(partner, "approve-1")

    assert decide_sandbox_case(case_id=case.pk) is None
    assert Case.objects.get(pk=case.pk).status == "awaiting_review"


@pytest.mark.django_db
def test_sandbox_cases_stay_off_the_board_the_queue_the_analytics_and_the_patient_search():
    sandbox_partner, _ = make_partner(sandbox=True)
    test_case = drafted(
        sandbox_partner, "RF-1", patient=referral_body()["patient"] | {"family_name": "Sandboxova"}
    )
    decided = drafted(sandbox_partner, "approve-2")
    decide_sandbox_case(case_id=decided.pk)

    assert all(group.count == 0 and group.cases == [] for group in board())
    assert not review_queue(Case.objects.all()).exists()
    assert analytics.agreement().overall.total == 0
    assert search_patients("Sandboxova") == []
    assert case_by_reference(test_case.reference) is None


@pytest.mark.django_db
def test_a_sandbox_patient_and_a_real_patient_are_never_matched():
    live, _ = make_partner()
    sandbox_partner, _ = make_partner(sandbox=True)
    real = make_referral(live, external_id="RF-1").patient

    test = make_referral(sandbox_partner, external_id="RF-1").patient  # the very same person's details

    assert test.pk != real.pk and test.sandbox and not real.sandbox
    details = dict(given_name="Ana", family_name="Silva", birth_date=date(1961, 4, 2))
    assert [m.patient for m in likely_duplicates(**details)] == [real]
    assert [m.patient for m in likely_duplicates(**details, sandbox=True)] == [test]
    assert Patient.objects.count() == 2


@pytest.mark.django_db
def test_keys_say_sandbox_or_live_and_neither_reaches_the_others_referrals():
    live, live_key = make_partner()
    sandbox_partner, sandbox_key = make_partner(sandbox=True)
    live_case = make_referral(live, external_id="RF-1")
    test_case = make_referral(sandbox_partner, external_id="RF-1")

    assert live_key.startswith("live_") and sandbox_key.startswith("sandbox_")
    assert client_for(sandbox_key).get(f"/api/v1/referrals/{live_case.pk}/").status_code == 404
    assert client_for(live_key).get(f"/api/v1/referrals/{test_case.pk}/").status_code == 404
    assert client_for(sandbox_key).get("/api/v1/referrals/").json()["results"][0]["id"] == str(test_case.pk)
    # A key relabelled by hand is refused, whichever way round.
    relabelled = "live_" + sandbox_key.removeprefix("sandbox_")
    assert client_for(relabelled).get("/api/v1/referrals/").status_code == 401
    assert (
        client_for("sandbox_" + live_key.removeprefix("live_")).get("/api/v1/referrals/").status_code == 401
    )


@pytest.mark.django_db
def test_a_real_patient_cannot_be_given_a_sandbox_case():
    sandbox_partner, _ = make_partner(sandbox=True)
    real = make_referral(make_partner()[0], external_id="RF-1").patient

    with pytest.raises(ValidationError, match="sandbox"):
        make_case(patient=real, partner=sandbox_partner, external_id="RF-2")


@pytest.mark.django_db
def test_the_admin_fixes_the_sandbox_flag_once_a_partner_has_referrals(client):
    admin_user = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    partner, _ = make_partner(sandbox=True)
    page = client.get(f"/admin/intake/partner/{partner.pk}/change/").content.decode()
    assert 'name="is_sandbox"' in page

    make_referral(partner, external_id="RF-1")

    page = client.get(f"/admin/intake/partner/{partner.pk}/change/").content.decode()
    assert 'name="is_sandbox"' not in page


@pytest.mark.worker
@committed_db
def test_a_sandbox_referral_goes_through_its_whole_lifecycle_with_its_webhooks(
    celery_worker_process, receiver
):
    # Given a sandbox partner with a webhook endpoint
    endpoint = receiver()
    partner, key = make_partner(sandbox=True, webhook_url=endpoint.url)

    # When it posts a referral whose external_id begins decline-
    response = client_for(key).post(
        "/api/v1/referrals/", referral_body(external_id="decline-42"), format="json"
    )
    assert response.status_code == 201

    # Then the worker drafts it, the sandbox declines it, and the webhook says so, signed
    assert wait_for(lambda: endpoint.received, timeout=40), "no webhook arrived"
    headers, body = endpoint.received[0]
    payload = Webhook(partner.webhook_secret).verify(body, headers)
    assert payload["type"] == "referral.decided"
    assert payload["data"]["decision"]["outcome"] == "declined"
    assert not review.is_specialist(Decision.objects.get().decided_by)


@pytest.mark.django_db
def test_a_sandbox_decision_whose_task_was_lost_is_found_for_the_sweep():
    partner, _ = make_partner(sandbox=True)
    waiting = drafted(partner, "approve-1")
    drafted(make_partner()[0], "approve-1")  # a live case waiting as long
    Case.objects.update(status_changed_at=timezone.now() - timedelta(minutes=10))
    drafted(partner, "approve-2")  # its decision task is still due

    found = undecided_sandbox_cases(older_than=timedelta(minutes=5))

    assert found == [waiting.pk]  # not the live case, not the one whose task is still due


@pytest.mark.django_db
def test_the_desk_does_not_open_a_sandbox_partners_test_case_or_patient(client):
    client.force_login(make_user(group="Front desk"))
    test_case = make_referral(make_partner(sandbox=True)[0], external_id="RF-1")

    pages = [
        f"/desk/cases/{test_case.pk}/",
        f"/desk/cases/{test_case.pk}/status/",
        f"/desk/cases/{test_case.pk}/print/",
        f"/desk/patients/{test_case.patient_id}/intake/",
    ]

    assert [client.get(page).status_code for page in pages] == [404] * 4
    assert client.post(f"/desk/cases/{test_case.pk}/withdraw/", {"reason": "x"}).status_code == 404
    assert Case.objects.get(pk=test_case.pk).status == "received"
