"""The desk's pages after the decision (DESIGN.md, "After the decision"): the treatment course,
the treatment record staff enter for its performer, adverse events with their reporting clocks,
the MedWatch data sheet and the JSON export. Each view checks who asks, validates the shape of
the form and calls one service of clinic.aftercare; what a service refuses comes back as words
on the form (ValidationError) or as a message (AftercareError)."""

import time
from collections.abc import Callable

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_GET

from clinic.aftercare import adverse_events as ae_services
from clinic.aftercare import courses, medwatch, treatments
from clinic.aftercare import selectors as aftercare
from clinic.aftercare.errors import AftercareError
from clinic.aftercare.models import AdverseEvent, TreatmentCourse, TreatmentEntry
from clinic.aftercare.statuses import CourseState
from clinic.aftercare.vocabulary import ClockState
from clinic.web import reads
from clinic.web.desk import aftercare_display as display
from clinic.web.desk.access import desk_required, submitted_key
from clinic.web.desk.aftercare_forms import AdverseEventForm, SubmissionForm, TreatmentEntryForm, local_parts
from clinic.web.desk.course_forms import (
    CancelCourseForm,
    CompleteCourseForm,
    LostToFollowUpForm,
    ScheduleForm,
    StartFollowUpForm,
)
from intake.audit import record_reads
from intake.models import Case, ReadAccess
from intake.workflow import Actor

# A service's field name -> the form field that shows its error (a date and time are two boxes here).
FIELD_OF = {
    "administered_at": "administered_date",
    "appointment_at": "appointment_date",
    "submitted_at": "submitted_on",
}


def apply_service_errors(form: Form, exc: ValidationError) -> None:
    """A service's ValidationError on the form's fields (names through FIELD_OF; a name the form
    does not show goes to the top of the form)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        field = FIELD_OF.get(name, name)
        if field in form.fields and not form.has_error(field):
            form.add_error(field, errors)
        elif field not in form.fields:
            form.add_error(None, errors)


def _case(case_id) -> Case:
    try:
        return reads.case_page(case_id)
    except (Case.DoesNotExist, ValidationError):
        raise Http404("No such case.") from None


def _no_course(request: HttpRequest, case: Case) -> HttpResponse:
    messages.info(
        request,
        "This case has no treatment course: only a decision for a local injection or an infusion opens one.",
    )
    return redirect("desk:case", case_id=case.pk)


def _to_case(case: Case) -> str:
    # Not to its #treatment: the message that says what happened is at the top of the page.
    return reverse("desk:case", kwargs={"case_id": case.pk})


# One-time submission keys. A double click, a resend after a slow answer, or the back button then
# "Send" again carries the key the page was drawn with; the first request with it saves and
# leaves where it went in the cache, the others go there too. A request that finds the first
# still saving waits for it (a few seconds at most) rather than saving a second time.
ONCE_SECONDS = 6 * 3600
_PENDING = "pending"


def _once_name(request: HttpRequest) -> str | None:
    key = submitted_key(request)
    return f"desk-once:{request.user.pk}:{key}" if key else None


def _earlier(name: str) -> str | None:
    """None: this request is the first with its key; else where the first one went."""
    for _ in range(50):
        if cache.add(name, _PENDING, ONCE_SECONDS):
            return None
        went = cache.get(name)
        if went not in (None, _PENDING):
            return went
        time.sleep(0.1)
    return ""


def _saved_once(request: HttpRequest, fallback: str, save: Callable[[], str]) -> HttpResponse:
    """Runs `save` (which returns the page to go to) once per one-time key. ValidationError and
    AftercareError pass through to the caller, and the key may be used again."""
    name = _once_name(request)
    if name is None:
        return redirect(save())
    if (went := _earlier(name)) is not None:
        messages.info(request, "This form was sent twice; it was saved once.")
        return redirect(went or fallback)
    try:
        went = save()
    except BaseException:
        cache.delete(name)
        raise
    cache.set(name, went, ONCE_SECONDS)
    return redirect(went)


@require_GET
@desk_required
def course(request: HttpRequest, case_id) -> HttpResponse:
    case = _case(case_id)
    course = aftercare.course_of(case.pk)
    if course is None:
        return _no_course(request, case)
    record_reads(request=request, cases=[case], channel=ReadAccess.Channel.DESK)
    context = {"case": case, "decision": case.decision, "treatment": display.treatment(case, course)}
    return render(request, "desk/course.html", context)


@desk_required
def course_schedule(request: HttpRequest, case_id) -> HttpResponse:
    case = _case(case_id)
    course = aftercare.course_of(case.pk)
    if course is None:
        return _no_course(request, case)
    if course.state != CourseState.SCHEDULED:
        messages.error(
            request, f"The course is {course.get_state_display().lower()}: there is nothing to book."
        )
        return redirect(_to_case(case))
    day, at = local_parts(course.appointment_at)
    form = ScheduleForm(
        request.POST if request.method == "POST" else None,
        initial={"appointment_date": day, "appointment_time": at},
    )
    if request.method == "POST" and form.is_valid():

        def save() -> str:
            booked = courses.schedule_course(
                course_id=course.pk, actor=Actor.of_user(request.user), appointment_at=form.appointment_at()
            )
            when = timezone.localtime(booked.appointment_at)
            messages.success(request, f"Booked for {when:%Y-%m-%d at %H:%M}.")
            return _to_case(case)

        try:
            return _saved_once(request, _to_case(case), save)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except AftercareError as exc:
            messages.error(request, str(exc))
            return redirect(_to_case(case))
    route_label = display.ROUTE_LABELS.get(course.route, course.route)
    context = {"case": case, "course": course, "form": form, "route_label": route_label}
    return render(request, "desk/course_schedule.html", context, status=400 if form.errors else 200)


# Each confirmation page that moves the course: the state it moves to, what the course cannot do
# otherwise, its form (whose fields are the service's arguments) and the service. The page is
# desk/course_<key>.html; its GET says what follows, its POST makes the move.
COURSE_MOVES = {
    "cancel": (CourseState.CANCELLED, "be cancelled", CancelCourseForm, courses.cancel_course),
    "follow_up": (
        CourseState.FOLLOWING_UP,
        "start its follow-up",
        StartFollowUpForm,
        courses.begin_follow_up,
    ),
    "lost": (
        CourseState.LOST_TO_FOLLOW_UP,
        "be recorded as lost to follow-up",
        LostToFollowUpForm,
        courses.lose_to_follow_up,
    ),
    "complete": (CourseState.COMPLETED, "be completed", CompleteCourseForm, courses.complete_course),
}


def _course_move(request: HttpRequest, case_id, key: str) -> HttpResponse:
    case = _case(case_id)
    course = aftercare.course_of(case.pk)
    if course is None:
        return _no_course(request, case)
    to, cannot, form_class, move = COURSE_MOVES[key]
    if to not in course.facts.next:
        messages.error(
            request, f"The course is {course.get_state_display().lower()}: it cannot {cannot} now."
        )
        return redirect(_to_case(case))
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            moved = move(course_id=course.pk, actor=Actor.of_user(request.user), **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except AftercareError as exc:
            messages.error(request, str(exc))
            return redirect(_to_case(case))
        else:
            messages.success(request, f"The treatment course is now {moved.get_state_display().lower()}.")
            return redirect(_to_case(case))
    context = {"case": case, "course": course, "form": form, "treatment": display.treatment(case, course)}
    return render(request, f"desk/course_{key}.html", context, status=400 if form.errors else 200)


def _course_page(key: str) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, case_id) -> HttpResponse:
        return _course_move(request, case_id, key)

    view.__name__ = view.__qualname__ = f"course_{key}"
    return desk_required(view)


course_cancel = _course_page("cancel")
course_follow_up = _course_page("follow_up")
course_lost = _course_page("lost")
course_complete = _course_page("complete")


def _entry(course: TreatmentCourse, entry_id) -> TreatmentEntry:
    try:
        return TreatmentEntry.objects.get(pk=entry_id, course=course)
    except (TreatmentEntry.DoesNotExist, ValidationError):
        raise Http404("No such treatment entry.") from None


@desk_required
def treatment_entry(request: HttpRequest, case_id, entry_id=None) -> HttpResponse:
    case = _case(case_id)
    course = aftercare.course_of(case.pk)
    if course is None:
        return _no_course(request, case)
    entry = _entry(course, entry_id) if entry_id else None
    if entry is not None and entry.signed_record_id:
        messages.info(request, "This record is signed: it cannot change. Corrections are addenda.")
        return redirect(
            reverse("desk:course", kwargs={"case_id": case.pk}) + f"#record-{entry.signed_record_id}"
        )
    if course.facts.final:
        messages.error(
            request, f"The course is {course.get_state_display().lower()}: no treatment can be recorded."
        )
        return redirect(_to_case(case))
    initial = TreatmentEntryForm.initial_of(entry) if entry else None
    form = TreatmentEntryForm(
        request.POST if request.method == "POST" else None, course=course, initial=initial
    )
    if request.method == "POST" and form.is_valid():

        def save() -> str:
            saved = treatments.save_treatment_entry(
                course_id=course.pk,
                user=request.user,
                values=form.values(),
                entry_id=entry.pk if entry else None,
            )
            sign_url = display.sign_url(saved)
            performer = display.signer_name(saved.performer)
            if sign_url:
                text = 'Saved; {} must sign it in the <a href="{}">review desk</a>.'
                messages.success(request, format_html(text, performer, sign_url))
            else:
                messages.success(request, f"Saved; {performer} must sign it in the review desk.")
            return _to_case(case)

        try:
            return _saved_once(request, _to_case(case), save)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except AftercareError as exc:
            messages.error(request, str(exc))
            return redirect(_to_case(case))
    context = {"case": case, "course": course, "form": form, "entry": entry, "decision": case.decision}
    return render(request, "desk/treatment_entry.html", context, status=400 if form.errors else 200)


@desk_required
def adverse_event_new(request: HttpRequest, case_id) -> HttpResponse:
    case = _case(case_id)
    course = aftercare.course_of(case.pk)
    if course is None:
        return _no_course(request, case)
    form = AdverseEventForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():

        def save() -> str:
            event = ae_services.report_adverse_event(
                course_id=course.pk, source="staff", actor=Actor.of_user(request.user), values=form.values()
            )
            clocks = [c for c in event.clocks.all() if c.state == "open"]
            opened = (
                f" {len(clocks)} reporting clock{'s' if len(clocks) != 1 else ''} opened." if clocks else ""
            )
            messages.success(request, f"Adverse event recorded.{opened}")
            return reverse("desk:adverse-event", kwargs={"ae_id": event.pk})

        try:
            return _saved_once(request, _to_case(case), save)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except AftercareError as exc:
            messages.error(request, str(exc))
            return redirect(_to_case(case))
    context = {"case": case, "course": course, "form": form, "decision": case.decision}
    return render(request, "desk/adverse_event_new.html", context, status=400 if form.errors else 200)


def _adverse_event(ae_id) -> AdverseEvent:
    """An adverse event of a case the desk may open (a sandbox partner's test is not one)."""
    try:
        event = AdverseEvent.objects.select_related("course", "case").get(pk=ae_id, sandbox=False)
    except (AdverseEvent.DoesNotExist, ValidationError):
        raise Http404("No such adverse event.") from None
    event.case = _case(event.case_id)
    return event


@desk_required
def adverse_event(request: HttpRequest, ae_id) -> HttpResponse:
    """The event with its changes and clocks; its post records a submission for one clock."""
    event = _adverse_event(ae_id)
    bound = SubmissionForm(request.POST) if request.method == "POST" else None
    if bound is not None and bound.is_valid():
        clock = event.clocks.select_related("adverse_event").filter(pk=bound.cleaned_data["clock"]).first()
        if clock is None:
            raise Http404("No such reporting clock on this adverse event.")
        here = reverse("desk:adverse-event", kwargs={"ae_id": event.pk})

        def save() -> str:
            data = bound.cleaned_data
            ae_services.record_submission(
                clock_id=clock.pk,
                user=request.user,
                submitted_at=bound.submitted_at(not_before=ae_services.submission_floor(clock)),
                recipient=data["recipient"],
                reference=data["reference"],
            )
            messages.success(request, f"Submission to {data['recipient']} recorded.")
            return here

        try:
            return _saved_once(request, here, save)
        except ValidationError as exc:
            apply_service_errors(bound, exc)
        except AftercareError as exc:
            messages.error(request, str(exc))
            return redirect(here)
    if bound is None:
        record_reads(request=request, cases=[event.case], channel=ReadAccess.Channel.DESK)
    context = {"case": event.case, "event": event, "bound": bound, **display.adverse_event(event)}
    for clock in event.all_clocks:
        # Each clock has its own form on the page: its own ids, the same field names.
        mine = bound is not None and bound.data.get("clock") == str(clock.pk)
        initial = {"clock": clock.pk, "recipient": clock.recipient, "submitted_on": timezone.localdate()}
        clock.submission_form = bound if mine else SubmissionForm(initial=initial)
        clock.submission_form.auto_id = f"clock-{clock.pk}-%s"
    return render(request, "desk/adverse_event.html", context, status=400 if bound is not None else 200)


@require_GET
@desk_required
def medwatch_sheet(request: HttpRequest, ae_id) -> HttpResponse:
    event = _adverse_event(ae_id)
    record_reads(request=request, cases=[event.case], channel=ReadAccess.Channel.DESK)
    live = event.clocks.exclude(state=ClockState.NOT_REQUIRED).order_by("created_at")
    clocks = [display.clock_row(clock, timezone.now()) for clock in live]
    context = {"case": event.case, "event": event, "sheet": medwatch.sheet(event), "clocks": clocks}
    return render(request, "desk/medwatch.html", context)


@require_GET
@desk_required
def adverse_event_json(request: HttpRequest, ae_id) -> JsonResponse:
    event = _adverse_event(ae_id)
    record_reads(request=request, cases=[event.case], channel=ReadAccess.Channel.DESK)
    response = JsonResponse(medwatch.export_json(event), json_dumps_params={"indent": 2})
    name = f"adverse-event-{event.case.reference}-{str(event.pk)[:8]}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
