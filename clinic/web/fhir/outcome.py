"""Errors on the FHIR endpoints as an OperationOutcome, in application/fhir+json."""

import re

from django.http import HttpRequest, JsonResponse
from rest_framework.response import Response

from clinic.web.fhir import FHIR_JSON
from clinic.web.fhir.reading import Issue

# The FHIR door: where even Django's own 404 and 500 must answer in FHIR (an id holding an encoded
# slash arrives decoded, as several segments).
FHIR_PATH = re.compile(r"^/api/v1/(fhir(/|$)|referrals/.+/fhir/?$)")

# The FHIR IssueType that best names what each HTTP status means.
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


def operation_outcome(issues: list[Issue]) -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": issue.code, "diagnostics": issue.diagnostics}
            | ({"expression": [issue.expression]} if issue.expression else {})
            for issue in issues
        ],
    }


def outcome_response(status: int, issues: list[Issue], *, headers: dict | None = None) -> Response:
    return Response(operation_outcome(issues), status=status, headers=headers, content_type=FHIR_JSON)


def outcome_from_problem(problem: Response) -> Response:
    """The API's problem+json answer (clinic.web.api.problems decides status and words),
    reshaped as an OperationOutcome so FHIR clients can read every error."""
    body = problem.data
    code = ISSUE_CODE.get(problem.status_code, "processing")
    issues = [Issue(code, f"{error['field']}: {error['detail']}") for error in body.get("errors", [])]
    headers = {name: value for name, value in problem.items() if name in KEPT_HEADERS}
    return outcome_response(problem.status_code, issues or [Issue(code, body["detail"])], headers=headers)


def django_outcome(request: HttpRequest, status_code: int, detail: str) -> JsonResponse:
    """For Django's own error handlers on a FHIR path (a malformed id, say)."""
    issue = Issue(ISSUE_CODE.get(status_code, "processing"), detail)
    return JsonResponse(operation_outcome([issue]), status=status_code, content_type=FHIR_JSON)
