"""Settings of the partner API and its webhooks (read from the environment: clinic.settings.base)."""

import os

from clinic.settings.base import DEBUG, env_bool, env_int

# --- API ------------------------------------------------------------------
# DRF's rate form ("600/min") per partner, counted in the cache below.
PARTNER_THROTTLE_RATE = os.environ.get("PARTNER_THROTTLE_RATE", "600/min")
# A verified API key is remembered by each web process this long: a key revoked or a partner
# deactivated in the admin is refused everywhere within it (0: look the key up on every request).
PARTNER_KEY_CACHE_SECONDS = env_int("PARTNER_KEY_CACHE_SECONDS", 5)
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24)
# A first request still unfinished after this long is taken to have died.
IDEMPOTENCY_IN_FLIGHT_SECONDS = env_int("IDEMPOTENCY_IN_FLIGHT_SECONDS", 60)
# Throttle counters must be shared by every web process: Redis in production.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Webhooks ---------------------------------------------------------------
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
# First retry after this many seconds, doubling up to the cap, for at least a day.
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30)
WEBHOOK_RETRY_MAX_SECONDS = env_int("WEBHOOK_RETRY_MAX_SECONDS", 3600)
WEBHOOK_GIVE_UP_HOURS = env_int("WEBHOOK_GIVE_UP_HOURS", 25)
# After a signing secret is rotated, the old one still signs (beside the new) for this long.
WEBHOOK_SECRET_OVERLAP_HOURS = env_int("WEBHOOK_SECRET_OVERLAP_HOURS", 24)
# Partner URLs on loopback, link-local or private networks are refused unless this
# is on (local development and tests only).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", DEBUG)
REST_FRAMEWORK = {
    "DEFAULT_PARSER_CLASSES": ["clinic.web.api.parsers.JSONBodyParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # ASCII output (\u escapes): an error that quotes a lone surrogate from the input
    # must still be encodable; clients read the same JSON either way.
    "UNICODE_JSON": False,
    "EXCEPTION_HANDLER": "clinic.web.api.problems.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["clinic.web.api.throttle.PartnerRateThrottle"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "clinic.web.api.auth.PartnerAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Closed by default: a view that forgets its permissions admits partners only.
    "DEFAULT_PERMISSION_CLASSES": ["clinic.web.api.auth.IsPartner"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Clinic partner API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "Refer patients for a stem cell therapy consult, follow each referral, answer the "
        "specialist's questions, and receive the decision by signed webhook (Standard Webhooks). "
        "Authenticate with `Authorization: Api-Key <key>`. Errors are application/problem+json. "
        "FHIR R4 partners use the `/api/v1/fhir/` endpoints and `/api/v1/referrals/{id}/fhir` "
        "(application/fhir+json; errors as an OperationOutcome)."
    ),
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # OpenAPI 3.1, which describes webhooks; `/api/schema/?oas=3.0` is the 3.0.3 document, without
    # them, for at least 12 months after the move (clinic.web.api.openapi).
    "OAS_VERSION": "3.1.0",
    "DEFAULT_GENERATOR_CLASS": "clinic.web.api.openapi.PartnerSchemaGenerator",
    # Partners authenticate with their API key only; the staff session the vocabularies also admit
    # is not part of the partner contract.
    "AUTHENTICATION_WHITELIST": ["clinic.web.api.auth.PartnerAPIKeyAuthentication"],
    "POSTPROCESSING_HOOKS": [
        # Every event type under `webhooks` (first: its schemas join the components the others see).
        "clinic.web.api.openapi.add_webhooks",
        "drf_spectacular.hooks.postprocess_schema_enums",
        # The description's sections on paths, webhooks, event types, the sandbox and how v1 grows.
        "clinic.web.api.docs.describe_api",
        # A read lists only the responses it can give.
        "clinic.web.api.openapi.tidy_operations",
        # Defaults where they are valid; in 3.1, `nullable` (DRF's paginators) as a `null` type.
        "clinic.web.api.openapi.tidy_schemas",
    ],
}
