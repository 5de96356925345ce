"""Front-desk pages. Each view checks who is asking, validates, calls a service."""

import uuid
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinic.web import reads
from clinic.web.desk.forms import AnswerForm, IntakeForm, NewPatientForm, PatientSearchForm, WithdrawForm
from intake import selectors
from intake.audit import record_reads
from intake.clinical import Answer, Consent
from intake.matching import likely_duplicates, search_patients
from intake.models import Case, CaseStatus, ConsentBy, Patient, ReadAccess
from intake.roles import is_desk_user
from intake.services import (
    answer_information,
    create_case,
    create_patient,
    patient_from_submission,
    withdraw_case,
)
from intake.statuses import BOARD_GROUPS, PROGRESS_STEPS, STATUS
from intake.vocabulary.conditions import find_codes
from intake.vocabulary.findings_display import condition_rows, finding_rows
from intake.workflow import Actor, TransitionError
from recommendations.selectors import decision_of


def desk_required(view):
    """Front desk or specialist accounts only; anyone else is sent to sign in."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not is_desk_user(request.user):
            if request.user.is_authenticated:
                messages.error(request, "This account has no access to the front desk.")
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


ATTENTION_GROUPS = frozenset(group.key for group in BOARD_GROUPS if group.needs_attention)


def _submitted_key(request: HttpRequest) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.POST.get("submission_key", ""))
    except ValueError:
        return None


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(form, "add_service_errors"):  # the intake forms map findings.kl_grade and the like
        form.add_service_errors(exc)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@require_GET
@desk_required
def board(request: HttpRequest) -> HttpResponse:
    groups = reads.board()
    context = {"groups": groups, "board_version": selectors.board_version()}
    template = "desk/_board.html" if request.GET.get("fragment") else "desk/board.html"
    return render(request, template, context)


@require_GET
@desk_required
def board_changes(request: HttpRequest) -> JsonResponse:
    """Has any case changed since the board was drawn? The board asks every few seconds (as a
    background poll, which does not keep the user signed in) and redraws only when so."""
    version = selectors.board_version()
    return JsonResponse({"changed": version != request.GET.get("since", ""), "version": version})


@require_GET
@desk_required
def patient_search(request: HttpRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET or None)
    if form.is_valid() and (case := selectors.case_by_reference(form.cleaned_data["q"])):
        return redirect("desk:case", case_id=case.pk)  # a case reference, C-2026-000123
    results = search_patients(form.cleaned_data["q"]) if form.is_valid() else []
    return render(request, "desk/patient_search.html", {"form": form, "results": results})


@desk_required
def new_patient(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and (already := patient_from_submission(_submitted_key(request))):
        # A double click, a resubmit or the back button: the patient this form registered.
        return redirect("desk:new-case", patient_id=already.pk)
    form = NewPatientForm(request.POST or None)
    matches = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not data["confirm_new"]:
            matches = likely_duplicates(
                given_name=data["given_name"],
                family_name=data["family_name"],
                birth_date=data["birth_date"],
                phone=data["phone"],
                email=data["email"],
            )
        if not matches:
            try:
                patient = create_patient(
                    given_name=data["given_name"],
                    family_name=data["family_name"],
                    birth_date=data["birth_date"],
                    sex=data["sex"],
                    phone=data["phone"],
                    email=data["email"],
                    mrn=data["mrn"],
                    submission_key=data["submission_key"],
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(
                    request, f"Registered {patient.given_name} {patient.family_name}, MRN {patient.mrn}."
                )
                return redirect("desk:new-case", patient_id=patient.pk)
    return render(request, "desk/patient_new.html", {"form": form, "matches": matches})


@desk_required
def new_case(request: HttpRequest, patient_id) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id, sandbox=False)
    if request.method == "POST" and (already := selectors.case_from_submission(_submitted_key(request))):
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
                _apply_errors(form, exc)
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


def _case_context(case: Case, answer_form=None, withdraw_form=None) -> dict:
    facts = STATUS[case.status]
    reached = facts.progress_step
    return {
        "case": case,
        "decision": decision_of(case),
        "events": selectors.timeline(case),
        "steps": []
        if reached is None
        else [(label, i < reached, i == reached) for i, label in enumerate(PROGRESS_STEPS)],
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
            _apply_errors(form, exc)
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
    case = _case(case_id)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            withdraw_case(case=case, actor=Actor.of_user(request.user), reason=form.cleaned_data["reason"])
        except TransitionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "The case was withdrawn.")
        return redirect("desk:case", case_id=case.pk)
    return render(request, "desk/case_detail.html", _case_context(case, withdraw_form=form), status=400)


@require_GET
@desk_required
def code_search(request: HttpRequest) -> JsonResponse:
    """The intake form's condition search: real ICD-10-CM codes, the clinic's first."""
    query = request.GET.get("q", "")[:100]
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
    return JsonResponse({"status": status, "label": CaseStatus(status).label})


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
