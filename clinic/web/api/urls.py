from django.urls import URLPattern, path, re_path
from rest_framework.views import APIView

from clinic.web.api import (
    adverse_events,
    catalogue,
    fhir,
    fhir_adverse_events,
    follow_ups,
    integration,
    malformed,
    secrets,
    views,
    vocabularies,
)
from clinic.web.api.problems import not_found

app_name = "api"


def route(spelling: str, view: type[APIView], name: str) -> list[URLPattern]:
    """A path with and without its trailing slash is served by the same view, without a redirect
    (DESIGN.md, "Partner API v1"): a redirect would drop a POST's body, and Django's APPEND_SLASH
    answers a POST without the slash with a page. The spelling given is the canonical one: it
    is the one the OpenAPI schema documents (`schema=None` keeps the other spelling out of it) and
    the one `reverse(name)` gives. Both carry the name, so a table of named routes (the
    authorization matrix) covers both; Django's reverse() prefers the later of two patterns of one
    name, hence the other spelling first."""
    other = spelling.removesuffix("/") if spelling.endswith("/") else spelling + "/"
    return [path(other, view.as_view(schema=None), name=name), path(spelling, view.as_view(), name=name)]


urlpatterns = [
    *route("referrals/", views.ReferralListCreateView, "referrals"),
    *route("referrals/<uuid:pk>/", views.ReferralDetailView, "referral"),
    *route("referrals/<uuid:pk>/information/", views.ReferralInformationView, "referral-information"),
    *route("referrals/<uuid:pk>/withdraw/", views.ReferralWithdrawView, "referral-withdraw"),
    *route("referrals/<uuid:pk>/fhir", fhir.ReferralFHIRView, "referral-fhir"),
    *route(
        "referrals/<uuid:pk>/adverse-events/",
        adverse_events.AdverseEventListCreateView,
        "referral-adverse-events",
    ),
    *route(
        "referrals/<uuid:pk>/adverse-events/<uuid:ae_id>/updates/",
        adverse_events.AdverseEventUpdateView,
        "referral-adverse-event-updates",
    ),
    *route("referrals/<uuid:pk>/follow-ups/", follow_ups.FollowUpListView, "referral-follow-ups"),
    *route("fhir/ServiceRequest", fhir.ServiceRequestCreateView, "fhir-service-request"),
    *route(
        "fhir/Questionnaire/referral-screening",
        fhir.ScreeningQuestionnaireView,
        "fhir-screening-questionnaire",
    ),
    *route("fhir/Task", fhir.TaskCreateView, "fhir-task"),
    *route("fhir/Communication", fhir.CommunicationCreateView, "fhir-communication"),
    *route("fhir/AdverseEvent", fhir_adverse_events.FHIRAdverseEventView, "fhir-adverse-event"),
    *route("events/", integration.EventFeedView, "events"),
    *route("webhook-deliveries/", integration.WebhookDeliveryListView, "webhook-deliveries"),
    *route(
        "webhook-deliveries/<uuid:pk>/resend",
        integration.WebhookDeliveryResendView,
        "webhook-delivery-resend",
    ),
    *route("webhooks/test", integration.WebhookTestView, "webhook-test"),
    *route("webhooks/rotate-secret", secrets.WebhookSecretRotateView, "webhook-rotate-secret"),
    *route("event-types/", catalogue.EventTypeListView, "event-types"),
    *route("conditions/", vocabularies.ConditionListView, "conditions"),
    *route("body-sites/", vocabularies.BodySiteListView, "body-sites"),
    *route("findings/", vocabularies.FindingListView, "findings"),
    # A path whose id is not a UUID (every real route above takes <uuid:pk>): 400, not a page.
    *route("referrals/<str:pk>/", malformed.MalformedIdView, "malformed-referral"),
    *route("referrals/<str:pk>/information/", malformed.MalformedIdView, "malformed-referral-information"),
    *route("referrals/<str:pk>/withdraw/", malformed.MalformedIdView, "malformed-referral-withdraw"),
    *route("referrals/<str:pk>/fhir", malformed.MalformedFHIRIdView, "malformed-referral-fhir"),
    *route(
        "referrals/<str:pk>/adverse-events/", malformed.MalformedIdView, "malformed-referral-adverse-events"
    ),
    *route("referrals/<str:pk>/follow-ups/", malformed.MalformedIdView, "malformed-referral-follow-ups"),
    *route(
        "referrals/<str:pk>/adverse-events/<str:ae_id>/updates/",
        adverse_events.MalformedAdverseEventIdView,
        "malformed-referral-adverse-event-updates",
    ),
    *route("webhook-deliveries/<str:pk>/resend", malformed.MalformedIdView, "malformed-delivery-resend"),
    # Anything else under /api/v1/: the API's own 404 (an OperationOutcome on the FHIR door), even
    # with DEBUG on, where Django would answer with its HTML page instead of handler404.
    re_path(r"^.*$", not_found, name="not-found"),
]
