"""Security headers and idle sign-out, for every page the project serves."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

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
