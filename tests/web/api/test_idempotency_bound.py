"""An Idempotency-Key belongs to one request (DESIGN.md, "Partner API v1"): the same method, path
and body again replay the first answer; the key with another path or body is a 422
`idempotency-key-reused`; while the first runs, a 409 `idempotency-in-flight`. Every partner POST
the schema lists is in ROUTES below, so a new one cannot skip the mechanism."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from clinic.aftercare.models import AdverseEvent, AdverseEventChange
from clinic.web.api import throttle
from intake.idempotency import fingerprint, request_hash
from intake.models import Case, CaseEvent, IdempotencyRecord, Partner, PartnerNotification
from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_partner, make_referral, make_user, referral_body
from tests.web.api.test_adverse_events_api import report_body, reported, treated_referral
from tests.web.fhir.examples import knee_referral_bundle
from tests.web.fhir.test_fhir_adverse_event_door import fhir_report

FHIR_JSON = "application/fhir+json"
PROBLEMS = "https://clinic.example.org/problems/"
KEY_REUSED, IN_FLIGHT = PROBLEMS + "idempotency-key-reused", PROBLEMS + "idempotency-in-flight"
ANSWER = "Only the right knee, since March."
AE_KEY = {"system": "https://clinic.example.org/fhir/partner-adverse-event-id", "value": "AE-key"}
REASON = "The patient chose another clinic."


@pytest.fixture(autouse=True)
def fresh_throttle():
    throttle.store(settings.CACHE_URL).reset()


@pytest.fixture(autouse=True)
def _infusion_covered(knee_infusion_protocol):
    """Specialists here may amend knee drafts, which rule set v3 takes under a protocol."""


def asked(partner: Partner, external_id: str) -> Case:
    """A referral on which a specialist has asked a question."""
    case = make_referral(partner, external_id=external_id)
    make_draft(case_id=case.pk)
    review.request_information(case_id=case.pk, user=make_user(group="Specialists"), question="Which knee?")
    return case


def decided(partner: Partner) -> PartnerNotification:
    case = make_referral(partner, external_id="RF-decided")
    make_draft(case_id=case.pk)
    review.approve_draft(case_id=case.pk, user=make_user(group="Specialists"))
    return PartnerNotification.objects.get(case=case)


def notes(case_id, text: str) -> int:
    return CaseEvent.objects.filter(case_id=case_id, note__startswith=text).count()


@dataclass(frozen=True)
class Route:
    """A partner POST: how to make what it acts on, its body, and how many times it acted."""

    path: str  # the schema's spelling; `{id}` filled from what `setup` returns
    setup: Callable[[Partner], dict]
    body: Callable[[dict], object]  # None: the POST has no body
    acted: Callable[[Partner, dict], int]
    fhir: bool = False


ROUTES = {
    "/api/v1/referrals/": Route(
        "/api/v1/referrals/",
        lambda partner: {},
        lambda ctx: referral_body(external_id="RF-key"),
        lambda partner, ctx: Case.objects.filter(partner=partner, external_id="RF-key").count(),
    ),
    "/api/v1/referrals/{id}/information/": Route(
        "/api/v1/referrals/{id}/information/",
        lambda partner: {"id": asked(partner, "RF-asked").pk},
        lambda ctx: {"answer": ANSWER},
        lambda partner, ctx: notes(ctx["id"], f"Answer: {ANSWER}"),
    ),
    "/api/v1/referrals/{id}/withdraw/": Route(
        "/api/v1/referrals/{id}/withdraw/",
        lambda partner: {"id": make_referral(partner, external_id="RF-open").pk},
        lambda ctx: {"reason": REASON},
        lambda partner, ctx: notes(ctx["id"], REASON),
    ),
    "/api/v1/fhir/ServiceRequest": Route(
        "/api/v1/fhir/ServiceRequest",
        lambda partner: {},
        lambda ctx: knee_referral_bundle(),
        lambda partner, ctx: Case.objects.filter(partner=partner).count(),
        fhir=True,
    ),
    "/api/v1/fhir/Communication": Route(
        "/api/v1/fhir/Communication",
        lambda partner: {"id": asked(partner, "RF-asked").pk},
        lambda ctx: {
            "resourceType": "Communication",
            "status": "completed",
            "basedOn": [{"reference": f"ServiceRequest/{ctx['id']}"}],
            "payload": [{"contentString": ANSWER}],
        },
        lambda partner, ctx: notes(ctx["id"], f"Answer: {ANSWER}"),
        fhir=True,
    ),
    "/api/v1/fhir/Task": Route(
        "/api/v1/fhir/Task",
        lambda partner: {"id": make_referral(partner, external_id="RF-open").pk},
        lambda ctx: {
            "resourceType": "Task",
            "status": "requested",
            "intent": "order",
            "code": {"coding": [{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "abort"}]},
            "focus": {"reference": f"ServiceRequest/{ctx['id']}"},
            "reasonCode": {"text": REASON},
        },
        lambda partner, ctx: notes(ctx["id"], REASON),
        fhir=True,
    ),
    "/api/v1/referrals/{id}/adverse-events/": Route(
        "/api/v1/referrals/{id}/adverse-events/",
        treated_referral,
        lambda ctx: report_body("AE-key"),
        lambda partner, ctx: AdverseEvent.objects.filter(partner=partner, external_id="AE-key").count(),
    ),
    "/api/v1/referrals/{id}/adverse-events/{ae_id}/updates/": Route(
        "/api/v1/referrals/{id}/adverse-events/{ae_id}/updates/",
        reported,
        lambda ctx: {"external_id": "U-key", "outcome": "resolved"},
        lambda partner, ctx: AdverseEventChange.objects.filter(external_id="U-key").count(),
    ),
    "/api/v1/fhir/AdverseEvent": Route(
        "/api/v1/fhir/AdverseEvent",
        treated_referral,
        lambda ctx: fhir_report(f"ServiceRequest/{ctx['id']}", identifier=AE_KEY),
        lambda partner, ctx: AdverseEvent.objects.filter(partner=partner, external_id="AE-key").count(),
        fhir=True,
    ),
    "/api/v1/webhook-deliveries/{id}/resend": Route(
        "/api/v1/webhook-deliveries/{id}/resend",
        lambda partner: {"id": decided(partner).pk},
        lambda ctx: None,
        # Each resend puts the delivery back in the queue, due now; once sent it is pending no more.
        lambda partner, ctx: PartnerNotification.objects.filter(pk=ctx["id"], state="pending").count(),
    ),
    "/api/v1/webhooks/test": Route(
        "/api/v1/webhooks/test",
        lambda partner: {},
        lambda ctx: None,
        lambda partner, ctx: PartnerNotification.objects.filter(partner=partner, event_type="ping").count(),
    ),
    "/api/v1/webhooks/rotate-secret": Route(
        "/api/v1/webhooks/rotate-secret",
        lambda partner: {"secret": partner.webhook_secret},
        lambda ctx: {"overlap_hours": 1},
        # Rotated once: the secret it started with is the one still signing beside the new.
        lambda partner, ctx: int(Partner.objects.get(pk=partner.pk).previous_webhook_secret == ctx["secret"]),
    ),
}


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def send(client: APIClient, path: str, body, *, fhir: bool = False, key: str | None = None):
    headers = {"Idempotency-Key": key} if key else {}
    if body is None:
        return client.post(path, headers=headers)
    content_type = FHIR_JSON if fhir else "application/json"
    return client.post(path, json.dumps(body), content_type=content_type, headers=headers)


def other_spelling(path: str) -> str:
    return path.removesuffix("/") if path.endswith("/") else path + "/"


def refused_as_reused(response) -> None:
    assert response.status_code == 422, response.content
    body = response.json()
    if response["Content-Type"] == FHIR_JSON:
        (issue,) = body["issue"]
        assert issue["code"] == "business-rule"
        assert issue["details"]["coding"][0]["code"] == "idempotency-key-reused"
    else:
        assert response["Content-Type"] == "application/problem+json"
        assert body["type"] == KEY_REUSED


@pytest.mark.django_db
def test_the_table_names_every_partner_post_the_schema_lists(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    posts = {path for path, operations in schema["paths"].items() if "post" in operations}

    assert posts == set(ROUTES)
    for path in posts:
        names = [p["name"] for p in schema["paths"][path]["post"].get("parameters", [])]
        assert "Idempotency-Key" in names, path  # documented on every one


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(ROUTES))
def test_a_key_replays_its_own_request_and_refuses_any_other(name, receiver):
    route = ROUTES[name]
    partner, key = make_partner(webhook_url=receiver().url)
    ctx = route.setup(partner)
    path, body, client = route.path.format(**ctx), route.body(ctx), client_for(key)
    other = "/api/v1/fhir/ServiceRequest" if name == "/api/v1/referrals/" else "/api/v1/referrals/"
    referrals_before = Case.objects.filter(partner=partner).count()

    first = send(client, path, body, fhir=route.fhir, key="k-1")
    again = send(client, other_spelling(path), body, fhir=route.fhir, key="k-1")
    elsewhere = send(client, other, body, fhir=other.startswith("/api/v1/fhir/"), key="k-1")
    changed = send(client, path, {"changed": True}, fhir=route.fhir, key="k-1")

    assert 200 <= first.status_code < 300, first.content
    assert "Idempotent-Replayed" not in first
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert again["Content-Type"] == first["Content-Type"]
    refused_as_reused(elsewhere)
    refused_as_reused(changed)
    assert route.acted(partner, ctx) == 1
    # The refused request did nothing where it was sent either.
    created_here = 1 if name in ("/api/v1/referrals/", "/api/v1/fhir/ServiceRequest") else 0
    assert Case.objects.filter(partner=partner).count() == referrals_before + created_here


@pytest.mark.django_db
def test_the_json_doors_referral_is_not_replayed_on_the_fhir_door():
    """The issue's own report: the same key and body at the FHIR door got the JSON door's 201."""
    partner, key = make_partner()
    body = referral_body(external_id="RF-1")

    json_door = send(client_for(key), "/api/v1/referrals/", body, key="same")
    fhir_door = send(client_for(key), "/api/v1/fhir/ServiceRequest", body, fhir=True, key="same")

    assert json_door.status_code == 201
    refused_as_reused(fhir_door)
    assert fhir_door["Content-Type"] == FHIR_JSON and "Idempotent-Replayed" not in fhir_door
    assert Case.objects.filter(partner=partner).count() == 1


@pytest.mark.django_db
def test_an_expired_key_runs_again():
    partner, key = make_partner()
    client = client_for(key)
    first = send(client, "/api/v1/referrals/", referral_body(external_id="RF-1"), key="old")
    IdempotencyRecord.objects.filter(key="old").update(
        expires_at=timezone.now() - timezone.timedelta(seconds=1)
    )

    same = send(client, "/api/v1/referrals/", referral_body(external_id="RF-1"), key="old")
    IdempotencyRecord.objects.filter(key="old").update(
        expires_at=timezone.now() - timezone.timedelta(seconds=1)
    )
    other = send(client, "/api/v1/referrals/", referral_body(external_id="RF-2"), key="old")

    assert first.status_code == 201
    # Run, not replayed: the referral exists, so this time the answer names it.
    assert same.status_code == 409 and "Idempotent-Replayed" not in same
    assert same.json()["type"] == PROBLEMS + "duplicate-referral"
    assert same.json()["referral_id"] == first.json()["id"]
    assert other.status_code == 201  # another body under an expired key is a new request
    assert Case.objects.filter(partner=partner).count() == 2
    assert IdempotencyRecord.objects.filter(key="old").count() == 1
    assert settings.IDEMPOTENCY_KEY_TTL_HOURS == 24


@pytest.mark.django_db
def test_a_key_stored_before_keys_were_bound_still_replays_its_retry():
    """Keys stored by the release before hold the body's hash alone; for their last 24 hours a
    retry of the same body still gets the stored answer rather than a 422."""
    partner, key = make_partner()
    body = referral_body(external_id="RF-1")
    first = send(client_for(key), "/api/v1/referrals/", body, key="legacy")
    IdempotencyRecord.objects.filter(key="legacy").update(request_hash=request_hash(body))

    again = send(client_for(key), "/api/v1/referrals", body, key="legacy")
    other = send(client_for(key), "/api/v1/referrals/", referral_body(external_id="RF-2"), key="legacy")

    assert (again.status_code, again.json()) == (201, first.json())
    assert again["Idempotent-Replayed"] == "true"
    refused_as_reused(other)


@pytest.mark.django_db
def test_a_key_stored_before_keys_were_bound_never_replays_on_an_endpoint_that_took_no_keys():
    # Given a body-only key of the release before (only the referral doors took keys then) ...
    partner, key = make_partner()
    IdempotencyRecord.objects.create(
        partner=partner,
        key="legacy",
        request_hash=request_hash({}),
        response_status=201,
        response_body=json.dumps({"id": "a referral"}),
        created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(hours=1),
    )
    secret = Partner.objects.get(pk=partner.pk).webhook_secret

    # ... sent with the same (empty) body to rotate the webhook secret
    answer = send(client_for(key), "/api/v1/webhooks/rotate-secret", {}, key="legacy")

    # then nothing is replayed: the key is another request's, and the secret stays as it was.
    refused_as_reused(answer)
    assert Partner.objects.get(pk=partner.pk).webhook_secret == secret


@pytest.mark.django_db
def test_an_over_long_key_is_a_field_error_and_nothing_is_done():
    partner, key = make_partner()

    response = send(client_for(key), "/api/v1/referrals/", referral_body(), key="k" * 256)

    assert response.status_code == 400 and response.json()["type"] == PROBLEMS + "validation"
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert not Case.objects.filter(partner=partner).exists()


def test_the_fingerprint_is_method_path_and_body():
    def of(method="POST", path="/api/v1/referrals/", body=b'{"a": 1, "b": [1, 2]}'):
        return fingerprint(method=method, path=path, body=body).request

    assert of() == of(path="/api/v1/referrals") == of(body=b'{ "b": [1,2],\n "a": 1 }')
    assert of() != of(method="PUT")
    assert of() != of(path="/api/v1/fhir/ServiceRequest")
    assert of() != of(body=b'{"a": 1, "b": [2, 1]}')
    assert of(body=b"") != of(body=b"{}") != of(body=b"not json")
    assert of(body=b"[" * 100_000) != of(body=b"[" * 99_999)  # too deep to parse: compared as bytes
