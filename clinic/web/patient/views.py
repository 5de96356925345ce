"""The patient's follow-up page (DESIGN.md, "Follow-up"): `/f/<token>`, no sign-in, no name in the
address or the title. Each view finds the invitation by its token and calls one use case of
clinic.aftercare.follow_up; a link it refuses (used, expired, not valid) gets a kind page with the
clinic's number and nothing that tells a guesser more. Answers are saved one by one as they are
chosen (the page's script) or a page at a time (without script), and restored when the link is
opened again."""

import re
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.aftercare import follow_up
from clinic.aftercare.follow_up import LinkRefused
from clinic.aftercare.instrument_library import get_instrument
from clinic.aftercare.models import Invitation
from clinic.web.patient import questions
from clinic.web.patient.forms import LastQuestionForm
from clinic.web.patient.questions import UNEXPECTED_TEXT_MAX, Page

# What each refusal says: what happened in plain words, never why beyond used, expired or not valid.
REFUSED = {
    LinkRefused.USED: (
        410,
        "These answers have already been sent",
        "This link was for one set of questions, and they have been answered and sent. "
        "There is nothing more to do. Thank you.",
    ),
    LinkRefused.EXPIRED: (
        410,
        "This link has expired",
        "Links to the follow-up questions work for a limited time, and this one has run out. "
        "The clinic can take your answers by phone.",
    ),
    LinkRefused.UNKNOWN: (
        404,
        "This link is not valid",
        "This page could not be opened from this address. If you typed it, or copied it from the "
        "email, check that the whole link is there.",
    ),
}


def _private(response: HttpResponse) -> HttpResponse:
    # Health answers: kept out of shared caches and the back-forward cache of a shared phone, the
    # page out of search engines. The site's Referrer-Policy (same-origin) already keeps the token
    # from other sites; "no-referrer" would make Chromium send "Origin: null" with the page's own
    # forms, which Django's CSRF check then refuses.
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page(
    request: HttpRequest, template: str, context: dict | None = None, status: int = 200
) -> HttpResponse:
    phone = getattr(settings, "CLINIC_PHONE", "")
    clinic = {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": phone,
        "clinic_phone_dial": re.sub(r"[^\d+]", "", phone),
    }
    return _private(render(request, template, clinic | (context or {}), status=status))


def _refused(request: HttpRequest, reason: str, *, as_json: bool = False) -> HttpResponse:
    status, headline, explanation = REFUSED.get(reason, REFUSED[LinkRefused.UNKNOWN])
    if as_json:
        return _private(JsonResponse({"refused": True, "message": headline}, status=status))
    context = {"headline": headline, "explanation": explanation, "answered": reason == LinkRefused.USED}
    return _page(request, "patient/refused.html", context, status)


def with_link(*, as_json: bool = False) -> Callable:
    """The view gets the invitation the token opens; a refused token gets its page instead."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, token: str) -> HttpResponse:
            try:
                return view(request, follow_up.invitation_for_token(token), token)
            except LinkRefused as refused:  # on opening, or sent or expired meanwhile
                return _refused(request, refused.reason, as_json=as_json)

        return wrapper

    return decorate


def _pages(invitation: Invitation, errors: dict[str, str] | None = None) -> list[Page]:
    specs = [get_instrument(key) for key in invitation.time_point.instruments]
    return questions.build_pages(specs, follow_up.answers_so_far(invitation), errors)


def _numbered(pages: list[Page], raw: object) -> Page | None:
    try:
        number = int(str(raw))
    except ValueError:
        return None
    return pages[number - 1] if 1 <= number <= len(pages) else None


def _form(
    request: HttpRequest, invitation: Invitation, token: str, pages: list[Page], page: Page, **extra
) -> HttpResponse:
    day = invitation.time_point.day
    form_url = reverse("patient:form", args=[token])
    back_url = None
    if page.number > 1:
        back_url = f"{form_url}?page={page.number - 1}#q-{pages[page.number - 2].last}"
    unexpected = {
        "question": questions.unexpected_question(day),
        "choice": "",
        "text": "",
        "error": "",
        "text_error": "",
        "max_length": UNEXPECTED_TEXT_MAX,
    } | extra.pop("unexpected", {})
    context = {
        "token": token,
        "pages_total": len(pages),
        "total": page.total,
        "page": page,
        "when": questions.when(day),
        "action": reverse("patient:send", args=[token]) if page.is_last else f"{form_url}?page={page.number}",
        "back_url": back_url,
        "next_label": "Check my answers" if page.is_last else "Save and continue",
        "expires_on": date_format(timezone.localtime(invitation.expires_at), "j F Y"),
        "unexpected": unexpected,
        "errors": [],
    } | extra
    return _page(request, "patient/form.html", context)


def _save_page(token: str, page: Page, answers: dict[str, str]) -> dict[str, str]:
    """Save what the page posted; what the instrument refuses is left out (the rest is still
    saved) and comes back as {field: message}."""
    errors: dict[str, str] = {}
    while answers:
        try:
            follow_up.save_answers(token=token, instrument=page.instrument, answers=answers)
            break
        except ValidationError as refused:
            by_item = getattr(refused, "message_dict", {"": refused.messages})
            bad = {link_id: " ".join(messages) for link_id, messages in by_item.items() if link_id in answers}
            if not bad:  # not about one answer: nothing more to keep
                errors[""] = " ".join(refused.messages)
                break
            errors |= {f"{page.instrument}.{link_id}": message for link_id, message in bad.items()}
            answers = {link_id: value for link_id, value in answers.items() if link_id not in bad}
    return errors


@require_http_methods(["GET", "POST"])
@with_link()
def form(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    pages = _pages(invitation)
    if request.method == "GET":
        page = _numbered(pages, request.GET.get("page")) or questions.first_open_page(pages)
        saved_note = "Saved: your answers so far." if request.GET.get("saved") == "1" else ""
        return _form(request, invitation, token, pages, page, saved_note=saved_note)

    page = _numbered(pages, request.POST.get("page")) or _numbered(pages, request.GET.get("page"))
    if page is None or page.is_last:
        return HttpResponseRedirect(reverse("patient:form", args=[token]))
    errors = _save_page(token, page, questions.page_answers(page, request.POST))
    page = _pages(invitation)[page.number - 1]
    errors = {q.field: "Choose an answer to this question." for q in page.missing} | errors
    if not errors:
        return HttpResponseRedirect(f"{reverse('patient:form', args=[token])}?page={page.number + 1}&saved=1")
    pages = _pages(invitation, errors)
    page = pages[page.number - 1]
    summary = [(f"#q-{q.number}", f"Question {q.number}: {q.error}") for q in page.questions if q.error]
    if "" in errors:
        summary.append(("#main", errors[""]))
    return _form(request, invitation, token, pages, page, errors=summary)


@require_POST
@with_link(as_json=True)
def answer(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    """One answer, saved as soon as it is chosen (the page's script)."""
    instrument, link_id = request.POST.get("instrument", ""), request.POST.get("link_id", "")
    if instrument not in invitation.time_point.instruments or not link_id:
        return _private(JsonResponse({"message": "That question is not on this form."}, status=400))
    try:
        follow_up.save_answers(
            token=token, instrument=instrument, answers={link_id: request.POST.get("value", "")}
        )
    except ValidationError as refused:
        return _private(JsonResponse({"message": " ".join(refused.messages)}, status=400))
    return _private(JsonResponse({"saved": True}))


@require_POST
@with_link()
def send(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    """The last page's answer, then the check-your-answers page, then the form sent for good."""
    pages = _pages(invitation)
    last = pages[-1]
    form = LastQuestionForm(request.POST)
    valid = form.is_valid()
    choice = request.POST.get("unexpected", "")
    text = form.cleaned_data.get("unexpected_text", "") if valid else request.POST.get("unexpected_text", "")
    unexpected = {"choice": choice, "text": text.replace("\x00", "")}
    if request.POST.get("back"):
        return _form(request, invitation, token, pages, last, unexpected=unexpected)

    form_url = reverse("patient:form", args=[token])
    summary = [
        (f"{form_url}?page={page.number}#q-{q.number}", f"Question {q.number} is not answered yet.")
        for page in pages
        for q in page.missing
    ]
    problems = form.problems()
    if problems:
        message = problems.get("error") or problems["text_error"]
        summary.append((f"#q-{last.total}", f"Question {last.total}: {message}"))
    if summary:
        return _form(
            request, invitation, token, pages, last, unexpected=unexpected | problems, errors=summary
        )

    if request.POST.get("confirmed") != "1":
        context = {
            "token": token,
            "pages": pages[:-1],
            "pages_total": len(pages),
            "total": last.total,
            "unexpected": unexpected | {"question": questions.unexpected_question(invitation.time_point.day)},
        }
        return _page(request, "patient/confirm.html", context)

    try:
        follow_up.submit_form(
            token=token, unexpected=choice == "yes", unexpected_text=text if choice == "yes" else ""
        )
    except ValidationError as refused:
        summary = [("#main", message) for message in refused.messages]
        return _form(
            request, invitation, token, _pages(invitation), last, unexpected=unexpected, errors=summary
        )
    done = reverse("patient:thank-you")
    return HttpResponseRedirect(f"{done}?reported=1" if choice == "yes" else done)


@require_http_methods(["GET", "POST"])
@with_link()
def stop_emails(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    """Opting out of follow-up emails: asked once more (GET), then done (POST)."""
    if request.method == "GET":
        return _page(request, "patient/opt_out.html", {"token": token})
    follow_up.opt_out(token=token)
    try:
        follow_up.invitation_for_token(token)
        still_open = True
    except LinkRefused:
        still_open = False
    return _page(request, "patient/opted_out.html", {"token": token, "still_open": still_open})


@require_GET
def thank_you(request: HttpRequest) -> HttpResponse:
    return _page(request, "patient/done.html", {"reported": request.GET.get("reported") == "1"})


def not_valid(request: HttpRequest, **_: object) -> HttpResponse:
    """Anything else under /f/: the same page as a link that is not valid."""
    return _refused(request, LinkRefused.UNKNOWN)
