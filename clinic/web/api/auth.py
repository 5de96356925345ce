"""Who is asking the API: a partner with an API key, or a signed-in staff member."""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from intake.models import Partner, PartnerAPIKey
from intake.partners import LIVE_KEY_PREFIX, SANDBOX_KEY_PREFIX
from intake.roles import is_desk_user


@dataclass(frozen=True)
class PartnerPrincipal:
    """Stands in for `request.user` when a partner's key authenticated the request."""

    partner: Partner
    is_authenticated: bool = True
    is_anonymous: bool = False
    is_staff: bool = False

    def get_username(self) -> str:
        return f"partner: {self.partner.name}"


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
            api_key = PartnerAPIKey.objects.get_from_key(key.removeprefix(label))
        except PartnerAPIKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("This API key is not valid or has been revoked.") from None
        if label and (label == SANDBOX_KEY_PREFIX) != api_key.partner.is_sandbox:
            # A key relabelled by hand: refused, so a test setup can never reach live data.
            raise exceptions.AuthenticationFailed("This API key is not valid or has been revoked.")
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        if not api_key.partner.is_active:
            raise exceptions.AuthenticationFailed("This partner account is not active.")
        return PartnerPrincipal(api_key.partner), api_key

    def authenticate_header(self, request) -> str:
        return self.keyword


def partner_of(request) -> Partner | None:
    user = getattr(request, "user", AnonymousUser())
    return user.partner if isinstance(user, PartnerPrincipal) else None


class IsPartner(permissions.BasePermission):
    message = "Only partner clinics, with their API key, may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return partner_of(request) is not None


class IsPartnerOrStaff(permissions.BasePermission):
    message = "Sign in as clinic staff or send a partner API key."

    def has_permission(self, request, view) -> bool:
        if partner_of(request) is not None:
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
