from django.contrib.auth import views as auth_views
from django.urls import path

from clinic.web.desk import aftercare_exports, follow_up_views, patients, views
from clinic.web.desk import aftercare_views as aftercare

app_name = "desk"

urlpatterns = [
    path("", views.board, name="board"),
    path("board/changes/", views.board_changes, name="board-changes"),
    path("login/", auth_views.LoginView.as_view(template_name="desk/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("patients/", patients.patient_search, name="patients"),
    path("codes/", views.code_search, name="codes"),
    path("patients/new/", patients.new_patient, name="new-patient"),
    path("patients/<uuid:patient_id>/intake/", views.new_case, name="new-case"),
    path(
        "contact-updates/<uuid:update_id>/accept/",
        patients.accept_contact_update,
        name="accept-contact-update",
    ),
    path(
        "contact-updates/<uuid:update_id>/dismiss/",
        patients.dismiss_contact_update,
        name="dismiss-contact-update",
    ),
    path("cases/<uuid:case_id>/", views.case_detail, name="case"),
    path("cases/<uuid:case_id>/status/", views.case_status, name="case-status"),
    path("cases/<uuid:case_id>/answer/", views.answer, name="answer"),
    path("cases/<uuid:case_id>/withdraw/", views.withdraw, name="withdraw"),
    path("cases/<uuid:case_id>/print/", views.case_print, name="print"),
    # After the decision: the treatment course, its records, adverse events and their clocks.
    path("cases/<uuid:case_id>/course/", aftercare.course, name="course"),
    path("cases/<uuid:case_id>/course/fhir.json", aftercare_exports.treatment_fhir, name="course-fhir"),
    path("cases/<uuid:case_id>/course/schedule/", aftercare.course_schedule, name="course-schedule"),
    path("cases/<uuid:case_id>/course/cancel/", aftercare.course_cancel, name="course-cancel"),
    path("cases/<uuid:case_id>/course/follow-up/", aftercare.course_follow_up, name="course-follow-up"),
    path("cases/<uuid:case_id>/course/lost/", aftercare.course_lost, name="course-lost"),
    path("cases/<uuid:case_id>/course/complete/", aftercare.course_complete, name="course-complete"),
    path("cases/<uuid:case_id>/treatment/", aftercare.treatment_entry, name="treatment-entry"),
    path(
        "cases/<uuid:case_id>/treatment/<uuid:entry_id>/",
        aftercare.treatment_entry,
        name="treatment-entry",
    ),
    path(
        "cases/<uuid:case_id>/adverse-events/new/",
        aftercare.adverse_event_new,
        name="adverse-event-new",
    ),
    path("adverse-events/<uuid:ae_id>/", aftercare.adverse_event, name="adverse-event"),
    path("adverse-events/<uuid:ae_id>/medwatch/", aftercare.medwatch_sheet, name="medwatch"),
    path(
        "adverse-events/<uuid:ae_id>/export.json",
        aftercare.adverse_event_json,
        name="adverse-event-json",
    ),
    # Follow-up: a time point answered at the desk or by phone, "unreachable", and the call list.
    path("follow-up/calls/", follow_up_views.calls, name="follow-up-calls"),
    path(
        "cases/<uuid:case_id>/follow-up/<int:day>/answers/",
        follow_up_views.answer,
        name="follow-up-answer",
    ),
    path(
        "cases/<uuid:case_id>/follow-up/<int:day>/unreachable/",
        follow_up_views.unreachable,
        name="follow-up-unreachable",
    ),
]
