"""The review page's actions: each calls one `recommendations.review` service. A signed one
(approve, amend, decline, an addendum) goes through the confirmation step first (signing.py)."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse

from intake.models import Case
from recommendations import review, selectors
from recommendations.admin import inbox
from recommendations.admin.signing import SIGNED_ACTIONS, ConfirmForm, sign
from recommendations.forms import AddendumForm, ReviewActionForm

DONE = {
    "claim": "You claimed this case.",
    "release": "Claim released.",
    "approve": "Draft approved.",
    "amend": "Decision recorded: amended.",
    "decline": "Decision recorded: declined.",
    "ask": "Question sent; the case now waits for information.",
}
HEADINGS = {
    "approve": "Approve the draft",
    "amend": "Amend to another route",
    "decline": "Decline",
    "addendum": "Add an addendum",
}


def _service(action: str, case: Case, user: AbstractBaseUser, data: dict) -> Callable[[], object]:
    services = {
        "claim": lambda: review.claim_case(case_id=case.pk, user=user),
        "release": lambda: review.release_claim(case_id=case.pk, user=user),
        "approve": lambda: review.approve_draft(case_id=case.pk, user=user),
        "amend": lambda: review.amend_draft(
            case_id=case.pk, user=user, route=data["route"], reason=data["reason"], protocol=data["protocol"]
        ),
        "decline": lambda: review.decline_case(case_id=case.pk, user=user, reason=data["reason"]),
        "ask": lambda: review.request_information(case_id=case.pk, user=user, question=data["question"]),
    }
    return services[action]


def act(request: HttpRequest, case: Case, *, page: dict) -> HttpResponse | ReviewActionForm:
    """A response (the confirmation, or back to the page once done), or the form with what is
    wrong for the review page to show again. `page` is the admin's context for a page."""
    form = ReviewActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That action is not known; reload the page and try again.")
        return form
    if "edit" in request.POST:  # back from the confirmation to change what was typed
        return form
    data = form.cleaned_data
    run = _service(data["action"], case, request.user, data)
    try:
        if data["action"] in SIGNED_ACTIONS:
            kept = {name: data[name] for name in ("action", "route", "protocol", "reason")}
            return _signed(request, case, run, page=page, action=data["action"], fields=kept)
        run()
    except review.ReviewError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(request.path)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return form
    messages.success(request, DONE[data["action"]])
    return HttpResponseRedirect(request.path)


def add_addendum(request: HttpRequest, case: Case, *, page: dict) -> HttpResponse | AddendumForm:
    form = AddendumForm(request.POST)
    decision = selectors.decision_of(case)
    if decision is None:
        messages.error(request, "Only a decided case takes an addendum.")
        return HttpResponseRedirect(request.path)
    if not form.is_valid() or "edit" in request.POST:
        return form
    reason = form.cleaned_data["reason"]
    run = lambda: review.add_addendum(decision_id=decision.pk, user=request.user, reason=reason)  # noqa: E731
    try:
        return _signed(
            request, case, run, page=page, action="addendum", fields={"addendum": "1", "reason": reason}
        )
    except review.ReviewError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(request.path)
    except ValidationError as exc:
        for errors in exc.message_dict.values():
            form.add_error("reason", errors)
        return form


def _signed(
    request: HttpRequest, case: Case, run: Callable, *, page: dict, action: str, fields: dict
) -> HttpResponse:
    """Show what `run` would sign; once the specialist confirms that very record, keep it."""
    answer = ConfirmForm(request.POST)
    confirm = answer.cleaned_data["confirm"] if answer.is_valid() else ""
    record, signing = sign(run, confirmed=answer.cleaned_data["fingerprint"] if confirm else "")
    if record is None:
        context = {
            **page,
            "title": f"Check and sign: {HEADINGS[action].lower()}",
            "heading": HEADINGS[action],
            "case": case,
            "signing": signing,
            "fields": fields,
            # Confirmed, but what it would sign is no longer what was shown: shown again instead.
            "changed": bool(confirm),
            "review_url": request.path,
        }
        return TemplateResponse(request, "admin/recommendations/confirm.html", context)
    if action == "addendum":
        messages.success(request, "Addendum added.")
    elif confirm == "next":
        messages.success(request, f"Signed case {case.reference}: {signing.outcome}, {signing.route}.")
    else:
        messages.success(request, DONE[action])
    if confirm == "next":
        return inbox.open_next_case(request, after=case.pk)
    return HttpResponseRedirect(request.path)
