"""Problem types are documented identifiers: each one the API answers with has a public page under
/api/docs/problems/ saying when it happens and what to do, and the FHIR door names it too."""

import re

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome

from clinic.web.api.problems import problem, problem_response
from clinic.web.fhir.outcome import outcome_from_problem
from clinic.web.problem_types import KINDS, kind_of
from tests.factories import make_partner, referral_body

# DESIGN.md, "Partner API v1": the names partners build against, with their status codes.
CONTRACT = {
    "validation": 400,
    "wrong-status": 409,
    "no-treatment": 409,
    "duplicate-adverse-event": 409,
    "idempotency-key-reused": 422,
    "idempotency-in-flight": 409,
    "duplicate-referral": 409,
    "too-large": 413,
    "no-webhook-url": 409,
}
# The FHIR R4 IssueType codes (http://hl7.org/fhir/R4/codesystem-issue-type.html).
ISSUE_TYPES = {
    "invalid", "structure", "required", "value", "invariant", "security", "login", "unknown", "expired",
    "forbidden", "suppressed", "processing", "not-supported", "duplicate", "multiple-matches", "not-found",
    "deleted", "too-long", "code-invalid", "extension", "too-costly", "business-rule", "conflict",
    "transient", "lock-error", "no-store", "exception", "timeout", "incomplete", "throttled", "informational",
}  # fmt: skip


def test_the_contracts_types_are_all_documented_with_their_status():
    documented = {kind.slug: kind.status for kind in KINDS}

    assert CONTRACT.items() <= documented.items()
    for kind in KINDS:
        assert kind.type == f"https://clinic.example.org/problems/{kind.slug}"
        assert kind.when and kind.todo and kind.title
        assert kind.fhir_code in ISSUE_TYPES | {""}


def test_an_undocumented_kind_or_a_wrong_status_cannot_be_answered():
    with pytest.raises(ValueError, match="not documented"):
        problem(409, "x", kind="idempotency")  # retired: it became two types
    with pytest.raises(ValueError, match="is a 422"):
        problem(409, "x", kind="idempotency-key-reused")


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.slug)
def test_each_type_has_a_public_page_saying_when_and_what_to_do(client, kind):
    response = client.get(f"/api/docs/problems/{kind.slug}")  # no sign-in, no key
    page = response.content.decode().replace("<wbr>", "")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))

    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert f"<h1>{kind.title}</h1>" in page.replace("&#x27;", "'")
    assert kind.type in text and f"Status {kind.status}" in text
    assert "When it happens" in text and "What to do" in text
    if kind.fhir_code:
        assert f"issue has code {kind.fhir_code}" in text
    assert client.get(f"/api/docs/problems/{kind.slug}/").status_code == 200


@pytest.mark.django_db
def test_the_list_links_every_page_and_an_unknown_type_is_a_404_page(client):
    listing = client.get("/api/docs/problems/").content.decode()
    unknown = client.get("/api/docs/problems/no-such-type")

    for kind in KINDS:
        assert f'href="/api/docs/problems/{kind.slug}"' in listing
    assert unknown.status_code == 404 and unknown["Content-Type"].startswith("text/html")
    assert "no-such-type" in unknown.content.decode()
    assert client.post("/api/docs/problems/validation").status_code in (403, 405)  # a page, to read


@pytest.mark.django_db
def test_the_retired_type_says_what_replaced_it(client):
    page = client.get("/api/docs/problems/idempotency").content.decode()

    assert "/api/docs/problems/idempotency-key-reused" in page
    assert "/api/docs/problems/idempotency-in-flight" in page


@pytest.mark.parametrize("kind", [k for k in KINDS if k.fhir_code], ids=lambda kind: kind.slug)
def test_the_fhir_door_answers_each_type_with_its_issue_code_and_names_it(kind):
    extra = {name: "3f6c1c55-8f43-4b7e-9b8e-3c1f3f2f8a10" for name, _ in kind.members if name != "errors"}
    answer = problem_response(kind.status, "What happened.", kind=kind.slug, **extra)

    outcome = outcome_from_problem(answer)

    OperationOutcome.model_validate(outcome.data)  # valid FHIR R4
    (issue,) = outcome.data["issue"]
    assert outcome.status_code == kind.status and outcome.content_type == "application/fhir+json"
    assert issue["code"] == kind.fhir_code and issue["diagnostics"] == "What happened."
    assert issue["details"]["coding"] == [
        {"system": "https://clinic.example.org/problems", "code": kind.slug}
    ]


@pytest.mark.django_db
def test_real_answers_carry_their_documented_title_and_the_fhir_door_its_code(client):
    _, key = make_partner()
    headers = {"Authorization": f"Api-Key {key}"}
    body = referral_body(external_id="RF-1")
    client.post("/api/v1/referrals/", body, content_type="application/json", headers=headers)

    again = client.post("/api/v1/referrals/", body, content_type="application/json", headers=headers)
    fhir_again = client.post(
        "/api/v1/fhir/ServiceRequest",
        {"resourceType": "Basic"},
        content_type="application/fhir+json",
        headers=headers,
    )

    duplicate = kind_of("duplicate-referral")
    assert again.json()["type"] == duplicate.type and again.json()["title"] == duplicate.title
    (issue,) = fhir_again.json()["issue"]
    assert issue["details"]["coding"][0]["code"] == "validation" and fhir_again.status_code == 400
