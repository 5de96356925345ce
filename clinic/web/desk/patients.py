"""Front-desk pages about patients: finding one (with their open cases and any contact details a
partner sent that wait for the desk), registering one, and taking or leaving those details."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.web.desk.access import apply_errors, desk_required, submitted_key
from clinic.web.desk.forms import DismissContactForm, NewPatientForm, PatientSearchForm
from intake import contacts, selectors
from intake.matching import likely_duplicates, search_date, search_patients
from intake.models import PendingContactUpdate
from intake.services import create_patient, patient_from_submission
from intake.workflow import Actor


@require_GET
@desk_required
def patient_search(request: HttpRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET or None)
    if form.is_valid() and (case := selectors.case_by_reference(form.cleaned_data["q"])):
        return redirect("desk:case", case_id=case.pk)  # a case reference, C-2026-000123
    query = form.cleaned_data["q"] if form.is_valid() else ""
    patients = search_patients(query) if query.strip() else []
    open_cases = selectors.open_cases_of([patient.pk for patient in patients]) if patients else {}
    results = [
        {
            "patient": patient,
            "open_cases": open_cases.get(patient.pk, []),
            "contact_updates": selectors.pending_contact_updates(patient.pk),
        }
        for patient in patients
    ]
    context = {"form": form, "query": query, "results": results, "searched_date": search_date(query)}
    return render(request, "desk/patient_search.html", context)


@desk_required
def new_patient(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and (already := patient_from_submission(submitted_key(request))):
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
                apply_errors(form, exc)
            else:
                messages.success(
                    request, f"Registered {patient.given_name} {patient.family_name}, MRN {patient.mrn}."
                )
                return redirect("desk:new-case", patient_id=patient.pk)
    return render(request, "desk/patient_new.html", {"form": form, "matches": matches})


def _update(update_id) -> PendingContactUpdate:
    try:
        return PendingContactUpdate.objects.select_related("patient", "case", "partner", "resolved_by").get(
            pk=update_id, patient__sandbox=False
        )
    except PendingContactUpdate.DoesNotExist:
        raise Http404("No such contact update.") from None


def _back(request: HttpRequest, update: PendingContactUpdate) -> HttpResponse:
    """To the page the desk came from (the case page or the search), else the referral's case."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=False):
        return redirect(target)
    return redirect("desk:case", case_id=update.case_id)


def _already(request: HttpRequest, update: PendingContactUpdate) -> None:
    by = update.resolved_by.get_username() if update.resolved_by else "someone"
    when = update.resolved_at.strftime("%Y-%m-%d %H:%M") if update.resolved_at else ""
    messages.info(
        request, f"These contact details were already {update.outcome} by {by} {when}; nothing changed."
    )


@require_http_methods(["GET", "POST"])
@desk_required
def accept_contact_update(request: HttpRequest, update_id) -> HttpResponse:
    """GET: what taking the partner's contact details changes in the patient record, to confirm.
    POST (from that page): take them."""
    update = _update(update_id)
    if not update.is_pending:
        _already(request, update)
        return _back(request, update)
    if request.method == "GET":
        target = request.GET.get("next", "")
        safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=False)
        context = {"update": update, "patient": update.patient, "next": target if safe else ""}
        return render(request, "desk/contact_update_confirm.html", context)
    try:
        patient = contacts.accept_contact_update(update_id=update.pk, actor=Actor.of_user(request.user))
    except ValidationError as exc:  # the details no longer pass the patient record's checks
        messages.error(request, " ".join(exc.messages))
        return _back(request, update)
    messages.success(
        request,
        f"The patient record of {patient.family_name}, {patient.given_name} has the new contact details.",
    )
    return _back(request, update)


@require_POST
@desk_required
def dismiss_contact_update(request: HttpRequest, update_id) -> HttpResponse:
    """Leave the patient record as it is; the partner's details are kept with the referral."""
    update = _update(update_id)
    form = DismissContactForm(request.POST)
    if not update.is_pending:
        _already(request, update)
    elif not form.is_valid():
        messages.error(request, " ".join(form.errors.get("reason", [])))
    else:
        contacts.dismiss_contact_update(
            update_id=update.pk, actor=Actor.of_user(request.user), reason=form.cleaned_data["reason"]
        )
        messages.success(request, "Dismissed: the patient record keeps its contact details.")
    return _back(request, update)
