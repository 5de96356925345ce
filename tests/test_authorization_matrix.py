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

from clinic.aftercare import adverse_events, treatments
from clinic.aftercare.models import ReportingClock, TreatmentEntry
from clinic.aftercare.selectors import course_of
from clinic.aftercare.vocabulary import AdverseEventSource
from intake.models import Case, PartnerAPIKey, PartnerNotification, PendingContactUpdate
from intake.referrals import partner_actor
from recommendations import review
from recommendations.models import Addendum, Decision
from recommendations.services import make_draft
from tests.aftercare.factories import treatment_values
from tests.authorization_table import ACTIONS, ROLES, SPECIALIST_ADMIN, TABLE
from tests.factories import make_demo_protocols, make_partner, make_referral, make_user


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
    # After the decision: the approval opened a course; one signed session, one unsigned entry, and a
    # serious report from partner A (its clock is a row of the knee protocol's basis).
    course = course_of(decided.pk)
    values = treatment_values(course, doctor)
    record = treatments.sign_treatment(user=doctor, course_id=course.pk, values=values)
    entry = treatments.save_treatment_entry(
        course_id=course.pk, user=doctor, values=treatment_values(course, doctor, session=2)
    )
    report = adverse_events.report_adverse_event(
        course_id=course.pk,
        source=AdverseEventSource.PARTNER,
        actor=partner_actor(partner_a),
        partner=partner_a,
        external_id="AE-matrix",
        values={
            "onset": timezone.localdate(),
            "description": "Swollen knee",
            "ctcae_grade": 3,
            "serious": True,
            "seriousness_criteria": ["hospitalization"],
            "outcome": "recovering",
            "reporter": {"name": "Dr Reyes", "qualification": "physician"},
        },
    )
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
        "aftercare.treatmententry": entry.pk,
        "aftercare.treatmentrecord": record.pk,
        "aftercare.adverseevent": report.pk,
        "aftercare.reportingclock": ReportingClock.objects.filter(adverse_event=report).first().pk,
    }
    clients = {"anonymous": APIClient(), "partner_a": APIClient(), "partner_b": APIClient()}
    clients["partner_a"].credentials(HTTP_AUTHORIZATION=f"Api-Key {key_a}")
    clients["partner_b"].credentials(HTTP_AUTHORIZATION=f"Api-Key {key_b}")
    clients["desk"] = APIClient()
    clients["desk"].force_login(make_user("desk_matrix", group="Front desk"))
    clients["specialist"] = APIClient()
    clients["specialist"].force_login(doctor)
    return {
        "case": case,
        "samples": samples,
        "clients": clients,
        "decided": decided,
        "adverse_event": report,
        "entry": entry,
        "record": record,
    }


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
            decided=world["decided"].pk,
            adverse_event=world["adverse_event"].pk,
            entry=world["entry"].pk,
            record=world["record"].pk,
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
    # Nor signed, booked, cancelled or reported anything after the decision.
    assert TreatmentEntry.objects.get(pk=world["entry"].pk).signed_record_id is None
    assert course_of(world["decided"].pk).state == "treated"
    assert world["adverse_event"].changes.count() == 1


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
