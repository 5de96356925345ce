from django.urls import path

from clinic.web.api import fhir, integration, malformed, views, vocabularies

app_name = "api"

urlpatterns = [
    path("referrals/", views.ReferralListCreateView.as_view(), name="referrals"),
    path("referrals/<uuid:pk>/", views.ReferralDetailView.as_view(), name="referral"),
    path(
        "referrals/<uuid:pk>/information/",
        views.ReferralInformationView.as_view(),
        name="referral-information",
    ),
    path("referrals/<uuid:pk>/withdraw/", views.ReferralWithdrawView.as_view(), name="referral-withdraw"),
    path("referrals/<uuid:pk>/fhir", fhir.ReferralFHIRView.as_view(), name="referral-fhir"),
    path("fhir/ServiceRequest", fhir.ServiceRequestCreateView.as_view(), name="fhir-service-request"),
    path(
        "fhir/Questionnaire/referral-screening",
        fhir.ScreeningQuestionnaireView.as_view(),
        name="fhir-screening-questionnaire",
    ),
    path("fhir/Task", fhir.TaskCreateView.as_view(), name="fhir-task"),
    path("fhir/Communication", fhir.CommunicationCreateView.as_view(), name="fhir-communication"),
    path("events/", integration.EventFeedView.as_view(), name="events"),
    path("webhook-deliveries/", integration.WebhookDeliveryListView.as_view(), name="webhook-deliveries"),
    path(
        "webhook-deliveries/<uuid:pk>/resend",
        integration.WebhookDeliveryResendView.as_view(),
        name="webhook-delivery-resend",
    ),
    path("webhooks/test", integration.WebhookTestView.as_view(), name="webhook-test"),
    path("conditions/", vocabularies.ConditionListView.as_view(), name="conditions"),
    path("body-sites/", vocabularies.BodySiteListView.as_view(), name="body-sites"),
    path("findings/", vocabularies.FindingListView.as_view(), name="findings"),
    # A path whose id is not a UUID (every real route above takes <uuid:pk>): 400, not a page.
    path("referrals/<str:pk>/", malformed.MalformedIdView.as_view(), name="malformed-referral"),
    path(
        "referrals/<str:pk>/information/",
        malformed.MalformedIdView.as_view(),
        name="malformed-referral-information",
    ),
    path(
        "referrals/<str:pk>/withdraw/",
        malformed.MalformedIdView.as_view(),
        name="malformed-referral-withdraw",
    ),
    path("referrals/<str:pk>/fhir", malformed.MalformedFHIRIdView.as_view(), name="malformed-referral-fhir"),
    path(
        "webhook-deliveries/<str:pk>/resend",
        malformed.MalformedIdView.as_view(),
        name="malformed-delivery-resend",
    ),
]
