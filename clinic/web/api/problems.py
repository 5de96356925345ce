"""Errors as `application/problem+json` (RFC 9457), everywhere under /api/, and the page that
documents each problem type (/api/docs/problems/<slug>)."""

import json
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.html import escape, format_html, format_html_join
from django.views.decorators.http import require_safe
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from clinic.web.api.errors import flatten_errors
from clinic.web.fhir.outcome import FHIR_PATH, PROBLEM_SYSTEM, django_outcome
from clinic.web.problem_types import BY_SLUG, KINDS, RETIRED, TYPE_BASE, kind_of

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

# The titles of problems of no documented kind (`about:blank`: the status says it all).
TITLES = {
    400: "Invalid request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal server error",
}


def problem(
    status_code: int,
    detail: str,
    *,
    instance: str = "",
    kind: str = "",
    errors: dict[str, list[str]] | None = None,
    **extra,
) -> dict:
    documented = kind_of(kind) if kind else None
    if documented and documented.status != status_code:
        raise ValueError(f"A {kind!r} problem is a {documented.status}, not a {status_code}.")
    body = {
        "type": documented.type if documented else "about:blank",
        "title": documented.title if documented else TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        # RFC 9457's own example: one entry per problem, with a JSON pointer to the field.
        body["errors"] = [
            {"field": field, "pointer": "#/" + field.replace(".", "/"), "detail": message}
            for field, messages in errors.items()
            for message in messages
        ]
    return body | extra


def problem_response(status_code: int, detail: str, *, headers: dict | None = None, **kwargs) -> Response:
    return Response(
        problem(status_code, detail, **kwargs), status=status_code, headers=headers, content_type=PROBLEM_JSON
    )


def exception_handler(exc, context) -> Response:
    """DRF's handler, reshaped as problem+json; anything unexpected becomes a logged 500."""
    request = context.get("request")
    instance = request.path if request is not None else ""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1_000_000
        return problem_response(
            413,
            f"The request body is larger than {limit:g} MB; send one referral per request.",
            instance=instance,
            kind="too-large",
        )
    if isinstance(exc, DjangoValidationError):
        # A service's own check (intake.services) is the caller's mistake, not ours.
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    response = drf_exception_handler(exc, context)
    if response is None:
        log.exception("unhandled error in %s", instance, exc_info=exc)
        return problem_response(
            500,
            "Something went wrong on our side; it has been logged. Retrying later is safe.",
            instance=instance,
            kind="internal",
        )
    headers = {k: v for k, v in response.items() if k in ("WWW-Authenticate", "Allow", "Retry-After")}
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        return problem_response(
            400,
            "Some fields are missing or invalid; see `errors`.",
            instance=instance,
            kind="validation",
            errors=errors,
            headers=headers,
        )
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    if isinstance(exc, exceptions.Throttled):
        detail = f"Too many requests; retry in {exc.wait:.0f} seconds." if exc.wait else str(exc.detail)
    if isinstance(exc, (Http404, exceptions.NotFound)):
        detail = "No such resource, or it belongs to another partner."
    if isinstance(exc, PermissionDenied) and not isinstance(detail, str):
        detail = "You may not do this."
    kind = getattr(exc, "problem_kind", "")
    return problem_response(response.status_code, str(detail), instance=instance, kind=kind, headers=headers)


def _django_problem(request: HttpRequest, status_code: int, detail: str):
    if FHIR_PATH.match(request.path):
        return django_outcome(request, status_code, detail)
    return JsonResponse(
        problem(status_code, detail, instance=request.path), status=status_code, content_type=PROBLEM_JSON
    )


def api_aware(html_handler, status_code: int, detail: str):
    """Wrap one of Django's error handlers: problem+json under /api/, HTML elsewhere."""

    def handler(request: HttpRequest, *args, **kwargs):
        if request.path.startswith("/api/"):
            return _django_problem(request, status_code, detail)
        return html_handler(request, *args, **kwargs)

    return handler


NO_SUCH_PATH = "No such resource, or it belongs to another partner."


def not_found(request: HttpRequest) -> JsonResponse:
    """The last route under /api/v1/: what handler404 answers, said the same with DEBUG on."""
    return _django_problem(request, 404, NO_SUCH_PATH)


@require_safe
def problem_page(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """What a problem type means and what to do: public, no patient data, one page per kind; without
    a slug (or with an unknown one, as a 404) the list of them all."""
    if slug in BY_SLUG:
        kind = BY_SLUG[slug]
        context = {
            "kind": kind,
            "when": _with_code(kind.when),
            "todo": _with_code(kind.todo),
            "system": PROBLEM_SYSTEM,
            "type_base": TYPE_BASE,
            "example": json.dumps(_example(kind), indent=2),
        }
        return render(request, "api/problem.html", context)
    if slug in RETIRED:
        said, replaced_by = RETIRED[slug]
        context = {
            "slug": slug,
            "type": TYPE_BASE + slug,
            "said": _with_code(said),
            "replaced_by": replaced_by,
        }
        return render(request, "api/problem_retired.html", context)
    return render(
        request, "api/problems.html", {"kinds": KINDS, "unknown": slug}, status=404 if slug else 200
    )


def _with_code(text: str) -> str:
    """The table's `backticked` words as <code>, everything escaped."""
    pieces = [
        escape(part) if i % 2 == 0 else format_html("<code>{}</code>", part)
        for i, part in enumerate(text.split("`"))
    ]
    return format_html_join("", "{}", ((piece,) for piece in pieces))


def _example(kind) -> dict:
    return {
        "type": kind.type,
        "title": kind.title,
        "status": kind.status,
        "detail": "A sentence on this occurrence: what happened and what to send.",
        "instance": "/api/v1/...",
    } | {name: "..." for name, _ in kind.members}


__all__ = [
    "PROBLEM_JSON",
    "api_aware",
    "exception_handler",
    "not_found",
    "problem",
    "problem_page",
    "problem_response",
    "status",
]
