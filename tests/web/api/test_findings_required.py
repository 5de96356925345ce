"""GET /api/v1/findings/?condition=CODE marks the findings an active, effective protocol listing the
code requires (rule set v3, rule 4), so a partner can send them with the referral and not be asked."""

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from clinic.web.api import throttle
from intake.vocabulary.findings import FINDINGS
from recommendations.models import Protocol
from tests.factories import make_demo_protocols, make_partner

URL = "/api/v1/findings/"


@pytest.fixture(autouse=True)
def fresh_throttle():
    throttle.store(settings.CACHE_URL).reset()


@pytest.fixture
def client() -> APIClient:
    _, key = make_partner()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return api


def required_for(client: APIClient, code: str) -> set[str]:
    response = client.get(URL, {"condition": code})
    assert response.status_code == 200, response.content
    listed = response.json()
    assert [item["key"] for item in listed] == [finding.key for finding in FINDINGS]
    assert all(isinstance(item["required"], bool) for item in listed)
    return {item["key"] for item in listed if item["required"]}


@pytest.mark.django_db
def test_a_demo_protocol_marks_what_it_requires(client):
    make_demo_protocols()

    assert required_for(client, "M17.11") == {"kl_grade", "conservative_care_months"}
    assert required_for(client, "m16.12") == {"kl_grade", "conservative_care_months"}
    assert required_for(client, "I50.22") == {"lvef_percent", "nyha_class"}


@pytest.mark.django_db
def test_a_code_no_protocol_lists_requires_nothing(client):
    make_demo_protocols()

    assert required_for(client, "G35") == set()
    # Listed by the approved-product protocol, which requires no finding.
    assert required_for(client, "D89.810") == set()
    # A sibling of a listed code is not listed: I50.22 is, I50.23 is not.
    assert required_for(client, "I50.23") == set()


@pytest.mark.django_db
def test_an_inactive_protocol_requires_nothing(client):
    make_demo_protocols()
    Protocol.objects.filter(protocol_id="knee-oa-bmac").update(active=False)

    assert required_for(client, "M17.11") == set()
    assert required_for(client, "M16.12") == {"kl_grade", "conservative_care_months"}


@pytest.mark.django_db
def test_a_protocol_not_effective_where_the_clinic_is_requires_nothing(client, settings):
    # Florida without its configured notice: only FDA-authorised bases (here the IND) stay effective.
    settings.CLINIC_JURISDICTION = "FL"
    settings.CLINIC_STATE_NOTICE_VERSION = ""
    make_demo_protocols()

    assert required_for(client, "M17.11") == set()
    assert required_for(client, "I50.22") == {"lvef_percent", "nyha_class"}


@pytest.mark.django_db
def test_without_a_condition_the_list_is_as_before(client):
    make_demo_protocols()

    listed = client.get(URL).json()

    assert [item["key"] for item in listed] == [finding.key for finding in FINDINGS]
    assert not any("required" in item for item in listed)


@pytest.mark.django_db
def test_a_code_outside_icd10cm_is_a_field_error(client):
    make_demo_protocols()

    for code in ("M17.7", "knee", ""):
        response = client.get(URL, {"condition": code})
        assert response.status_code == 400, code
        assert response["Content-Type"] == "application/problem+json"
        errors = {error["pointer"]: error["detail"] for error in response.json()["errors"]}
        assert list(errors) == ["#/condition"]
        assert code != "M17.7" or "not a code in ICD-10-CM" in errors["#/condition"]


def test_the_marked_list_matches_the_schema(api_schema):
    make_demo_protocols()
    _, key = make_partner()
    auth = {"Authorization": f"Api-Key {key}"}

    for query in ({"condition": "M17.11"}, {}):
        case = api_schema["/api/v1/findings/"]["GET"].Case(headers=auth, query=query)
        response = case.call()
        case.validate_response(response)
        assert response.status_code == 200
