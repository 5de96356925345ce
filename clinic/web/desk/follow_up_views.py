"""The desk's follow-up pages (DESIGN.md, "Follow-up"): a time point's questionnaires answered at
the desk or by phone (the baseline before treatment, or any later day), "unreachable" with what was
tried, and the follow-up call list: the patients whose links could not be emailed or went
unanswered after the reminders, what is due first at the top.

Each view checks who asks, checks the shape of the form, and calls one use case of
clinic.aftercare.follow_up; the use cases compare-and-set the time point, so of two sends (a double
click, two tabs, two people) one records and the other is told it was already done."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.aftercare import follow_up
from clinic.aftercare import selectors as aftercare
from clinic.aftercare.errors import AftercareError
from clinic.aftercare.instrument_library import get_instrument
from clinic.aftercare.models import TimePoint, TreatmentCourse
from clinic.aftercare.statuses import CourseState
from clinic.web import reads
from clinic.web.desk import follow_up_display as display
from clinic.web.desk.access import desk_required
from clinic.web.desk.aftercare_views import _saved_once
from clinic.web.desk.follow_up_forms import FollowUpAnswersForm, UnreachableForm
from intake.audit import record_reads
from intake.models import Case, ReadAccess

State = TimePoint.State
OPEN = (State.WAITING, State.INVITED, State.CALL)


def _case(case_id) -> Case:
    try:
        return reads.case_page(case_id)
    except (Case.DoesNotExist, ValidationError):
        raise Http404("No such case.") from None


def _time_point(case_id, day: int) -> tuple[Case, TreatmentCourse, TimePoint]:
    """The case, its course and the course's time point for `day` (404 when any is missing)."""
    case = _case(case_id)
    course = aftercare.course_of(case.pk)
    point = TimePoint.objects.filter(course=course, day=day).first() if course else None
    if point is None:
        raise Http404("This case has no follow-up for that day.")
    return case, course, point


def _back(request: HttpRequest, case: Case) -> tuple[str, str]:
    """Where the page returns to: ("calls", the call list) when it was opened from there, else the
    case page's follow-up. Only these two: the address is never taken from the request."""
    source = request.POST if request.method == "POST" else request.GET
    if source.get("back") == "calls":
        return "calls", reverse("desk:follow-up-calls")
    return "case", reverse("desk:case", kwargs={"case_id": case.pk}) + "#follow-up"


def _refusal(point: TimePoint, course: TreatmentCourse) -> str | None:
    """Why nothing can be recorded for this time point now, in a sentence; None when it can."""
    name = display.day_name(point.day)
    if point.state not in OPEN:
        return f"{name} is already {point.get_state_display().lower()}: nothing to record."
    if course.facts.final:
        return f"The treatment course is {course.get_state_display().lower()}: its follow-up has ended."
    if point.day and point.due_on is None:
        return f"{name} counts from the treatment, which is not recorded yet."
    return None


def _refused(request: HttpRequest, text: str, back_url: str) -> HttpResponse:
    messages.error(request, text)
    return redirect(back_url)


@desk_required
def answer(request: HttpRequest, case_id, day: int) -> HttpResponse:
    """Record a time point's answers given at the desk or on the phone, every question required."""
    case, course, point = _time_point(case_id, day)
    back, back_url = _back(request, case)
    # A send is checked by the use case itself (a double click must meet its one-time key first).
    refusal = _refusal(point, course)
    if refusal and request.method != "POST":
        return _refused(request, refusal, back_url)
    specs = [get_instrument(key) for key in point.instruments]
    initial = {"back": back, "source": "phone" if back == "calls" else None}
    form = FollowUpAnswersForm(
        request.POST if request.method == "POST" else None, specs=specs, initial=initial
    )
    if request.method == "POST" and not form.is_valid() and refusal:
        return _refused(request, refusal, back_url)
    if request.method == "POST" and form.is_valid():

        def save() -> str:
            source = form.cleaned_data["source"]
            done = follow_up.record_desk_answers(
                time_point_id=point.pk,
                user=request.user,
                answers_by_instrument=form.answers_by_instrument(),
                source=source,
            )
            how = "at the desk" if source == "desk" else "by phone"
            messages.success(
                request, f"{display.day_name(done.day)} recorded ({how}). {display.answered_words(done)}."
            )
            return back_url

        try:
            return _saved_once(request, back_url, save)
        except ValidationError as exc:
            form.add_service_errors(exc)
        except AftercareError as exc:
            return _refused(request, str(exc), back_url)
    if request.method == "GET":
        record_reads(request=request, cases=[case], channel=ReadAccess.Channel.DESK)
    context = {
        "case": case,
        "point": _described(point),
        "form": form,
        "back_url": back_url,
        "early": point.state == State.WAITING and point.due_on and point.due_on > timezone.localdate(),
    }
    return render(request, "desk/follow_up_answer.html", context, status=400 if form.errors else 200)


def _described(point: TimePoint) -> TimePoint:
    today = timezone.localdate()
    point.name, point.after = display.day_name(point.day), display.after_words(point.day)
    point.due_text = display.due_words(point.due_on, today)
    return point


@desk_required
def unreachable(request: HttpRequest, case_id, day: int) -> HttpResponse:
    """The desk could not reach the patient for this time point: a confirmation page that says what
    follows, with what was tried; its post ends the time point unanswered."""
    case, course, point = _time_point(case_id, day)
    back, back_url = _back(request, case)
    # A send is checked by the use case itself (a double click must meet its one-time key first).
    refusal = _refusal(point, course)
    if refusal and request.method != "POST":
        return _refused(request, refusal, back_url)
    form = UnreachableForm(request.POST if request.method == "POST" else None, initial={"back": back})
    if request.method == "POST" and not form.is_valid() and refusal:
        return _refused(request, refusal, back_url)
    if request.method == "POST" and form.is_valid():

        def save() -> str:
            done = follow_up.mark_unreachable(
                time_point_id=point.pk, user=request.user, note=form.cleaned_data["note"]
            )
            course.refresh_from_db()
            moved = (
                ""
                if not course.facts.final
                else f" The treatment course is now {course.get_state_display().lower()}."
            )
            messages.success(request, f"{display.day_name(done.day)} recorded as unreachable.{moved}")
            return back_url

        try:
            return _saved_once(request, back_url, save)
        except ValidationError as exc:
            form.add_error("note" if "note" in exc.message_dict else None, exc.messages)
        except AftercareError as exc:
            return _refused(request, str(exc), back_url)
    if request.method == "GET":
        record_reads(request=request, cases=[case], channel=ReadAccess.Channel.DESK)
    context = {
        "case": case,
        "point": _described(point),
        "form": form,
        "back_url": back_url,
        "consequence": consequence(point, course),
    }
    return render(request, "desk/follow_up_unreachable.html", context, status=400 if form.errors else 200)


def consequence(point: TimePoint, course: TreatmentCourse) -> str:
    """What recording "unreachable" leads to besides this time point, said before it is done."""
    if point.day == 0:
        return (
            "Without a baseline, later answers are scored but cannot be compared: no change from the "
            "baseline and no responder status."
        )
    later = list(TimePoint.objects.filter(course=course, day__gt=0).exclude(pk=point.pk).order_by("day"))
    still_open = [p.day for p in later if p.state in OPEN]
    if still_open or course.state not in (CourseState.TREATED, CourseState.FOLLOWING_UP):
        days = ", ".join(f"day {day}" for day in still_open)
        return f"The follow-up goes on{': ' + days + ' still to come' if days else ''}."
    if any(p.state == State.COMPLETED for p in later):
        return "This is the last open time point: the treatment course will then be completed."
    return (
        "This is the last open time point and no time point after treatment was answered: the "
        "treatment course will then be recorded as lost to follow-up."
    )


@require_GET
@desk_required
def calls(request: HttpRequest) -> HttpResponse:
    """The follow-up call list, what is due first at the top."""
    points = display.call_rows(follow_up.call_list(limit=100))
    record_reads(request=request, cases=[point.case for point in points], channel=ReadAccess.Channel.DESK)
    total = display.calls_count()
    context = {"points": points, "follow_up_calls": total, "more": total > len(points)}
    return render(request, "desk/follow_up_calls.html", context)
