"""The review desk as an inbox: specialists land on their queue when they sign in, the queue
refreshes itself, a search for a case that is no longer queued says where it went, "the next case"
is one click, and a decided case prints as a signed letter."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from intake import selectors as intake_selectors
from intake.audit import record_reads
from intake.models import Case, CaseStatus, ReadAccess
from recommendations import review, selectors
from recommendations.models import Addendum

QUEUE = "admin:recommendations_reviewcase_changelist"
REVIEW = "admin:recommendations_reviewcase_change"


def land_specialists_on_the_queue(site: AdminSite) -> None:
    """After signing in at /admin/, a specialist lands on the review queue (their work), not on
    the site index, which other staff keep. Only the sign-in's own default target is replaced: a
    sign-in on the way to another page (?next=) still goes there. The admin site is Django's
    default one, so its sign-in view is wrapped here rather than replaced in the settings."""
    sign_in = site.login

    def login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        response = sign_in(request, extra_context)
        if (
            request.method == "POST"
            and isinstance(response, HttpResponseRedirect)
            and response.url == reverse("admin:index", current_app=site.name)
            and review.is_specialist(request.user)
        ):
            return HttpResponseRedirect(reverse(QUEUE, current_app=site.name))
        return response

    site.login = login


def _require_specialist(request: HttpRequest) -> None:
    if not review.is_specialist(request.user):
        raise PermissionDenied("Only specialists may review cases.")


def queue_changes(request: HttpRequest) -> JsonResponse:
    """Has the queue changed since the page was drawn? The page asks every few seconds (a
    background poll, which does not keep the specialist signed in) and reloads only when so."""
    _require_specialist(request)
    version = selectors.queue_version()
    return JsonResponse({"changed": version != request.GET.get("since", ""), "version": version})


def open_next_case(request: HttpRequest, *, after: uuid.UUID | str | None = None) -> HttpResponseRedirect:
    """To the next case in queue order that no colleague holds, or back to the queue saying why not."""
    case = selectors.next_in_queue(user=request.user, after=after)
    if case is None:
        waiting = Case.objects.filter(status=CaseStatus.AWAITING_REVIEW, sandbox=False).exclude(pk=after)
        messages.info(
            request,
            "No other case is waiting for you: the rest of the queue is claimed by colleagues."
            if waiting.exists()
            else "The queue is empty: no other case is awaiting review.",
        )
        return HttpResponseRedirect(reverse(QUEUE))
    return HttpResponseRedirect(reverse(REVIEW, args=[case.pk]))


def next_case(request: HttpRequest) -> HttpResponseRedirect:
    _require_specialist(request)
    try:
        after = uuid.UUID(request.GET.get("after", ""))
    except ValueError:  # none given, or a hand-edited one: start from the head of the queue
        after = None
    return open_next_case(request, after=after)


def reference_hint(request: HttpRequest, search: str) -> None:
    """A search for the reference of a case that is not awaiting review finds no row in the queue:
    say where the case is instead, with its page."""
    case = intake_selectors.case_by_reference(search) if intake_selectors.REFERENCE.match(search) else None
    if case is None or case.status == CaseStatus.AWAITING_REVIEW:
        return
    messages.info(
        request,
        format_html(
            'Case {} is not in the queue: it is {}. <a href="{}">Open its page</a>.',
            case.reference,
            case.get_status_display().lower(),
            reverse(REVIEW, args=[case.pk]),
        ),
    )


def print_letter(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """The signed decision as a letter (the desk prints the same one): the decision, the notice
    as signed, the signature, and every addendum with its signer and time."""
    _require_specialist(request)
    try:
        case = selectors.case_for_review(case_id)
    except (Case.DoesNotExist, ValidationError):
        raise Http404("No such case.") from None
    decision = selectors.decision_of(case)
    if decision is None:
        messages.error(request, "There is no decision to print yet.")
        return HttpResponseRedirect(reverse(REVIEW, args=[case.pk]))
    record_reads(request=request, cases=[case], channel=ReadAccess.Channel.ADMIN)
    addenda = Addendum.objects.filter(decision=decision).select_related("author__specialist_profile")
    context = {
        "case": case,
        "decision": decision,
        "addenda": list(addenda.order_by("created_at")),
        "clinic_name": settings.CLINIC_NAME,
        "clinic_address": settings.CLINIC_ADDRESS,
        "back_url": reverse(REVIEW, args=[case.pk]),
    }
    return TemplateResponse(request, "desk/case_print.html", context)
