"""Settings for the clinic service.

Every value that differs between machines is read from the environment here
and nowhere else. With no environment at all the service runs on its embedded
default (SQLite and Kombu's filesystem broker) but only with DEBUG=1: with
DEBUG off it is production, and production refuses to start without its
secrets.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from clinic import metrics_store
from clinic.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


def _read_dotenv(path: Path) -> None:
    """Fill unset variables from a local `.env` (KEY=value lines); the real
    environment always wins. Handy on a developer's machine, absent in production."""
    if not path.is_file():
        return
    for line in path.read_text().splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            os.environ.setdefault(key.strip(), value.strip().strip("'\""))


_read_dotenv(Path(os.environ.get("CLINIC_ENV_FILE", BASE_DIR / ".env")))

VAR_DIR = Path(os.environ.get("CLINIC_VAR_DIR", BASE_DIR / ".var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production (DEBUG off) refuses to start without it; "
            "for local work set DEBUG=1."
        )
    # Only ever used with DEBUG=1 on a developer machine; production refuses to start without a key.
    SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"  # noqa: S105  # nosec B105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_prometheus",
    "intake",
    "recommendations",
]

MIDDLEWARE = [
    # First: every later line of the request's log, and its tasks, carry its id.
    "clinic.middleware.RequestIdMiddleware",
    # Request counts and latencies (django-prometheus): its Before first, its After last.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "clinic.middleware.IdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "clinic.middleware.SecurityHeadersMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its own response.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Counts failed sign-ins and refuses a locked-out user before checking the password.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# PostgreSQL in production and tests; SQLite is the embedded default.
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'clinic.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the worker write at the same time: WAL lets readers
    # go on, IMMEDIATE takes the write lock up front instead of failing at
    # commit, and the timeout waits for the other writer.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

# django-prometheus's wrappers of the same backends count queries and errors per database.
DATABASES["default"]["ENGINE"] = DATABASES["default"]["ENGINE"].replace(
    "django.db.backends.", "django_prometheus.db.backends."
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed files served by WhiteNoise with far-future caching
    # (run `collectstatic` before starting gunicorn).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Security ---------------------------------------------------------------
# Behind a TLS-terminating proxy, set SECURE_PROXY_SSL_HEADER_NAME=HTTP_X_FORWARDED_PROTO.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Load balancers probe, and Prometheus scrapes, over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
if os.environ.get("SECURE_PROXY_SSL_HEADER_NAME"):
    SECURE_PROXY_SSL_HEADER = (os.environ["SECURE_PROXY_SSL_HEADER_NAME"], "https")
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = 12 * 3600  # a long shift; idleness signs out much sooner
X_FRAME_OPTIONS = "DENY"
IDLE_TIMEOUT_MINUTES = env_int("IDLE_TIMEOUT_MINUTES", 15)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
# django-axes: five wrong passwords lock the account for 15 minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
# A user name from one address: staff behind one clinic NAT do not lock each other out.
# Per user name and address (AXES_FAILURE_LIMIT), and per user name across every address
# (AXES_USERNAME_FAILURE_LIMIT): clinic/lockout.py. The address is the real client's, behind
# the proxies named in TRUSTED_PROXIES: clinic/client_ip.py.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
AXES_USERNAME_FAILURE_LIMIT = env_int("AXES_USERNAME_FAILURE_LIMIT", 20)
AXES_HANDLER = "clinic.lockout.NameAndAddressLockout"
AXES_CLIENT_IP_CALLABLE = "clinic.client_ip.client_ip"
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
AXES_RESET_ON_SUCCESS = True
# Its start-up banner would land in the output of commands like `create_partner --json`.
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "desk/locked_out.html"

LOGIN_URL = "desk:login"
LOGIN_REDIRECT_URL = "desk:board"
LOGOUT_REDIRECT_URL = "desk:login"

# --- Celery ---------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {
    # Redis hands an unacknowledged message to another worker once it has been out
    # this long. It must exceed the longest task (a draft takes milliseconds, a
    # webhook at most WEBHOOK_TIMEOUT_SECONDS), or a slow task would be delivered
    # again while it runs; it is also how long a crashed worker's messages wait
    # before they come back, which the stuck-case sweep shortens for drafts.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    # How often a worker looks for such messages (seconds), and scan on every look
    # rather than every tenth, so recovery after a crash is not delayed further.
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": 1,
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    BROKER_DIR = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
# Acknowledge after the task ran, and give a message back to the broker when
# its worker dies, so a crash re-delivers instead of dropping the work; tasks
# are idempotent, so a second delivery does no harm.
CELERY_TASK_ACKS_LATE = True
# The worker logs through LOGGING below (JSON, request ids, no patient data), not its own setup.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing happens after the web request committed; when the broker is down
# it must fail fast (the sweep re-enqueues later) instead of hanging a page.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
SWEEP_INTERVAL_SECONDS = env_int("SWEEP_INTERVAL_SECONDS", 60)
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-cases": {
        "task": "recommendations.sweep_stuck_cases",
        "schedule": SWEEP_INTERVAL_SECONDS,
    },
    "deliver-due-webhooks": {
        "task": "intake.deliver_due_notifications",
        "schedule": env_int("WEBHOOK_SWEEP_SECONDS", 30),
    },
    "escalate-overdue-cases": {
        "task": "recommendations.escalate_overdue",
        "schedule": env_int("ESCALATION_SWEEP_SECONDS", 300),
    },
    "purge-idempotency-keys": {
        "task": "intake.purge_idempotency_keys",
        "schedule": 3600,
    },
}

# --- Workflow -------------------------------------------------------------
# A case still in received/drafting after this long is re-enqueued by the sweep.
SWEEP_STUCK_AFTER_SECONDS = env_int("SWEEP_STUCK_AFTER_SECONDS", 120)
DRAFT_MAX_RETRIES = env_int("DRAFT_MAX_RETRIES", 5)
# A sandbox partner's test case is decided automatically this long after its draft.
SANDBOX_DECISION_DELAY_SECONDS = env_int("SANDBOX_DECISION_DELAY_SECONDS", 3)
# Review due times, counted from intake.
# A specialist's claim on a case lapses after this long; until then nobody else may decide it.
REVIEW_CLAIM_MINUTES = env_int("REVIEW_CLAIM_MINUTES", 60)
REVIEW_DUE_HOURS_URGENT = env_int("REVIEW_DUE_HOURS_URGENT", 24)
REVIEW_DUE_HOURS_ROUTINE = env_int("REVIEW_DUE_HOURS_ROUTINE", 120)

# Escalation e-mails to specialists: level 1 at the due time, level 2 this many
# hours after it, and so on (comma-separated hours).
ESCALATION_AFTER_HOURS = [int(h) for h in env_list("ESCALATION_AFTER_HOURS", ["0", "24"])]
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# The letterhead of printed decisions; the address may hold "\n" for line breaks.
CLINIC_NAME = os.environ.get("CLINIC_NAME", "Regenerative Medicine Clinic")
CLINIC_ADDRESS = os.environ.get("CLINIC_ADDRESS", "").replace("\\n", "\n")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "clinic-review@localhost")

# --- Draft engine -----------------------------------------------------------
# Three or more distinct affected sites make a localized condition "multiple areas".
DRAFT_MULTIPLE_SITES_THRESHOLD = env_int("DRAFT_MULTIPLE_SITES_THRESHOLD", 3)
DRAFT_AGE_OF_MAJORITY = env_int("DRAFT_AGE_OF_MAJORITY", 18)

# --- API ------------------------------------------------------------------
# DRF's rate form ("600/min") per partner, counted in the cache below.
PARTNER_THROTTLE_RATE = os.environ.get("PARTNER_THROTTLE_RATE", "600/min")
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
# Partner URLs on loopback, link-local or private networks are refused unless this
# is on (local development and tests only).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", DEBUG)
REST_FRAMEWORK = {
    "DEFAULT_PARSER_CLASSES": ["intake.api.parsers.JSONBodyParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # ASCII output (\u escapes): an error that quotes a lone surrogate from the input
    # must still be encodable; clients read the same JSON either way.
    "UNICODE_JSON": False,
    "EXCEPTION_HANDLER": "intake.api.problems.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["intake.api.throttle.PartnerRateThrottle"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "intake.api.auth.PartnerAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Closed by default: a view that forgets its permissions admits partners only.
    "DEFAULT_PERMISSION_CLASSES": ["intake.api.auth.IsPartner"],
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
}

# /metrics (clinic.metrics): who may scrape. Neither set: nobody (with DEBUG, this machine).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_ADDRESSES = env_list("METRICS_ALLOWED_ADDRESSES", ["127.0.0.1", "::1"] if DEBUG else [])
for _network in METRICS_ALLOWED_ADDRESSES:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_ADDRESSES: {_network!r} is not an address or network."
        ) from None
PROMETHEUS_EXPORT_MIGRATIONS = False
# Every process's figures live here (set before prometheus-client loads: clinic/metrics_store.py).
PROMETHEUS_MULTIPROC_DIR = metrics_store.prepare()

# JSON lines (one object per line) for the log collector; plain text by default for a
# developer (DEBUG). Neither ever carries patient data: see clinic/logs.py.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or text.")
LOGGING = logging_config(fmt=LOG_FORMAT, level=os.environ.get("LOG_LEVEL", "INFO"))
