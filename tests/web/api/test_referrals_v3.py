"""Rule set v3's members of the partner JSON API: findings, additional conditions, the consent
object (and its either-or rule with `consent_obtained`), breastfeeding, priority, the answer that
merges them, `needs` while a referral waits for an answer, and the findings and body-site lists."""

import copy
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from clinic.web.api import throttle
from intake.clinical import validate_v3_intake
from intake.models import Case, Priority
from intake.vocabulary.findings import FINDINGS
from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_partner, make_user, referral_body

URL = "/api/v1/referrals/"


@pytest.fixture(autouse=True)
def fresh_throttle():
    throttle.store(settings.CACHE_URL).reset()


def partner_client() -> APIClient:
    _, key = make_partner()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return api


@pytest.fixture
def client() -> APIClient:
    """A partner's API client (it stands in for pytest-django's `client` in this module)."""
    return partner_client()


def body(*, without: tuple[str, ...] = (), **changes) -> dict:
    data = copy.deepcopy(referral_body()) | changes
    for name in without:
        data.pop(name)
    return data


def errors_of(response) -> dict[str, str]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    return {error["pointer"]: error["detail"] for error in response.json()["errors"]}


def created_case(response) -> Case:
    assert response.status_code == 201, response.content
    return Case.objects.get(pk=response.json()["id"])


def asked(client: APIClient, data: dict, *, question: str = "Which knee?") -> str:
    """A referral drafted and then asked about by a specialist: its id."""
    case_id = created_case(client.post(URL, data, format="json")).pk
    make_draft(case_id=case_id)
    review.request_information(case_id=case_id, user=make_user(group="Specialists"), question=question)
    return str(case_id)


# --- a new referral: each member accepted and stored -----------------------------------------


def minor_without_guardian_consent() -> dict:
    """A 12-year-old whose body says only `consent_obtained: true`: under rule set v3 that is not
    a minor's consent, so the draft asks who gave it."""
    data = body()
    data["patient"]["birth_date"] = date(timezone.localdate().year - 12, 1, 1).isoformat()
    return data


@pytest.mark.django_db
def test_findings_additional_conditions_consent_breastfeeding_and_priority_are_stored(client):
    data = body(
        without=("consent_obtained",),
        findings={"kl_grade": 3, "imaging_date": "2026-01-15", "edss": 3.5, "anticoagulant": "apixaban"},
        additional_conditions=[{"icd10": "m17.12", "description": "Left knee too"}, {"icd10": "E11.9"}],
        consent={"obtained": True, "by": "guardian", "form_version": "2026-03", "assent": True},
        priority="urgent",
    )
    data["contraindications"] |= {"anticoagulant_therapy": True, "breastfeeding": False}

    case = created_case(client.post(URL, data, format="json"))

    assert case.findings == {
        "kl_grade": 3,
        "imaging_date": "2026-01-15",
        "edss": 3.5,
        "anticoagulant": "apixaban",
    }
    assert case.additional_conditions == [
        {"icd10": "M17.12", "description": "Left knee too"},
        {"icd10": "E11.9", "description": ""},
    ]
    assert (case.consent_obtained, case.consent_by, case.consent_form_version, case.assent) == (
        True,
        "guardian",
        "2026-03",
        True,
    )
    assert (case.breastfeeding, case.priority) == (False, Priority.URGENT)


@pytest.mark.django_db
def test_an_existing_body_still_works_and_means_consent_by_the_patient(client):
    case = created_case(client.post(URL, body(without=("findings",)), format="json"))

    assert (case.consent_obtained, case.consent_by, case.assent, case.breastfeeding) == (
        True,
        "patient",
        None,
        None,
    )
    assert (case.findings, case.additional_conditions, case.priority) == ({}, [], Priority.ROUTINE)


@pytest.mark.django_db
def test_urgent_referrals_come_first_in_the_queue(client):
    routine = created_case(client.post(URL, body(external_id="RF-1"), format="json"))
    urgent = created_case(client.post(URL, body(external_id="RF-2", priority="urgent"), format="json"))

    assert list(Case.objects.filter(pk__in=[routine.pk, urgent.pk])) == [urgent, routine]
    assert errors_of(client.post(URL, body(external_id="RF-3", priority="asap"), format="json")).keys() == {
        "#/priority"
    }


# --- errors, each at its pointer, in the service's own words --------------------------------


@pytest.mark.django_db
def test_each_bad_finding_is_named_by_its_key_in_the_services_words(client):
    findings = {
        "kl_grade": 5,
        "pain_nrs": "7",
        "bmi": 31,
        "imaging_date": (timezone.localdate() + timedelta(days=1)).isoformat(),
        "koos_jr": None,
        "edss": 3.2,
        "anticoagulant": "warfarin",  # while the answer on anticoagulant therapy is no
    }

    errors = errors_of(client.post(URL, body(findings=findings), format="json"))

    with pytest.raises(ValidationError) as service:
        validate_v3_intake(
            condition_code="M17.11",
            findings=findings,
            additional_conditions=None,
            consent_obtained=True,
            consent_by="",
            anticoagulant_therapy=False,
            today=timezone.localdate(),
        )
    assert errors == {f"#/{key.replace('.', '/')}": m[0] for key, m in service.value.message_dict.items()}
    assert set(errors) == {f"#/findings/{key}" for key in findings}
    assert "outside the range" in errors["#/findings/kl_grade"]
    assert "GET /api/v1/findings/" in errors["#/findings/bmi"]
    assert "correct one of the two" in errors["#/findings/anticoagulant"]
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_findings_must_be_an_object(client):
    assert errors_of(client.post(URL, body(findings=[1]), format="json")).keys() == {"#/findings"}


@pytest.mark.django_db
def test_additional_conditions_are_real_codes_given_once(client):
    conditions = [
        {"icd10": "E11.9"},
        {"icd10": "knee"},
        {"icd10": "e11.9"},  # a repeat
        {"icd10": "M17.11"},  # the main condition
        {"description": "no code"},
    ]

    errors = errors_of(client.post(URL, body(additional_conditions=conditions), format="json"))

    assert set(errors) == {f"#/additional_conditions/{n}/icd10" for n in (1, 2, 3, 4)}
    assert "already given" in errors["#/additional_conditions/2/icd10"]
    assert "already given" in errors["#/additional_conditions/3/icd10"]
    six = [{"icd10": code} for code in ("E11.9", "I10", "J45.909", "K21.9", "N18.3", "G35")]
    assert set(errors_of(client.post(URL, body(additional_conditions=six), format="json"))) == {
        "#/additional_conditions"
    }


@pytest.mark.django_db
def test_errors_of_the_old_fields_and_the_new_ones_come_together(client):
    data = body(findings={"kl_grade": 9})
    data["patient"]["birth_date"] = "02/04/1961"

    assert set(errors_of(client.post(URL, data, format="json"))) == {
        "#/patient/birth_date",
        "#/findings/kl_grade",
    }


# --- consent: the object, and the either-or rule with consent_obtained ------------------------


@pytest.mark.django_db
def test_consent_alone_or_consent_obtained_alone_is_enough(client):
    by_object = created_case(
        client.post(
            URL,
            body(external_id="A", without=("consent_obtained",), consent={"obtained": False, "by": None}),
            format="json",
        )
    )
    by_flag = created_case(client.post(URL, body(external_id="B", consent_obtained=False), format="json"))

    assert (by_object.consent_obtained, by_object.consent_by) == (False, "")
    assert (by_flag.consent_obtained, by_flag.consent_by) == (False, "")


@pytest.mark.django_db
def test_a_body_sends_at_least_one_of_the_two(client):
    errors = errors_of(client.post(URL, body(without=("consent_obtained",)), format="json"))

    assert set(errors) == {"#/consent_obtained"}
    assert "`consent`" in errors["#/consent_obtained"]


@pytest.mark.django_db
@pytest.mark.parametrize("flag", [True, False])
def test_both_must_agree_on_obtained(client, flag):
    consent = {"obtained": not flag, "by": "patient" if not flag else None}

    errors = errors_of(client.post(URL, body(consent_obtained=flag, consent=consent), format="json"))

    assert set(errors) == {"#/consent_obtained", "#/consent/obtained"}
    agreed = {"obtained": True, "by": "legal_representative", "form_version": "v7"}
    case = created_case(client.post(URL, body(consent_obtained=True, consent=agreed), format="json"))
    assert (case.consent_by, case.consent_form_version) == ("legal_representative", "v7")


@pytest.mark.django_db
def test_who_consented_is_required_when_obtained_and_nobody_when_not(client):
    no_one = body(without=("consent_obtained",), consent={"obtained": True})
    somebody = body(without=("consent_obtained",), consent={"obtained": False, "by": "guardian"})
    stranger = body(without=("consent_obtained",), consent={"obtained": True, "by": "neighbour"})
    long_form = body(
        without=("consent_obtained",), consent={"obtained": True, "by": "patient", "form_version": "v" * 33}
    )

    assert "Say who gave consent" in errors_of(client.post(URL, no_one, format="json"))["#/consent/by"]
    assert "leave “by” empty" in errors_of(client.post(URL, somebody, format="json"))["#/consent/by"]
    assert "neighbour" in errors_of(client.post(URL, stranger, format="json"))["#/consent/by"]
    assert set(errors_of(client.post(URL, long_form, format="json"))) == {"#/consent/form_version"}
    assent = body(
        without=("consent_obtained",), consent={"obtained": True, "by": "guardian", "assent": "yes"}
    )
    assert set(errors_of(client.post(URL, assent, format="json"))) == {"#/consent/assent"}


@pytest.mark.django_db
def test_breastfeeding_is_an_optional_answer_but_only_true_or_false(client):
    data = body()
    data["contraindications"]["breastfeeding"] = "no"

    assert set(errors_of(client.post(URL, data, format="json"))) == {"#/contraindications/breastfeeding"}


# --- answering a question --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_findings_list_is_published(client, no_demo_protocols):
    response = client.get("/api/v1/findings/")

    assert response.status_code == 200
    findings = {item["key"]: item for item in response.json()}
    assert list(findings) == [finding.key for finding in FINDINGS]
    assert findings["kl_grade"] | {"label": None} == {
        "key": "kl_grade",
        "label": None,
        "type": "integer",
        "unit": None,
        "min": 0,
        "max": 4,
        "step": 1,
        "values": None,
        "loinc": None,
        "deprecated": False,
    }
    assert (findings["edss"]["step"], findings["edss"]["values"][:3]) == (None, [0, 1.0, 1.5])
    assert findings["pain_nrs"]["loinc"] == "72514-3"
    assert findings["egfr_ckd_epi_2021"]["unit"] == "mL/min/{1.73_m2}"
    # With a condition each key also says whether a protocol requires it (none is stored here).
    marked = client.get("/api/v1/findings/", {"condition": "m17.11"}).json()
    assert [item.pop("required") for item in marked] == [False] * len(FINDINGS)
    assert marked == response.json()
    assert set(errors_of(client.get("/api/v1/findings/", {"condition": "knee"}))) == {"#/condition"}


@pytest.mark.django_db
def test_body_sites_name_the_regions_that_hold_them(client):
    sites = {site["code"]: site for site in client.get("/api/v1/body-sites/").json()}

    assert "knee" in sites["left_knee"]["regions"] and "knee" in sites["right_knee"]["regions"]
    assert "knee" not in sites["left_hip"]["regions"]
    assert all(isinstance(site["regions"], list) for site in sites.values())


def test_the_new_members_match_the_schema(api_schema, settings):
    settings.RULESET_LIVE = "v3"
    _, key = make_partner()
    auth = {"Authorization": f"Api-Key {key}"}

    def checked(path: str, method: str, **kwargs):
        case = api_schema[path][method].Case(headers=auth, **kwargs)
        response = case.call()
        case.validate_response(response)  # raises with the difference when they do not match
        return response

    data = minor_without_guardian_consent() | {"findings": {"kl_grade": 2}, "priority": "urgent"}
    data["contraindications"]["breastfeeding"] = None
    created = checked("/api/v1/referrals/", "POST", body=data).json()
    make_draft(case_id=created["id"])
    review.request_information(case_id=created["id"], user=make_user(group="Specialists"), question="Who?")
    waiting = checked("/api/v1/referrals/{id}/", "GET", path_parameters={"id": created["id"]}).json()
    bad = data | {"external_id": "RF-2", "findings": {"kl_grade": 7}}

    assert waiting["needs"]["consent_by"] == ["guardian", "legal_representative"]
    assert checked("/api/v1/referrals/", "GET", query={"status": "needs_information"}).status_code == 200
    assert checked("/api/v1/referrals/", "POST", body=bad).status_code == 400
    assert checked("/api/v1/findings/", "GET").status_code == 200
    assert checked("/api/v1/findings/", "GET", query={"condition": "knee"}).status_code == 400
    assert checked("/api/v1/body-sites/", "GET").status_code == 200
    answer = {"answer": "Her father signed", "consent": {"obtained": True, "by": "guardian"}}
    assert (
        checked(
            "/api/v1/referrals/{id}/information/", "POST", path_parameters={"id": created["id"]}, body=answer
        ).status_code
        == 200
    )


@pytest.mark.django_db
def test_the_findings_list_is_for_partners_and_signed_in_staff_only():
    desk = APIClient()
    desk.force_login(make_user(group="Front desk"))
    no_role = APIClient()
    no_role.force_login(make_user())

    assert APIClient().get("/api/v1/findings/").status_code == 401
    assert desk.get("/api/v1/findings/").status_code == 200
    assert no_role.get("/api/v1/findings/").status_code == 403
