"""Who is asking the API: a partner with an API key, or a signed-in staff member.

A key once verified is remembered by this process for PARTNER_KEY_CACHE_SECONDS (a few seconds):
the key's row and its SHA-512 check are not repeated on every request of a busy partner. So a
key revoked, or a partner deactivated, in the admin is refused by every web process within those
seconds; an expiry date is checked on every request. Only keys that passed are remembered, under
the SHA-256 of the key, never the key itself; a wrong key always costs its lookup.

What is remembered is the partner's identity (its id, name and sandbox flag: what a referral
needs). Whatever a partner can change (its event types, its webhook settings) is read from its row
as it is now, on first use in a request (`partner_of`); a partner deactivated since is refused there.
"""

import copy
import hashlib
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from intake.models import Partner, PartnerAPIKey
from intake.partners import LIVE_KEY_PREFIX, SANDBOX_KEY_PREFIX
from intake.roles import is_desk_user


class PartnerPrincipal:
    """Stands in for `request.user` when a partner's key authenticated the request."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False

    def __init__(self, identity: Partner, *, current: Partner | None = None):
        # `identity`: as the key was verified (at most PARTNER_KEY_CACHE_SECONDS ago).
        self.identity = identity
        self._current = current

    @property
    def partner(self) -> Partner:
        """The partner's row as it is now, read once per request."""
        if self._current is None:
            current = Partner.objects.filter(pk=self.identity.pk).first()
            if current is None or not current.is_active:
                raise exceptions.AuthenticationFailed("This partner account is not active.")
            self._current = current
        return self._current

    def get_username(self) -> str:
        return f"partner: {self.identity.name}"


# Bounded: a process remembers at most this many keys (the oldest verified is forgotten first).
MAX_REMEMBERED_KEYS = 1024
_verified: OrderedDict[bytes, tuple[float, PartnerAPIKey]] = OrderedDict()
_remembering = threading.Lock()  # threaded workers share the memory


def forget_verified_keys() -> None:
    """Forget every remembered key (this process only; others forget theirs within the TTL)."""
    with _remembering:
        _verified.clear()


def _verified_key(key: str) -> tuple[PartnerAPIKey, bool]:
    """The usable key row for `key` (unlabelled), and whether it was read just now (else it is
    this process's memory of it, with a copy of its partner as it was then)."""
    digest = hashlib.sha256(key.encode()).digest()
    now = time.monotonic()
    remembered = _verified.get(digest)
    if remembered is not None and remembered[0] > now:
        return remembered[1], False
    api_key = PartnerAPIKey.objects.get_from_key(key)
    ttl = settings.PARTNER_KEY_CACHE_SECONDS
    if ttl > 0:
        # A copy: this request may change its partner (and roll back); the memory must not follow.
        kept = copy.copy(api_key)
        kept.partner = copy.copy(api_key.partner)
        with _remembering:
            _verified[digest] = (now + ttl, kept)
            _verified.move_to_end(digest)
            while len(_verified) > MAX_REMEMBERED_KEYS:
                _verified.popitem(last=False)
    return api_key, True


class PartnerAPIKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>`; keys are hashed at rest (djangorestframework-api-key)."""

    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, key = header.partition(" ")
        if scheme != self.keyword:
            return None
        key = key.strip()
        label = next((p for p in (SANDBOX_KEY_PREFIX, LIVE_KEY_PREFIX) if key.startswith(p)), "")
        try:
            api_key, just_read = _verified_key(key.removeprefix(label))
        except PartnerAPIKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("This API key is not valid or has been revoked.") from None
        if label and (label == SANDBOX_KEY_PREFIX) != api_key.partner.is_sandbox:
            # A key relabelled by hand: refused, so a test setup can never reach live data.
            raise exceptions.AuthenticationFailed("This API key is not valid or has been revoked.")
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        if not api_key.partner.is_active:
            raise exceptions.AuthenticationFailed("This partner account is not active.")
        return PartnerPrincipal(api_key.partner, current=api_key.partner if just_read else None), api_key

    def authenticate_header(self, request) -> str:
        return self.keyword


def partner_of(request) -> Partner | None:
    """The partner asking, its row as it is now (read once per request)."""
    user = getattr(request, "user", AnonymousUser())
    return user.partner if isinstance(user, PartnerPrincipal) else None


def partner_identity_of(request) -> Partner | None:
    """The partner asking, as its key was verified: for its id, name and sandbox flag only (the
    referral path, the throttle, Idempotency-Key), without reading its row again."""
    user = getattr(request, "user", AnonymousUser())
    return user.identity if isinstance(user, PartnerPrincipal) else None


class IsPartner(permissions.BasePermission):
    message = "Only partner clinics, with their API key, may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return partner_identity_of(request) is not None


class IsPartnerOrStaff(permissions.BasePermission):
    message = "Sign in as clinic staff or send a partner API key."

    def has_permission(self, request, view) -> bool:
        if partner_identity_of(request) is not None:
            return True
        return is_desk_user(request.user)


class PartnerAPIKeyScheme(OpenApiAuthenticationExtension):
    """Tells drf-spectacular how partners authenticate."""

    target_class = PartnerAPIKeyAuthentication
    name = "PartnerApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`, the key printed once by `manage.py create_partner`. "
            "Sandbox keys begin `sandbox_`, live keys `live_`.",
        }
