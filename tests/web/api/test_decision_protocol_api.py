"""Partners read the protocol a decision is made under: in the referral, in the decided webhook and in
the OpenAPI schema (DESIGN.md, "Partner API v1": `decision.protocol`)."""

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from clinic.web.api import throttle
from intake.models import PartnerNotification
from recommendations import review
from recommendations.protocols import save_protocol
from recommendations.services import make_draft
from tests.factories import make_demo_protocols, make_partner, make_referral, make_user

KNEE = {"kl_grade": 2, "conservative_care_months": 6}


@pytest.fixture(autouse=True)
def fresh_throttle():
    throttle.store(settings.CACHE_URL).reset()


@pytest.mark.django_db
def test_a_decided_referral_shows_its_protocol_as_signed_and_a_later_version_changes_nothing(settings):
    settings.RULESET_LIVE = "v3"
    protocols = {p.protocol_id: p for p in make_demo_protocols()}
    partner, key = make_partner()
    approved, declined = (make_referral(partner, external_id=f"RF-{n}", findings=KNEE) for n in (1, 2))
    for case in (approved, declined):
        make_draft(case_id=case.pk)
    doctor = make_user(group="Specialists", is_staff=True)
    review.approve_draft(case_id=approved.pk, user=doctor)
    review.decline_case(case_id=declined.pk, user=doctor, reason="The patient chose physiotherapy")
    # The clinic then changes the protocol: a new version, which a signed decision never follows.
    knee = protocols["knee-oa-bmac"]
    changed = save_protocol(protocol_id=knee.protocol_id, data=knee.as_dict() | {"title": "Changed"})
    assert changed.version == 2
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")

    read = api.get(f"/api/v1/referrals/{approved.pk}/").json()["decision"]
    declined_read = api.get(f"/api/v1/referrals/{declined.pk}/").json()["decision"]
    webhook = PartnerNotification.objects.get(case=approved).payload["data"]["decision"]

    expected = {
        "id": "knee-oa-bmac",
        "version": 1,
        "title": "EXAMPLE: autologous bone marrow concentrate, intra-articular, knee osteoarthritis",
        "basis": "same_surgical_procedure",
        "reference": knee.reference,
    }
    assert (read["outcome"], read["protocol"]) == ("approved", expected)
    assert webhook["protocol"] == expected
    assert (declined_read["outcome"], declined_read["protocol"]) == ("declined", None)


@pytest.mark.django_db
def test_the_schema_documents_the_decisions_protocol(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]

    decision = schema["DecisionOut"]["properties"]["protocol"]
    protocol = schema["DecisionProtocol"]

    assert "protocol" in schema["DecisionOut"]["required"]
    assert decision.get("nullable") or {"type": "null"} in decision.get("oneOf", decision.get("anyOf", []))
    assert set(protocol["required"]) == {"id", "version", "title", "basis", "reference"}
