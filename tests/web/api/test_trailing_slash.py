"""Every /api/v1/ path with and without its trailing slash is served by the same view, without a
redirect, and counts as one path (DESIGN.md, "Partner API v1"); a path that names nothing is the
API's own 404, with DEBUG on too. The table is read from the URL patterns, so a new route is
checked without being listed here."""

import uuid

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from rest_framework.test import APIClient

from clinic.web.api import throttle
from tests.factories import make_partner, make_referral, referral_body

CANONICAL_SPELLINGS = {
    "referrals": "/api/v1/referrals/",
    "referral": "/api/v1/referrals/{id}/",
    "referral-withdraw": "/api/v1/referrals/{id}/withdraw/",
    "referral-fhir": "/api/v1/referrals/{id}/fhir",
    "webhook-test": "/api/v1/webhooks/test",
    "webhook-delivery-resend": "/api/v1/webhook-deliveries/{id}/resend",
    "fhir-service-request": "/api/v1/fhir/ServiceRequest",
}


def api_routes() -> list[tuple[str, str]]:
    """(name, route) of every named /api/v1/ pattern, each route once."""
    (api,) = [p for p in get_resolver().url_patterns if isinstance(p, URLResolver) and p.namespace == "api"]
    routes = {
        (pattern.name, str(pattern.pattern))
        for pattern in api.url_patterns
        if isinstance(pattern, URLPattern) and pattern.name
    }
    return sorted(routes)


def concrete(route: str, *, referral_id: str) -> str:
    """A path the route matches: a real referral's id where a UUID goes, a malformed id in the
    routes kept for malformed ids."""
    return "/api/v1/" + route.replace("<uuid:pk>", referral_id).replace("<str:pk>", "not-a-uuid")


def view_of(path: str):
    func = resolve(path).func
    return getattr(func, "view_class", func)


def methods_of(path: str) -> list[str]:
    """The methods the view behind `path` serves (GET, POST); none for a plain Django view."""
    view = getattr(resolve(path).func, "view_class", None)
    if view is None:
        return ["get"]
    return [m for m in ("get", "post") if hasattr(view, m) and m in view.http_method_names]


def other_spelling(path: str) -> str:
    """The same path with its trailing slash taken off, or one added."""
    return path.removesuffix("/") if path.endswith("/") else path + "/"


@pytest.fixture(autouse=True)
def fresh_throttle():
    throttle.store(settings.CACHE_URL).reset()


@pytest.fixture
def partner_client():
    partner, key = make_partner()
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client, str(make_referral(partner, external_id="RF-SLASH").pk)


def test_every_api_route_is_in_the_table_with_both_spellings():
    routes = api_routes()
    spelled = {route for _, route in routes}

    assert len(routes) > 20  # the table is really read from the URL patterns
    for _, route in routes:
        if route != "^.*$":
            assert other_spelling(route) in spelled, f"{route} has no other spelling"


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True], ids=["production", "DEBUG"])
def test_each_path_answers_the_same_with_and_without_its_slash(partner_client, debug):
    client, referral_id = partner_client
    paths = {
        concrete(route.removesuffix("/"), referral_id=referral_id)
        for _, route in api_routes()
        if route != "^.*$"
    } | {"/api/v1/no-such-path"}
    checked = 0
    with override_settings(DEBUG=debug):
        for path in sorted(paths):
            for method in methods_of(path):
                answers = []
                for spelling in (path, path + "/"):
                    response = getattr(client, method)(spelling, {}, format="json")
                    answers.append((response.status_code, response["Content-Type"]))
                    assert response.status_code < 500, f"{method.upper()} {spelling}: {response.status_code}"
                    assert not 300 <= response.status_code < 400, f"{method.upper()} {spelling} redirects"
                    assert "html" not in response["Content-Type"], f"{method.upper()} {spelling} is a page"
                    checked += 1
                assert view_of(path) is view_of(path + "/"), path
                assert answers[0] == answers[1], f"{method.upper()} {path}: {answers}"
    assert checked > 40


@pytest.mark.django_db
def test_a_post_without_the_slash_reaches_the_view(partner_client):
    # The reported case: POST …/withdraw was Django's HTML 500 (APPEND_SLASH cannot redirect a POST).
    client, referral_id = partner_client

    response = client.post(
        f"/api/v1/referrals/{referral_id}/withdraw", {"reason": "Patient moved"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn"


@pytest.mark.django_db
def test_the_webhook_test_with_a_slash_is_the_webhook_test(partner_client):
    client, _ = partner_client

    response = client.post("/api/v1/webhooks/test/")

    # This partner has no webhook URL: the endpoint itself answers, and says so.
    assert response.status_code == 409
    assert response.json()["type"].endswith("/no-webhook-url")


@pytest.mark.django_db
def test_both_spellings_count_as_one_path_for_an_idempotency_key(partner_client):
    client, _ = partner_client
    body = referral_body(external_id="RF-IDEM")
    headers = {"HTTP_IDEMPOTENCY_KEY": "key-slash-1"}

    first = client.post("/api/v1/referrals/", body, format="json", **headers)
    again = client.post("/api/v1/referrals", body, format="json", **headers)

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]


def test_names_reverse_to_the_canonical_spelling_the_schema_documents():
    some_id = uuid.uuid4()
    for name, spelling in CANONICAL_SPELLINGS.items():
        args = [some_id] if "{id}" in spelling else []
        assert reverse(f"api:{name}", args=args) == spelling.format(id=some_id)


@pytest.mark.django_db
def test_the_schema_documents_each_path_once(client):
    paths = set(client.get("/api/schema/", {"format": "json"}).json()["paths"])

    assert set(CANONICAL_SPELLINGS.values()) <= paths
    assert not {other_spelling(path) for path in paths if path.startswith("/api/v1/")} & paths


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True], ids=["production", "DEBUG"])
@pytest.mark.parametrize(
    "path, content_type",
    [
        ("/api/v1/no-such-path", "application/problem+json"),
        ("/api/v1/no-such-path/", "application/problem+json"),
        ("/api/v1/referrals/not-a-uuid/fhir/extra", "application/problem+json"),
        ("/api/v1/fhir/Patient", "application/fhir+json"),
        ("/api/v1/fhir/ServiceRequest/123", "application/fhir+json"),
        ("/api/v1/fhir", "application/fhir+json"),
    ],
)
def test_a_path_that_names_nothing_is_the_apis_404_never_a_page(partner_client, debug, path, content_type):
    client, _ = partner_client
    with override_settings(DEBUG=debug):
        response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == content_type
    body = response.json()
    assert body.get("status") == 404 or body.get("resourceType") == "OperationOutcome"
