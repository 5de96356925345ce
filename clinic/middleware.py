"""Request ids and access log lines, security headers and idle sign-out, for every page the project serves."""

import logging
import time

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
            started = time.monotonic()
            response = self.get_response(request)
            response[tracing.HEADER] = request_id
            user = getattr(request, "user", None)
            partner = getattr(user, "partner", None)
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
