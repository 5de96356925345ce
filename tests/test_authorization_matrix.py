"""Every URL the project serves, for every kind of caller, against a table kept here.

Roles: anonymous, front desk, specialist, partner A (who owns the sample case) and
partner B. Outcomes: "ok" (served), "login" (sent to sign in), "401", "403", "404"
(not found, as another partner's referral must be), "405" (method not offered).
A URL pattern missing from the table fails the test, so a new page cannot slip in
unchecked.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from intake.models import Case, PartnerAPIKey, PartnerNotification, PendingContactUpdate
from recommendations import review
from recommendations.models import Addendum, Decision
from recommendations.services import make_draft
from tests.factories import make_demo_protocols, make_partner, make_referral, make_user

ROLES = ("anonymous", "desk", "specialist", "partner_a", "partner_b")

# name: (method, path, body, outcomes for ROLES)
TABLE: dict[str, tuple[str, str, dict | None, tuple[str, ...]]] = {
    "home": ("GET", "/", None, ("ok",) * 5),
    "favicon": ("GET", "/favicon.ico", None, ("ok",) * 5),
    "desk:login": ("GET", "/desk/login/", None, ("ok",) * 5),
    "desk:logout": ("GET", "/desk/logout/", None, ("405",) * 5),
    "desk:board": ("GET", "/desk/", None, ("login", "ok", "ok", "login", "login")),
    "desk:patients": ("GET", "/desk/patients/", None, ("login", "ok", "ok", "login", "login")),
    "desk:codes": ("GET", "/desk/codes/?q=knee", None, ("login", "ok", "ok", "login", "login")),
    "desk:board-changes": ("GET", "/desk/board/changes/", None, ("login", "ok", "ok", "login", "login")),
    "desk:new-patient": ("GET", "/desk/patients/new/", None, ("login", "ok", "ok", "login", "login")),
    "desk:new-case": (
        "GET",
        "/desk/patients/{patient}/intake/",
        None,
        ("login", "ok", "ok", "login", "login"),
    ),
    "desk:case": ("GET", "/desk/cases/{case}/", None, ("login", "ok", "ok", "login", "login")),
    "desk:case-status": ("GET", "/desk/cases/{case}/status/", None, ("login", "ok", "ok", "login", "login")),
    # Empty forms: authorized callers get the form's errors, nothing changes.
    "desk:answer": ("POST", "/desk/cases/{case}/answer/", {}, ("login", "ok", "ok", "login", "login")),
    "desk:accept-contact-update": (
        "GET",
        "/desk/contact-updates/{contact_update}/accept/",
        None,
        ("login", "ok", "ok", "login", "login"),
    ),
    "desk:dismiss-contact-update": (
        "POST",
        "/desk/contact-updates/{contact_update}/dismiss/",
        {},
        ("login", "ok", "ok", "login", "login"),
    ),
    "desk:withdraw": ("POST", "/desk/cases/{case}/withdraw/", {}, ("login", "ok", "ok", "login", "login")),
    "desk:print": ("GET", "/desk/cases/{case}/print/", None, ("login", "ok", "ok", "login", "login")),
    "api:referrals": ("GET", "/api/v1/referrals/", None, ("401", "403", "403", "ok", "ok")),
    "api:referral": ("GET", "/api/v1/referrals/{case}/", None, ("401", "403", "403", "ok", "404")),
    "api:referral-information": (
        "POST",
        "/api/v1/referrals/{case}/information/",
        {},
        ("401", "403", "403", "ok", "404"),
    ),
    "api:referral-withdraw": (
        "POST",
        "/api/v1/referrals/{case}/withdraw/",
        {},
        ("401", "403", "403", "ok", "404"),
    ),
    "api:referral-fhir": ("GET", "/api/v1/referrals/{case}/fhir", None, ("401", "403", "403", "ok", "404")),
    "api:fhir-service-request": (
        "POST",
        "/api/v1/fhir/ServiceRequest",
        {},
        ("401", "403", "403", "ok", "ok"),
    ),
    "api:fhir-communication": ("POST", "/api/v1/fhir/Communication", {}, ("401", "403", "403", "ok", "ok")),
    "api:fhir-screening-questionnaire": (
        "GET",
        "/api/v1/fhir/Questionnaire/referral-screening",
        None,
        ("401", "ok", "ok", "ok", "ok"),
    ),
    "api:fhir-task": ("POST", "/api/v1/fhir/Task", {}, ("401", "403", "403", "ok", "ok")),
    "api:conditions": ("GET", "/api/v1/conditions/", None, ("401", "ok", "ok", "ok", "ok")),
    # A malformed id: the caller is known first (401/403), then told the id is no id (400 = "ok").
    "api:malformed-referral": ("GET", "/api/v1/referrals/x/", None, ("401", "403", "403", "ok", "ok")),
    "api:malformed-referral-information": (
        "POST",
        "/api/v1/referrals/x/information/",
        {},
        ("401", "403", "403", "ok", "ok"),
    ),
    "api:malformed-referral-withdraw": (
        "POST",
        "/api/v1/referrals/x/withdraw/",
        {},
        ("401", "403", "403", "ok", "ok"),
    ),
    "api:malformed-referral-fhir": (
        "GET",
        "/api/v1/referrals/x/fhir",
        None,
        ("401", "403", "403", "ok", "ok"),
    ),
    "api:malformed-delivery-resend": (
        "POST",
        "/api/v1/webhook-deliveries/x/resend",
        {},
        ("401", "403", "403", "ok", "ok"),
    ),
    # A partner's own events and webhook deliveries; partner A owns the sample delivery.
    "api:events": ("GET", "/api/v1/events/", None, ("401", "403", "403", "ok", "ok")),
    "api:webhook-deliveries": ("GET", "/api/v1/webhook-deliveries/", None, ("401", "403", "403", "ok", "ok")),
    "api:webhook-delivery-resend": (
        "POST",
        "/api/v1/webhook-deliveries/{notification}/resend",
        None,
        ("401", "403", "403", "ok", "404"),
    ),
    "api:webhook-test": ("POST", "/api/v1/webhooks/test", None, ("401", "403", "403", "ok", "ok")),
    "api:event-types": ("GET", "/api/v1/event-types/", None, ("401", "403", "403", "ok", "ok")),
    "api:webhook-rotate-secret": (
        "POST",
        "/api/v1/webhooks/rotate-secret",
        None,
        ("401", "403", "403", "ok", "ok"),
    ),
    "api:body-sites": ("GET", "/api/v1/body-sites/", None, ("401", "ok", "ok", "ok", "ok")),
    "api:findings": ("GET", "/api/v1/findings/", None, ("401", "ok", "ok", "ok", "ok")),
    # Any other path under /api/v1/: the API's own 404, whoever asks (no resource is named).
    "api:not-found": ("GET", "/api/v1/no-such-path", None, ("404",) * 5),
    "schema": ("GET", "/api/schema/", None, ("ok",) * 5),
    "docs": ("GET", "/api/docs/", None, ("ok",) * 5),
    # What each problem type means: public pages, no patient data.
    "docs-problem": ("GET", "/api/docs/problems/idempotency-key-reused", None, ("ok",) * 5),
    # Probes for the load balancer: open to all, and they show no patient data.
    "health-live": ("GET", "/health/live", None, ("ok",) * 5),
    "health-ready": ("GET", "/health/ready", None, ("ok",) * 5),
    # For Prometheus only: a bearer token or an allowed address, which no role here has.
    "metrics": ("GET", "/metrics", None, ("401",) * 5),
    "admin:login": ("GET", "/admin/login/", None, ("ok",) * 5),
    # Signing out takes a POST; callers not signed in to the admin have nothing to sign out of.
    "admin:logout": ("GET", "/admin/logout/", None, ("ok", "ok", "405", "ok", "ok")),
    "admin:index": ("GET", "/admin/", None, ("login", "login", "ok", "login", "login")),
    "admin:password_change": (
        "GET",
        "/admin/password_change/",
        None,
        ("login", "login", "ok", "login", "login"),
    ),
    "admin:password_change_done": (
        "GET",
        "/admin/password_change/done/",
        None,
        ("login", "login", "ok", "login", "login"),
    ),
    "admin:auth_user_password_change": (
        "GET",
        "/admin/auth/user/{user}/password/",
        None,
        ("login", "login", "403", "login", "login"),
    ),
    "admin:app_list": ("GET", "/admin/recommendations/", None, ("login", "login", "ok", "login", "login")),
    "admin:autocomplete": ("GET", "/admin/autocomplete/", None, ("login", "login", "403", "login", "login")),
    "admin:recommendations_analytics": (
        "GET",
        "/admin/recommendations/decision/analytics/",
        None,
        ("login", "login", "ok", "login", "login"),
    ),
    # The review queue's "has it changed?" poll, the next case, and a decided case's letter.
    "admin:recommendations_reviewcase_changes": (
        "GET",
        "/admin/recommendations/reviewcase/changes/",
        None,
        ("login", "login", "ok", "login", "login"),
    ),
    "admin:recommendations_reviewcase_next": (
        "GET",
        "/admin/recommendations/reviewcase/next/",
        None,
        ("login", "login", "ok", "login", "login"),
    ),
    "admin:recommendations_reviewcase_print": (
        "GET",
        "/admin/recommendations/reviewcase/{case}/print/",
        None,
        ("login", "login", "ok", "login", "login"),
    ),
    "admin:jsi18n": ("GET", "/admin/jsi18n/", None, ("login", "login", "ok", "login", "login")),
    "admin:view_on_site": ("GET", "/admin/r/1/1/", None, ("login", "login", "404", "login", "login")),
    "admin:catch_all": ("GET", "/admin/no-such-page/", None, ("login", "login", "404", "login", "login")),
}

# The admin's model pages, for a specialist (everyone else is sent to the admin sign-in).
# Per model: changelist, add, change (view), delete, history.
SPECIALIST_ADMIN = {
    "recommendations.reviewcase": ("ok", "403", "ok", "403", "ok"),
    "recommendations.decision": ("ok", "403", "ok", "403", "ok"),
    "recommendations.addendum": ("ok", "403", "ok", "403", "ok"),
    # Administrators keep the signatures; a specialist cannot change their own or anyone's.
    "recommendations.specialistprofile": ("403",) * 5,
    # Administrators manage the clinic's protocols (a change is a new version); specialists do not.
    "recommendations.protocol": ("403",) * 5,
    "intake.case": ("ok", "403", "ok", "403", "ok"),
    "intake.patient": ("ok", "403", "ok", "403", "ok"),
    "intake.partner": ("403",) * 5,
    "intake.partnerapikey": ("403",) * 5,
    "intake.partnernotification": ("403",) * 5,
    # Read-only, for administrators: the desk accepts or dismisses an update on the patient's page.
    "intake.pendingcontactupdate": ("403",) * 5,
    "auth.user": ("403",) * 5,
    "auth.group": ("403",) * 5,
    "axes.accessattempt": ("403",) * 5,
    "axes.accesslog": ("403",) * 5,
    "axes.accessfailurelog": ("403",) * 5,
}
ACTIONS = ("changelist", "add", "change", "delete", "history")


def discovered_names() -> set[str]:
    names = set()

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(
                    pattern.url_patterns,
                    f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace,
                )
            elif isinstance(pattern, URLPattern):
                name = pattern.name
                if name is None and "(?P<url>.*)$" in str(pattern.pattern):
                    name = "catch_all"
                elif name is None:
                    name = "object_redirect"  # admin/<model>/<id>/ -> change page
                names.add(f"{namespace}{name}")

    walk(get_resolver().url_patterns)
    return names


@pytest.fixture
def world(db):
    """One of everything, the sample case belonging to partner A."""
    partner_a, key_a = make_partner("Partner A")
    _, key_b = make_partner("Partner B")
    decided = make_referral(partner_a, external_id="A-1")
    make_draft(case_id=decided.pk)
    doctor = make_user("dr_matrix", group="Specialists", is_staff=True)
    decision = review.approve_draft(case_id=decided.pk, user=doctor)
    review.add_addendum(decision_id=decision.pk, user=doctor, reason="note")
    case = make_referral(partner_a, external_id="A-2")
    AccessAttempt.objects.create(username="x", ip_address="127.0.0.1", user_agent="t", failures_since_start=1)
    AccessLog.objects.create(username="x", ip_address="127.0.0.1", user_agent="t")
    AccessFailureLog.objects.create(username="x", ip_address="127.0.0.1", user_agent="t")
    samples = {
        "recommendations.reviewcase": case.pk,
        "recommendations.decision": decision.pk,
        "recommendations.addendum": Addendum.objects.get().pk,
        "recommendations.specialistprofile": doctor.specialist_profile.pk,
        "recommendations.protocol": make_demo_protocols()[0].pk,
        "intake.case": case.pk,
        "intake.patient": case.patient_id,
        "intake.partner": partner_a.pk,
        "intake.partnerapikey": PartnerAPIKey.objects.first().pk,
        "intake.partnernotification": PartnerNotification.objects.first().pk,
        "intake.pendingcontactupdate": PendingContactUpdate.objects.create(
            patient_id=case.patient_id, case=case, partner=partner_a, phone="+15550001111"
        ).pk,
        "auth.user": doctor.pk,
        "auth.group": Group.objects.first().pk,
        "axes.accessattempt": AccessAttempt.objects.get().pk,
        "axes.accesslog": AccessLog.objects.get().pk,
        "axes.accessfailurelog": AccessFailureLog.objects.get().pk,
    }
    clients = {"anonymous": APIClient(), "partner_a": APIClient(), "partner_b": APIClient()}
    clients["partner_a"].credentials(HTTP_AUTHORIZATION=f"Api-Key {key_a}")
    clients["partner_b"].credentials(HTTP_AUTHORIZATION=f"Api-Key {key_b}")
    clients["desk"] = APIClient()
    clients["desk"].force_login(make_user("desk_matrix", group="Front desk"))
    clients["specialist"] = APIClient()
    clients["specialist"].force_login(doctor)
    return {"case": case, "samples": samples, "clients": clients, "decided": decided}


def outcome(response) -> str:
    code = response.status_code
    if code == 302 and "/login/" in response["Location"]:
        return "login"
    if code in (200, 201, 202, 204, 302, 400, 409):
        return "ok"
    return str(code)


def admin_rows(samples: dict) -> dict[str, tuple[str, str, None, tuple[str, ...]]]:
    rows = {}
    for model in admin.site._registry:
        label = model._meta.label_lower
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        object_id = samples[label]
        paths = [
            base,
            f"{base}add/",
            f"{base}{object_id}/change/",
            f"{base}{object_id}/delete/",
            f"{base}{object_id}/history/",
        ]
        for action, path, specialist in zip(ACTIONS, paths, SPECIALIST_ADMIN[label], strict=True):
            name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}"
            rows[name] = ("GET", path, None, ("login", "login", specialist, "login", "login"))
    return rows


def test_the_table_covers_every_url_the_project_serves(world):
    covered = set(TABLE) | set(admin_rows(world["samples"])) | {"admin:object_redirect"}
    assert discovered_names() == covered


def test_every_role_gets_exactly_what_the_table_says(world):
    rows = {**TABLE, **admin_rows(world["samples"])}
    wrong, checked = [], 0
    for name, (method, template, body, expected) in sorted(rows.items()):
        path = template.format(
            case=world["case"].pk,
            patient=world["case"].patient_id,
            user=world["samples"]["auth.user"],
            notification=world["samples"]["intake.partnernotification"],
            contact_update=world["samples"]["intake.pendingcontactupdate"],
        )
        if name in ("desk:print", "admin:recommendations_reviewcase_print"):
            path = template.format(case=world["decided"].pk)
        for role, want in zip(ROLES, expected, strict=True):
            client = world["clients"][role]
            response = client.get(path) if method == "GET" else client.post(path, body, format="json")
            checked += 1
            if outcome(response) != want:
                wrong.append(f"{role:10} {method} {path}: got {outcome(response)}, table says {want}")
    print(f"authorization matrix: {checked} cells checked, {len(wrong)} wrong")
    assert wrong == [], "\n".join(wrong)
    world["case"].refresh_from_db()
    assert world["case"].status == "received"  # nobody's probe changed anything
    assert Decision.objects.count() == 1


def test_partner_b_never_sees_partner_a_in_a_list(world):
    listed = world["clients"]["partner_b"].get("/api/v1/referrals/").json()["results"]
    assert listed == []
    assert Case.objects.filter(partner__name="Partner A").count() == 2
    deliveries = world["clients"]["partner_b"].get("/api/v1/webhook-deliveries/").json()["results"]
    assert deliveries == []
    PartnerNotification.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    assert world["clients"]["partner_b"].get("/api/v1/events/").json()["events"] == []
    (event,) = world["clients"]["partner_a"].get("/api/v1/events/").json()["events"]
    assert event["type"] == "referral.decided" and event["data"]["id"] == str(world["decided"].pk)
