"""`Idempotency-Key` on every partner POST, the one way: decorate the view's `post` with `@idempotent`.

    class WebhookTestView(GenericAPIView):
        @extend_schema(...)
        @idempotent
        def post(self, request, ...): ...

With the header, the decorated method runs at most once per partner and key (intake.idempotency):
the same method, path and body again replay its first answer (`Idempotent-Replayed: true`);
the key with another method, path or body is a 422 `idempotency-key-reused` problem, and while
the first request runs, a 409 `idempotency-in-flight`. The method runs in a transaction with the
stored answer; an answer it returns is kept (a 409 `wrong-status` too), one it raises (a 404, a
`validation` error from `is_valid(raise_exception=True)`, a 500) frees the key for the retry.
The decorator also documents the header on the operation (OpenAPI).
"""

import functools
import json
from collections.abc import Callable

from django.conf import settings
from django.http.request import RawPostDataException
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from clinic.web.api.auth import partner_identity_of
from clinic.web.api.problems import PROBLEM_JSON
from intake.idempotency import Fingerprint, IdempotencyConflict, fingerprint, run_once

KEY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255

IDEMPOTENCY_HEADER = OpenApiParameter(
    KEY_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="A key of your choosing (a UUID per request), to retry safely: the same method, path and "
    "body with the same key replay the first response (with `Idempotent-Replayed: true`); the key "
    "with another method, path or body is `422` (`idempotency-key-reused`); while the first request "
    f"is still running, `409` (`idempotency-in-flight`). Keys are kept for "
    f"{settings.IDEMPOTENCY_KEY_TTL_HOURS} hours, per partner; a path with and without its trailing "
    f"slash is one path. At most {MAX_KEY_LENGTH} characters.",
)


class IdempotencyKeyConflict(APIException):
    """The key's first request is still running (409), or was another request (422)."""

    def __init__(self, conflict: IdempotencyConflict):
        self.status_code, self.problem_kind = conflict.status, conflict.kind
        super().__init__(conflict.detail)


Post = Callable[..., Response]


def idempotent(post: Post) -> Post:
    @functools.wraps(post)
    def once(view: APIView, request: Request, *args, **kwargs) -> Response:
        key, partner = _key(request), partner_identity_of(request)  # its id is enough
        if key is None or partner is None:
            return post(view, request, *args, **kwargs)
        answered: list[Response] = []

        def handler() -> tuple[int, object]:
            response = post(view, request, *args, **kwargs)
            answered.append(response)
            return response.status_code, _plain_json(response.data)

        try:
            status, body, replayed = run_once(
                partner=partner,
                key=key,
                fingerprint=_fingerprint(request),
                handler=handler,
                # A view that calls out over the network says so (`idempotent_atomic = False`).
                atomic=getattr(view, "idempotent_atomic", True),
            )
        except IdempotencyConflict as exc:
            raise IdempotencyKeyConflict(exc) from None
        if not replayed:
            return answered[-1]
        response = Response(body, status=status, content_type=_media_type(view, status))
        response["Idempotent-Replayed"] = "true"
        return response

    # Not shared with `post`: the schema annotation below is this function's own.
    once.kwargs = dict(getattr(post, "kwargs", {}))
    return extend_schema(parameters=[IDEMPOTENCY_HEADER])(once)


def _key(request: Request) -> str | None:
    key = request.headers.get(KEY_HEADER, "").strip()
    if not key:
        return None
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError({KEY_HEADER: [f"Use at most {MAX_KEY_LENGTH} characters."]})
    return key


KEYED_BEFORE_BINDING = frozenset(
    {"/api/v1/referrals", "/api/v1/fhir/ServiceRequest", "/api/v1/fhir/Communication", "/api/v1/fhir/Task"}
)


def _fingerprint(request: Request) -> Fingerprint:
    """Of the raw body, so a body the view never reads (a resend's) still counts, and reading it
    here changes nothing the view then sees (a body it cannot parse is its own 400, as without
    a key)."""
    try:
        body = request.body
    except RawPostDataException:
        # The view's stream was read before the key was looked at: its parsed data stand in.
        body = json.dumps(request.data, cls=JSONEncoder).encode()
    found = fingerprint(method=request.method, path=request.path, body=body)
    # Only these doors took keys before keys were bound to their request: a body-only key stored
    # then may replay on its own door for its last hours, never on another endpoint.
    return found if request.path.rstrip("/") in KEYED_BEFORE_BINDING else found._replace(body_only=None)


def _plain_json(data) -> object:
    """The answer as stored and replayed: plain JSON types (ids and times as the renderer writes them)."""
    return json.loads(json.dumps(data, cls=JSONEncoder))


def _media_type(view: APIView, status: int) -> str | None:
    """The first answer's media type, for its replay: the key is bound to the path, so the same view
    answered it. A view that always answers in one type says so (`answer_media_type`: the FHIR
    door's FHIR JSON); elsewhere an error is problem+json and the rest is the renderer's JSON."""
    fixed = getattr(view, "answer_media_type", None)
    if fixed:
        return fixed
    return PROBLEM_JSON if status >= 400 else None
