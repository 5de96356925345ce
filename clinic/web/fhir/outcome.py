"""Errors on the FHIR endpoints as an OperationOutcome, in application/fhir+json."""

import re

from django.http import HttpRequest, JsonResponse
from rest_framework.response import Response

from clinic.web.fhir import FHIR_JSON
from clinic.web.fhir.reading import Issue
from clinic.web.problem_types import TYPE_BASE, kind_from_type, kind_of

# The FHIR door: where even Django's own 404 and 500 must answer in FHIR (an id holding an encoded
# slash arrives decoded, as several segments).
FHIR_PATH = re.compile(r"^/api/v1/(fhir(/|$)|referrals/.+/fhir/?$)")

# The FHIR IssueType that best names what each HTTP status means, for an error of no documented
# kind (a documented kind has its own code: clinic.web.problem_types).
ISSUE_CODE = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    413: "too-long",
    415: "not-supported",
    422: "business-rule",
    429: "throttled",
    500: "exception",
}
KEPT_HEADERS = ("WWW-Authenticate", "Allow", "Retry-After")
# The problem types as a code system: each issue of a documented kind names it in `details`, so a
# FHIR client can tell the kinds apart by the identifiers a JSON client reads in `type`.
PROBLEM_SYSTEM = TYPE_BASE.rstrip("/")


def operation_outcome(issues: list[Issue], *, kind: str = "") -> dict:
    details = _details(kind)
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": issue.code}
            | details
            | {"diagnostics": issue.diagnostics}
            | ({"expression": [issue.expression]} if issue.expression else {})
            for issue in issues
        ],
    }


def kind_outcome(kind: str, diagnostics: str, expression: str = "") -> dict:
    """An OperationOutcome of one issue of a documented kind, coded as the kinds' table says."""
    return operation_outcome([Issue(kind_code(kind), diagnostics, expression)], kind=kind)


def kind_code(kind: str) -> str:
    documented = kind_of(kind)
    return documented.fhir_code or ISSUE_CODE.get(documented.status, "processing")


def _details(kind: str) -> dict:
    if not kind:
        return {}
    documented = kind_of(kind)
    return {
        "details": {"coding": [{"system": PROBLEM_SYSTEM, "code": documented.slug}], "text": documented.title}
    }


def outcome_response(
    status: int, issues: list[Issue], *, kind: str = "", headers: dict | None = None
) -> Response:
    return Response(
        operation_outcome(issues, kind=kind), status=status, headers=headers, content_type=FHIR_JSON
    )


def outcome_from_problem(problem: Response) -> Response:
    """The API's problem+json answer (clinic.web.api.problems decides status and words),
    reshaped as an OperationOutcome so FHIR clients can read every error."""
    body = problem.data
    documented = kind_from_type(body.get("type", ""))
    kind = documented.slug if documented else ""
    code = kind_code(kind) if kind else ISSUE_CODE.get(problem.status_code, "processing")
    issues = [Issue(code, f"{error['field']}: {error['detail']}") for error in body.get("errors", [])]
    headers = {name: value for name, value in problem.items() if name in KEPT_HEADERS}
    return outcome_response(
        problem.status_code, issues or [Issue(code, body["detail"])], kind=kind, headers=headers
    )


def django_outcome(request: HttpRequest, status_code: int, detail: str) -> JsonResponse:
    """For Django's own error handlers on a FHIR path (a malformed id, say)."""
    issue = Issue(ISSUE_CODE.get(status_code, "processing"), detail)
    return JsonResponse(operation_outcome([issue]), status=status_code, content_type=FHIR_JSON)
