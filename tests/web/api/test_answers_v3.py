"""Rule set v3's questions and answers with a partner: what a referral needs while it waits, merged
findings and answers, consent, errors pointing into the answer."""

import pytest
from rest_framework.test import APIClient

from intake.models import Case, CaseStatus, PartnerNotification
from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_user
from tests.web.api.test_referrals_v3 import (  # noqa: F401  (autouse fixtures come along by name)
    URL,
    asked,
    body,
    created_case,
    errors_of,
    fresh_throttle,
    minor_without_guardian_consent,
    partner_client,
)


@pytest.fixture
def client() -> APIClient:
    return partner_client()


@pytest.mark.django_db
def test_an_answer_merges_findings_and_answers_and_replaces_conditions(client):
    case_id = asked(
        client,
        body(findings={"kl_grade": 2, "pain_nrs": 8}, additional_conditions=[{"icd10": "E11.9"}]),
    )

    response = client.post(
        f"{URL}{case_id}/information/",
        {
            "answer": "Imaging graded, pain re-scored, the consent form signed by her guardian",
            "findings": {"pain_nrs": 6, "conservative_care_months": 4},
            "contraindications": {"breastfeeding": False},
            "additional_conditions": [{"icd10": "I10", "description": "Hypertension"}],
            "consent": {"obtained": True, "by": "guardian", "form_version": "2026-03", "assent": True},
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "drafting" and "needs" not in response.json()
    case = Case.objects.get(pk=case_id)
    assert case.findings == {"kl_grade": 2, "pain_nrs": 6, "conservative_care_months": 4}
    assert case.additional_conditions == [{"icd10": "I10", "description": "Hypertension"}]
    assert (case.breastfeeding, case.pregnant) == (False, False)
    assert (case.consent_by, case.consent_form_version, case.assent) == ("guardian", "2026-03", True)


@pytest.mark.django_db
def test_an_answers_older_consent_fields_mean_consent_by_the_patient(client):
    case_id = asked(client, body(consent_obtained=False))

    response = client.post(
        f"{URL}{case_id}/information/",
        {"answer": "Signed today", "consent_obtained": True, "consent_form_version": "v4"},
        format="json",
    )

    assert response.status_code == 200, response.content
    case = Case.objects.get(pk=case_id)
    assert (case.consent_obtained, case.consent_by, case.consent_form_version) == (True, "patient", "v4")


@pytest.mark.django_db
def test_an_answer_saying_consent_was_not_obtained_never_names_who_gave_it(client):
    # Given a case already consented (by the patient), asked a question
    case_id = asked(client, body())

    # When the answer says consent was not obtained, naming a guardian (who refused, say)
    response = client.post(
        f"{URL}{case_id}/information/",
        {"answer": "Her guardian refused", "consent": {"obtained": False, "by": "guardian"}},
        format="json",
    )

    # Then it is refused at the member, and no guardian's consent is recorded
    assert response.status_code == 400
    assert "leave “by” empty" in errors_of(response)["#/consent/by"]
    assert Case.objects.get(pk=case_id).consent_by != "guardian"


@pytest.mark.django_db
def test_an_answers_errors_point_into_the_answer_and_check_the_merged_values(client):
    case_id = asked(client, body(consent_obtained=False, without=("findings",)))
    url = f"{URL}{case_id}/information/"

    bad_finding = client.post(url, {"answer": "x", "findings": {"kl_grade": "II"}}, format="json")
    contradiction = client.post(
        url, {"answer": "x", "findings": {"anticoagulant": "warfarin"}}, format="json"
    )
    nobody_consented = client.post(
        url, {"answer": "x", "consent": {"obtained": False, "by": "guardian"}}, format="json"
    )
    disagree = client.post(
        url, {"answer": "x", "consent_obtained": True, "consent": {"obtained": False}}, format="json"
    )
    repeated = client.post(
        url, {"answer": "x", "additional_conditions": [{"icd10": "M17.11"}]}, format="json"
    )

    assert set(errors_of(bad_finding)) == {"#/findings/kl_grade"}
    assert set(errors_of(contradiction)) == {"#/findings/anticoagulant"}  # the case's answer is no
    assert set(errors_of(nobody_consented)) == {"#/consent/by"}
    assert set(errors_of(disagree)) == {"#/consent_obtained", "#/consent/obtained"}
    assert set(errors_of(repeated)) == {"#/additional_conditions/0/icd10"}
    assert Case.objects.get(pk=case_id).status == CaseStatus.NEEDS_INFORMATION
    # The same finding with the answer corrected in the same answer is consistent.
    both = client.post(
        url,
        {
            "answer": "On warfarin",
            "findings": {"anticoagulant": "warfarin"},
            "contraindications": {"anticoagulant_therapy": True},
        },
        format="json",
    )
    assert both.status_code == 200, both.content
    case = Case.objects.get(pk=case_id)
    assert (case.findings, case.anticoagulant_therapy) == ({"anticoagulant": "warfarin"}, True)


# --- needs, while a referral waits for an answer ---------------------------------------------


@pytest.mark.django_db
def test_needs_are_shown_only_while_the_referral_waits_for_an_answer(client, settings):
    settings.RULESET_LIVE = "v3"
    created = created_case(client.post(URL, minor_without_guardian_consent(), format="json"))
    make_draft(case_id=created.pk)
    drafted = client.get(f"{URL}{created.pk}/").json()
    review.request_information(
        case_id=created.pk, user=make_user(group="Specialists"), question="Who signed the consent form?"
    )

    detail = client.get(f"{URL}{created.pk}/").json()
    listed = client.get(URL, {"status": "needs_information"}).json()["results"]
    event = PartnerNotification.objects.get(case=created, event_type="referral.needs_information")

    assert "needs" not in drafted
    assert detail["needs"] == {
        "findings": [],
        "consent_by": ["guardian", "legal_representative"],
        "assent": None,
        "sites_without_condition": [],
        "sites_on_wrong_side": [],
        "sites": False,
        "histology": False,
        "protocols": [],
        "cancer_treatment_ended": False,
    }
    assert [item["needs"] for item in listed] == [detail["needs"]]
    assert event.payload["data"]["needs"] == detail["needs"]
    assert not {"route", "rules", "flags", "notice"} & (set(detail) | set(detail["needs"]))

    answered = client.post(
        f"{URL}{created.pk}/information/",
        {"answer": "Her mother signed", "consent": {"obtained": True, "by": "guardian"}},
        format="json",
    )
    assert answered.status_code == 200 and "needs" not in answered.json()
    assert Case.objects.get(pk=created.pk).consent_by == "guardian"


@pytest.mark.django_db
def test_a_specialists_own_question_needs_nothing_listed(client):
    case_id = asked(client, body(), question="Has she had an injection in this knee before?")

    needs = client.get(f"{URL}{case_id}/").json()["needs"]

    assert needs == {
        "findings": [],
        "consent_by": None,
        "assent": None,
        "sites_without_condition": [],
        "sites_on_wrong_side": [],
        "sites": False,
        "histology": False,
        "protocols": [],
        "cancer_treatment_ended": False,
    }


# --- the published lists ---------------------------------------------------------------------
