"""What /api/docs/ tells a partner's developer besides the endpoints: the trailing slash, the
webhooks and their signature (with examples that verify a webhook this service really signs), every
event type and its payload, and the sandbox's external_id prefixes."""

import json
import time

import pytest
from django.utils import timezone
from jsonschema import Draft202012Validator

from clinic.web import webhooks
from clinic.web.api import catalogue, docs
from intake import event_types
from intake.models import PartnerNotification
from recommendations.sandbox import PREFIXES
from tests.factories import make_partner


@pytest.fixture
def description(client) -> str:
    return client.get("/api/schema/", {"format": "json"}).json()["info"]["description"]


@pytest.mark.django_db
def test_the_docs_name_every_event_type_and_who_receives_it(description):
    for name in event_types.ALL:
        assert f"`{name}`" in description
    assert "| `referral.decision_corrected` |" in description and "when subscribed" in description
    assert "create_partner --events" in description


@pytest.mark.django_db
def test_the_docs_show_each_payload_as_json(description):
    blocks = [block.split("```", 1)[0] for block in description.split("```json\n")[1:]]
    payloads = [json.loads(block) for block in blocks]

    assert [payload["type"] for payload in payloads] == [
        "referral.decided",
        "referral.treated",
        "referral.adverse_event",
        "ping",
    ]
    assert set(payloads[0]["data"]) >= {"id", "external_id", "status", "decision"}
    # Each example is a body a JSON partner could really receive.
    for payload in payloads:
        schema = Draft202012Validator(catalogue.schema_for(payload["type"], "json"))
        assert list(schema.iter_errors(payload)) == [], payload["type"]


@pytest.mark.django_db
def test_the_docs_give_every_sandbox_prefix_and_the_slash_rule(description):
    for prefix in PREFIXES:
        assert f"| `{prefix}` |" in description
    assert "with and without its trailing slash" in description


@pytest.mark.django_db
def test_the_docs_keep_the_settings_introduction_first(description):
    assert description.startswith("Refer patients for a stem cell therapy consult")


def signed_ping(secret_partner) -> tuple[bytes, dict[str, str]]:
    ping = PartnerNotification.objects.create(
        partner=secret_partner,
        event_type="ping",
        payload={"type": "ping", "timestamp": timezone.now().isoformat(), "data": {"message": "hi"}},
    )
    return webhooks.signed_request(ping, now=timezone.now())


def documented(code: str, name: str):
    namespace: dict = {}
    exec(compile(code, "<docs example>", "exec"), namespace)  # noqa: S102  the docs' own example
    return namespace[name]


@pytest.mark.django_db
def test_the_plain_hmac_example_verifies_what_we_sign_and_nothing_else():
    partner, _ = make_partner()
    verify = documented(docs.VERIFY_WITH_HMAC, "verify")
    body, headers = signed_ping(partner)
    other, _ = make_partner()

    assert verify(partner.webhook_secret, headers, body) is True
    assert verify(partner.webhook_secret, headers, body.replace(b"hi", b"ho")) is False
    assert verify(other.webhook_secret, headers, body) is False
    stale = headers | {"webhook-timestamp": str(int(time.time()) - 3600)}
    assert verify(partner.webhook_secret, stale, body) is False


@pytest.mark.django_db
def test_the_library_example_verifies_what_we_sign():
    partner, _ = make_partner()
    body, headers = signed_ping(partner)
    code = docs.VERIFY_WITH_LIBRARY.replace("whsec_...your secret...", partner.webhook_secret)

    assert documented(code, "receive")(body, headers)["type"] == "ping"
