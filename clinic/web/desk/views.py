"""Front-desk pages. Each view checks who is asking, validates, calls a service."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinic.aftercare import selectors as aftercare
from clinic.web import reads
from clinic.web.desk import aftercare_display, follow_up_display
from clinic.web.desk.access import apply_errors, desk_required, submitted_key
from clinic.web.desk.forms import AnswerForm, DismissContactForm, IntakeForm, WithdrawForm
from clinic.web.desk.wording import readable
from intake import selectors
from intake.audit import record_reads
from intake.clinical import Answer, Consent
from intake.models import Case, CaseStatus, ConsentBy, Patient, ReadAccess
from intake.services import answer_information, create_case, withdraw_case
from intake.statuses import BOARD_GROUPS, PROGRESS_STEPS, STATUS
from intake.vocabulary.conditions import find_codes
from intake.vocabulary.findings_display import condition_rows, finding_rows
from intake.workflow import Actor, TransitionError
from recommendations.selectors import decision_of

ATTENTION_GROUPS = frozenset(group.key for group in BOARD_GROUPS if group.needs_attention)


@require_GET
@desk_required
def board(request: HttpRequest) -> HttpResponse:
    groups = reads.board()
    for group in groups:
        for case in group.cases:
            case.question_text = readable(case.open_question)
    context = {
        "groups": groups,
        "board_version": _board_version(),
        **aftercare_display.board_lists(),
        # The follow-up call list's length (the nav's "Follow-up calls: N" on the board).
        "follow_up_calls": follow_up_display.calls_count(),
    }
    template = "desk/_board.html" if request.GET.get("fragment") else "desk/board.html"
    return render(request, template, context)


def _board_version() -> str:
    # A course booked or moved, an adverse event reported, a submission recorded or a follow-up step
    # (a patient put on the call list, an answer) redraws it too.
    return (
        f"{selectors.board_version()}|{aftercare_display.board_version()}|{follow_up_display.board_version()}"
    )


@require_GET
@desk_required
def board_changes(request: HttpRequest) -> JsonResponse:
    """Has any case changed since the board was drawn? The board asks every few seconds (as a
    background poll, which does not keep the user signed in) and redraws only when so."""
    version = _board_version()
    return JsonResponse({"changed": version != request.GET.get("since", ""), "version": version})


@desk_required
def new_case(request: HttpRequest, patient_id) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id, sandbox=False)
    if request.method == "POST" and (already := selectors.case_from_submission(submitted_key(request))):
        # A double click or a resubmit of the same page: its one-time key made this case.
        return redirect("desk:case", case_id=already.pk)
    form = IntakeForm(request.POST or None)
    if request.method == "POST":
        valid = form.is_valid()
        if already := _just_sent(request, patient, form if valid else None):
            messages.info(request, f"This intake was already sent for review as case {already.reference}.")
            return redirect("desk:case", case_id=already.pk)
        if valid:
            data = form.cleaned_data
            try:
                case = create_case(
                    patient=patient,
                    actor=Actor.of_user(request.user),
                    condition_code=data["condition_code"],
                    condition_text=data["condition_text"],
                    affected_sites=data["affected_sites"],
                    contraindications=form.contraindications(),
                    consent_obtained=data["consent_obtained"],
                    consent_form_version=data["consent_form_version"],
                    findings=data["findings"],
                    additional_conditions=data["additional_conditions"],
                    consent_by=data["consent_by"],
                    assent=data["assent"],
                    breastfeeding=data["breastfeeding"],
                    goals=data["goals"],
                    notes=data["notes"],
                    priority=data["priority"],
                    submission_key=data["submission_key"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                _remember_sent(request, case)
                return redirect("desk:case", case_id=case.pk)
    earlier = selectors.recent_cases_of(patient.pk)
    context = {"form": form, "patient": patient, "earlier": earlier, "minor": _is_minor(patient)}
    return render(request, "desk/case_new.html", context)


def _is_minor(patient: Patient) -> bool:
    born, today = patient.birth_date, timezone.localdate()
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return age < settings.DRAFT_AGE_OF_MAJORITY


# After "Send for review", the back button shows the intake form again, drawn afresh (a new
# one-time key, and a browser leaves out the fields it does not restore, such as the condition
# code). For a few minutes, the session remembers the case it just sent for each patient, and a
# form for that patient sent again is taken to that case: when it no longer validates (fields
# lost on the way back), or names the same condition. A second intake for another condition goes through.
JUST_SENT_MINUTES = 10


def _remember_sent(request: HttpRequest, case: Case) -> None:
    sent = request.session.get("just_sent", {})
    sent[str(case.patient_id)] = [str(case.pk), timezone.now().timestamp()]
    request.session["just_sent"] = sent


def _just_sent(request: HttpRequest, patient: Patient, form: IntakeForm | None) -> Case | None:
    case_id, at = request.session.get("just_sent", {}).get(str(patient.pk), (None, 0))
    if case_id is None or timezone.now().timestamp() - at > JUST_SENT_MINUTES * 60:
        return None
    if form is not None and form.cleaned_data["condition_code"] != selectors.case_code(case_id):
        return None
    return selectors.case_for_patient(case_id=case_id, patient_id=patient.pk)


def _case(case_id) -> Case:
    try:
        return reads.case_page(case_id)
    except (Case.DoesNotExist, ValidationError):  # ValidationError: not a UUID at all
        raise Http404("No such case.") from None


@require_GET
@desk_required
def case_detail(request: HttpRequest, case_id) -> HttpResponse:
    case = _case(case_id)
    record_reads(request=request, cases=[case], channel=ReadAccess.Channel.DESK)
    return render(request, "desk/case_detail.html", _case_context(case))


def _events(case: Case) -> list:
    events = list(selectors.timeline(case))
    for event in events:
        event.note_text = readable(event.note)
    return events


def _case_context(case: Case, answer_form=None, withdraw_form=None) -> dict:
    facts = STATUS[case.status]
    reached = facts.progress_step
    course = aftercare.course_of(case.pk)
    return {
        "case": case,
        "decision": decision_of(case),
        # The case's own events with the treatment course's, its records, adverse events and follow-up.
        "events": _with_follow_up(case, aftercare_display.timeline(case, course, _events(case))),
        "treatment": aftercare_display.treatment(case, course),
        "follow_up": follow_up_display.section(case, course),
        "question": readable(case.open_question),
        "contact_updates": selectors.pending_contact_updates(case.patient_id),
        "dismiss_form": DismissContactForm(),
        "steps": []
        if reached is None
        else [
            (facts.progress_label if i == reached else label, i < reached, i == reached)
            for i, label in enumerate(PROGRESS_STEPS)
        ],
        "status_note": facts.desk_note.format(
            due_at=timezone.localtime(case.due_at).strftime("%Y-%m-%d %H:%M")
        ),
        "status_alarm": facts.board_group in ATTENTION_GROUPS,
        "in_progress": facts.awaits_draft,
        "answer_form": answer_form or AnswerForm(case=case),
        "answer_open": _open_parts(answer_form),
        "findings": finding_rows(case.findings),
        "additional_conditions": condition_rows(case.additional_conditions),
        "consent_by": ConsentBy(case.consent_by).label if case.consent_by in ConsentBy.values else "",
        "minor": _is_minor(case.patient),
        "withdraw_form": withdraw_form or WithdrawForm(),
        "can_withdraw": not facts.final,
    }


def _with_follow_up(case: Case, events: list) -> list:
    """The timeline with the follow-up's steps (links made and sent, calls, answers) in their place."""
    steps = follow_up_display.timeline_items(case)
    return sorted([*events, *steps], key=lambda e: (e.created_at, e.chain_seq or 0)) if steps else events


def _open_parts(form: AnswerForm | None) -> dict[str, bool]:
    """Which folded parts of the answer form hold an error, so they are drawn open."""
    names = set(form.errors) if form is not None else set()
    return {
        "conditions": any(name.startswith("condition_") for name in names),
        "findings": any(name.startswith("finding_") for name in names),
        "consent": bool(names & {"consent_obtained", "consent_by", "consent_form_version", "assent"}),
    }


@require_POST
@desk_required
def answer(request: HttpRequest, case_id) -> HttpResponse:
    case = _case(case_id)
    form = AnswerForm(request.POST, case=case)
    if form.is_valid():
        try:
            answer_information(case=case, actor=Actor.of_user(request.user), answer=_answer_of(form))
        except TransitionError as exc:  # someone else moved the case meanwhile
            messages.error(request, str(exc))
            return redirect("desk:case", case_id=case.pk)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Answer sent; the case is being drafted again.")
            return redirect("desk:case", case_id=case.pk)
    return render(request, "desk/case_detail.html", _case_context(case, answer_form=form), status=400)


def _answer_of(form: AnswerForm) -> Answer:
    """The Answer a valid answer form holds."""
    data, consent = form.cleaned_data, form.consent()
    return Answer(
        answer=data["answer"],
        condition_code=data["condition_code"] or None,
        affected_sites=data["affected_sites"],
        findings=data["findings"],
        additional_conditions=data["additional_conditions"],
        contraindications=form.answers(),
        consent=None
        if consent is None
        else Consent(
            obtained=consent["obtained"],
            by=consent["by"] or "",
            form_version=consent["form_version"],
            assent=consent["assent"],
        ),
    )


@require_POST
@desk_required
def withdraw(request: HttpRequest, case_id) -> HttpResponse:
    """Withdrawing is permanent: the first post shows what it does, with the reason as it will be
    kept; only the confirmation page's post (`confirmed`) withdraws."""
    case = _case(case_id)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return render(request, "desk/case_detail.html", _case_context(case, withdraw_form=form), status=400)
    if STATUS[case.status].final:
        messages.error(
            request, f"This case is already {case.get_status_display().lower()}; nothing was changed."
        )
        return redirect("desk:case", case_id=case.pk)
    if not form.cleaned_data["confirmed"]:
        closed = next(g.title for g in BOARD_GROUPS if g.key == STATUS[CaseStatus.WITHDRAWN].board_group)
        context = {
            "case": case,
            "form": form,
            "status_label": STATUS[case.status].desk_label,
            "closed": closed,
        }
        return render(request, "desk/withdraw_confirm.html", context)
    try:
        withdraw_case(case=case, actor=Actor.of_user(request.user), reason=form.cleaned_data["reason"])
    except TransitionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Case {case.reference} was withdrawn.")
    return redirect("desk:case", case_id=case.pk)


@require_GET
@desk_required
def code_search(request: HttpRequest) -> JsonResponse:
    """The intake form's condition search: real ICD-10-CM codes, the clinic's first. The words
    may be as long as a person types them; beyond 200 characters they are no search any more."""
    query = request.GET.get("q", "")[:200]
    results = [
        {
            "code": code.code,
            "descriptor": code.descriptor,
            "category": entry.category if entry else None,
        }
        for code, entry in (find_codes(query) if len(query.strip()) >= 2 else [])
    ]
    return JsonResponse(results, safe=False)


@require_GET
@desk_required
def case_status(request: HttpRequest, case_id) -> JsonResponse:
    status = get_object_or_404(Case.objects.only("status"), pk=case_id, sandbox=False).status
    return JsonResponse({"status": status, "label": STATUS[status].desk_label})


@require_GET
@desk_required
def case_print(request: HttpRequest, case_id) -> HttpResponse:
    case = _case(case_id)
    if case.status != CaseStatus.DECIDED:
        messages.error(request, "There is no decision to print yet.")
        return redirect("desk:case", case_id=case.pk)
    record_reads(request=request, cases=[case], channel=ReadAccess.Channel.DESK)
    context = {
        "case": case,
        "decision": case.decision,
        "clinic_name": settings.CLINIC_NAME,
        "clinic_address": settings.CLINIC_ADDRESS,
    }
    return render(request, "desk/case_print.html", context)


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for on pages that name no icon (the admin's, a JSON reply)."""
    return redirect(static("desk/favicon.ico"), permanent=False)
