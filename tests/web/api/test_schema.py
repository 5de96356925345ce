"""The OpenAPI schema is valid, states the contract's names, and matches real responses."""

import copy
from io import StringIO

import pytest
from django.core.management import call_command

from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_partner, make_user
from tests.web.api.test_referrals import BODY


def test_the_schema_is_valid_openapi_without_warnings():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert out.getvalue().startswith("openapi: 3")


@pytest.mark.django_db
def test_the_schema_and_docs_are_public_and_use_no_cdn(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    docs = client.get("/api/docs/").content.decode()

    assert {
        "/api/v1/referrals/",
        "/api/v1/referrals/{id}/",
        "/api/v1/referrals/{id}/information/",
        "/api/v1/referrals/{id}/withdraw/",
        "/api/v1/conditions/",
        "/api/v1/body-sites/",
        "/api/v1/findings/",
        "/api/v1/events/",
        "/api/v1/webhook-deliveries/",
        "/api/v1/webhook-deliveries/{id}/resend",
        "/api/v1/webhooks/test",
    } <= set(schema["paths"])
    assert schema["paths"]["/api/v1/events/"]["get"]["operationId"] == "listEvents"
    referral = schema["components"]["schemas"]["ReferralRequest"]["properties"]
    assert set(referral) == {
        "external_id",
        "patient",
        "condition",
        "affected_sites",
        "contraindications",
        "consent_obtained",
        "goals",
        "notes",
        # rule set v3 and priority: optional members the contract grew (consent_obtained became optional)
        "consent",
        "findings",
        "additional_conditions",
        "priority",
    }
    required = set(schema["components"]["schemas"]["ReferralRequest"]["required"])
    assert required == {"external_id", "patient", "condition", "affected_sites", "contraindications"}
    assert "/static/drf_spectacular_sidecar/" in docs
    assert "cdn" not in docs.lower()


def test_real_responses_match_the_schema(api_schema):
    _, key = make_partner()
    auth = {"Authorization": f"Api-Key {key}"}

    def checked(path: str, method: str, **kwargs):
        case = api_schema[path][method].Case(headers=auth, **kwargs)
        response = case.call()
        case.validate_response(response)  # raises with the difference when they do not match
        return response

    created = checked("/api/v1/referrals/", "POST", body=BODY).json()
    bad = copy.deepcopy(BODY) | {"external_id": "X", "affected_sites": ["nose"]}
    assert checked("/api/v1/referrals/", "POST", body=bad).status_code == 400
    assert checked("/api/v1/referrals/", "POST", body=BODY).status_code == 409
    make_draft(case_id=created["id"])
    review.approve_draft(case_id=created["id"], user=make_user(group="Specialists"))
    decided = checked("/api/v1/referrals/{id}/", "GET", path_parameters={"id": created["id"]}).json()
    assert decided["decision"]["outcome"] == "approved"
    assert checked("/api/v1/referrals/", "GET").status_code == 200
    assert checked("/api/v1/conditions/", "GET", query={"search": "knee"}).status_code == 200
    assert checked("/api/v1/body-sites/", "GET").status_code == 200
    withdraw = api_schema["/api/v1/referrals/{id}/withdraw/"]["POST"].Case(
        headers=auth, path_parameters={"id": created["id"]}, body={"reason": "late"}
    )
    response = withdraw.call()
    withdraw.validate_response(response)
    assert response.status_code == 409
