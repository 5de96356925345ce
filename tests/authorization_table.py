"""The authorization matrix's table: every URL the project serves, and what each kind of caller
gets (tests/test_authorization_matrix.py reads it; a URL missing here fails that test)."""

ROLES = ("anonymous", "desk", "specialist", "partner_a", "partner_b")

# name: (method, path, body, outcomes for ROLES)
DESK = ("login", "ok", "ok", "login", "login")

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
    # After the decision (#25). {decided} is partner A's decided referral, whose approval opened a
    # course; {adverse_event} a report on it. Empty POSTs answer 400 (or a redirect) and change nothing.
    "desk:course": ("GET", "/desk/cases/{decided}/course/", None, DESK),
    "desk:course-fhir": ("GET", "/desk/cases/{decided}/course/fhir.json", None, DESK),
    "desk:course-schedule": ("POST", "/desk/cases/{decided}/course/schedule/", {}, DESK),
    "desk:course-cancel": ("POST", "/desk/cases/{decided}/course/cancel/", {}, DESK),
    # Its GET is the confirmation page; a POST completes the course (tests/web/desk).
    "desk:course-complete": ("GET", "/desk/cases/{decided}/course/complete/", None, DESK),
    # The same for starting the follow-up and for a patient lost to it.
    "desk:course-follow-up": ("GET", "/desk/cases/{decided}/course/follow-up/", None, DESK),
    "desk:course-lost": ("GET", "/desk/cases/{decided}/course/lost/", None, DESK),
    "desk:treatment-entry": ("GET", "/desk/cases/{decided}/treatment/", None, DESK),
    "desk:adverse-event-new": ("GET", "/desk/cases/{decided}/adverse-events/new/", None, DESK),
    "desk:adverse-event": ("POST", "/desk/adverse-events/{adverse_event}/", {}, DESK),
    "desk:medwatch": ("GET", "/desk/adverse-events/{adverse_event}/medwatch/", None, DESK),
    "desk:adverse-event-json": ("GET", "/desk/adverse-events/{adverse_event}/export.json", None, DESK),
    # Follow-up (#26): {decided}'s day 42 (treated, so it is dated). Empty POSTs get the forms' errors
    # (400) and record nothing.
    "desk:follow-up-calls": ("GET", "/desk/follow-up/calls/", None, DESK),
    "desk:follow-up-answer": ("POST", "/desk/cases/{decided}/follow-up/42/answers/", {}, DESK),
    "desk:follow-up-unreachable": ("POST", "/desk/cases/{decided}/follow-up/42/unreachable/", {}, DESK),
    # The patient's follow-up link: no sign-in; a token never issued is "not valid" for everyone.
    "patient:thank-you": ("GET", "/f/thank-you", None, ("ok",) * 5),
    "patient:form": ("GET", "/f/" + "x" * 43, None, ("404",) * 5),
    "patient:answer": ("POST", "/f/" + "x" * 43 + "/answer", None, ("404",) * 5),
    "patient:send": ("POST", "/f/" + "x" * 43 + "/send", None, ("404",) * 5),
    "patient:opt-out": ("GET", "/f/" + "x" * 43 + "/stop-emails", None, ("404",) * 5),
    "patient:not-valid": ("GET", "/f/no/such/link", None, ("404",) * 5),
    # Partner A owns the referral; the first row's {case} has no course (409 no-treatment counts as served).
    "api:referral-adverse-events": (
        "POST",
        "/api/v1/referrals/{case}/adverse-events/",
        {},
        ("401", "403", "403", "ok", "404"),
    ),
    "api:referral-adverse-event-updates": (
        "POST",
        "/api/v1/referrals/{decided}/adverse-events/{adverse_event}/updates/",
        {},
        ("401", "403", "403", "ok", "404"),
    ),
    "api:fhir-adverse-event": ("POST", "/api/v1/fhir/AdverseEvent", {}, ("401", "403", "403", "ok", "ok")),
    # Follow-up scores (#26): partner A's own referral; partner B's is not found.
    "api:referral-follow-ups": (
        "GET",
        "/api/v1/referrals/{decided}/follow-ups/",
        None,
        ("401", "403", "403", "ok", "404"),
    ),
    "api:malformed-referral-follow-ups": (
        "GET",
        "/api/v1/referrals/x/follow-ups/",
        None,
        ("401", "403", "403", "ok", "ok"),
    ),
    "api:malformed-referral-adverse-events": (
        "POST",
        "/api/v1/referrals/x/adverse-events/",
        {},
        ("401", "403", "403", "ok", "ok"),
    ),
    "api:malformed-referral-adverse-event-updates": (
        "POST",
        "/api/v1/referrals/x/adverse-events/y/updates/",
        {},
        ("401", "403", "403", "ok", "ok"),
    ),
    # The review desk's treatment pages: the sign page of an entry and a record's addendum form.
    "admin:aftercare_treatmententry_sign": (
        "GET",
        "/admin/aftercare/treatmententry/{entry}/sign/",
        None,
        ("login", "login", "ok", "login", "login"),
    ),
    "admin:aftercare_outcomes": (
        "GET",
        "/admin/aftercare/treatmentrecord/outcomes/",
        None,
        ("login", "login", "ok", "login", "login"),
    ),
    "admin:aftercare_treatmentrecord_addendum": (
        "GET",
        "/admin/aftercare/treatmentrecord/{record}/addendum/",
        None,
        ("login", "login", "ok", "login", "login"),
    ),
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
    # After the decision: entries are signed (their change page is the sign page), records are
    # read-only for everyone, adverse events are assessed on their change page, clocks are read-only.
    "aftercare.treatmententry": ("ok", "403", "ok", "403", "ok"),
    "aftercare.treatmentrecord": ("ok", "403", "ok", "403", "ok"),
    "aftercare.adverseevent": ("ok", "403", "ok", "403", "ok"),
    "aftercare.reportingclock": ("ok", "403", "ok", "403", "ok"),
}

ACTIONS = ("changelist", "add", "change", "delete", "history")
