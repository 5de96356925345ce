"""Request ids and access log lines, security headers and idle sign-out, for every page the project serves;
and, around Django (clinic.wsgi), the request id for the whole WSGI exchange and chunked request bodies."""

import io
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import Token

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from intake import tracing

access_log = logging.getLogger("clinic.requests")
# The desk's pollers say so, so that a screen left open does not count as a user at work.
BACKGROUND_HEADER = "X-Background-Poll"


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy; Django's SecurityMiddleware
    sets HSTS, nosniff and Referrer-Policy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class IdleTimeoutMiddleware:
    """Sign a staff user out after IDLE_TIMEOUT_MINUTES without a request of their own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        # A health probe is nobody's activity, whoever's cookie it carries.
        if user is not None and user.is_authenticated and not request.path.startswith("/health/"):
            now = time.time()
            last = request.session.get("last_activity", now)
            if now - last > settings.IDLE_TIMEOUT_MINUTES * 60:
                logout(request)
                request.session["signed_out_idle"] = True
            elif request.headers.get(BACKGROUND_HEADER) != "1":
                request.session["last_activity"] = now
        return self.get_response(request)


class RequestIdMiddleware:
    """Takes the caller's X-Request-ID (or makes one), binds it for the request's log lines and
    the tasks it queues (intake.tracing), returns it, and logs one line per request: method,
    path without its query (a search may hold a name), status, time, and who asked."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with tracing.bound(tracing.accept(request.headers.get(tracing.HEADER))) as request_id:
            # Django logs a refused request (django.request) once this has returned: the log
            # filter (clinic.logs) finds the id here.
            request.request_id = request_id
            started = time.monotonic()
            response = self.get_response(request)
            response[tracing.HEADER] = request_id
            user = getattr(request, "user", None)
            # A partner's principal (clinic.web.api.auth) names it as its key was verified: no read.
            partner = getattr(user, "identity", None)
            staff = user is not None and partner is None and user.is_authenticated
            access_log.log(
                logging.DEBUG if request.path.startswith("/health/") else logging.INFO,
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "partner_id": str(partner.pk) if partner is not None else None,
                    "user_id": user.pk if staff else None,
                },
            )
            return response


WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
_WSGI_HEADER = "HTTP_" + tracing.HEADER.upper().replace("-", "_")


def bind_request_id(app: WSGIApp) -> WSGIApp:
    """Bind the request id (accepted or made here; RequestIdMiddleware then keeps it) from the
    start of the WSGI call until the response is closed, so that the lines logged outside
    Django's middleware carry it too: a streamed response's, runserver's request line,
    the request_finished handlers'."""

    def application(wsgi_env: dict, start_response: Callable) -> Iterable[bytes]:
        request_id = wsgi_env[_WSGI_HEADER] = tracing.accept(wsgi_env.get(_WSGI_HEADER))
        token = tracing.bind(request_id)
        try:
            result = app(wsgi_env, start_response)
        except BaseException:
            _unbind(token)
            raise
        file_wrapper = wsgi_env.get("wsgi.file_wrapper")
        if file_wrapper is not None and isinstance(result, file_wrapper):
            _unbind(token)  # a static file: left as it is, for the server's sendfile
            return result
        return _ClosingResult(result, token)

    return application


class _ClosingResult:
    def __init__(self, result: Iterable[bytes], token: Token):
        self.result, self.token = result, token

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.result)

    def close(self) -> None:
        try:
            if hasattr(self.result, "close"):
                self.result.close()
        finally:
            _unbind(self.token)


def _unbind(token: Token) -> None:
    try:
        tracing.unbind(token)
    except ValueError:  # closed from another context than it was opened in: nothing to undo here
        pass


def read_chunked_body(app: WSGIApp) -> WSGIApp:
    """A body sent with Transfer-Encoding: chunked has no Content-Length, which Django reads as
    an empty body. When the server has decoded the chunks and marks the input terminated
    (gunicorn does), read it here and give its length; at most one byte over
    DATA_UPLOAD_MAX_MEMORY_SIZE is read, so that Django refuses it as too large (413 under
    /api/, as for any other body over the limit)."""

    def application(wsgi_env: dict, start_response: Callable) -> Iterable[bytes]:
        if (
            not wsgi_env.get("CONTENT_LENGTH")
            and "chunked" in wsgi_env.get("HTTP_TRANSFER_ENCODING", "").lower()
            and wsgi_env.get("wsgi.input_terminated")
        ):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            stream = wsgi_env["wsgi.input"]
            body = stream.read() if limit is None else stream.read(limit + 1)
            wsgi_env["wsgi.input"] = io.BytesIO(body)
            wsgi_env["CONTENT_LENGTH"] = str(len(body))
        return app(wsgi_env, start_response)

    return application
