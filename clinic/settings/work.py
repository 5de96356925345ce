"""Settings of the background work: Celery, the workflow's clocks, email and the draft engine
(read from the environment: clinic.settings.base)."""

import json
import os

from kombu import Queue

from clinic.settings.base import DEBUG, VAR_DIR, env_bool, env_int, env_list

# --- Celery ---------------------------------------------------------------
# Kombu's filesystem transport reads no host from the URL, but kombu warns "No hostname was supplied"
# on every connection to a URL without one (kombu.connection.Connection._info): the local broker names
# localhost. (Celery reads CELERY_BROKER_URL from the environment itself, so only the default is ours.)
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://localhost/")
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
# Celery's Django fixup closes the database connection before and after every task: a new
# PostgreSQL connection (and server process) per draft, about a fifth of a drafting worker's time.
# With this many reuses it never does; clinic.celery instead treats each task as Django treats a
# request (close_old_connections: CONN_MAX_AGE, a connection broken by an error, health checks).
CELERY_DB_REUSE_MAX = 1_000_000_000
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
# Queues: drafting shares its workers with nothing slow (a stalled mail server or a partner's
# endpoint must never delay a draft). Production runs one worker with `-Q drafting` and another
# with `-Q celery,email,webhooks`; a worker started without -Q consumes all four.
DRAFTING_QUEUE, EMAIL_QUEUE, WEBHOOKS_QUEUE, DEFAULT_QUEUE = "drafting", "email", "webhooks", "celery"
FOLLOW_UP_QUEUE = "follow_up"
CELERY_TASK_DEFAULT_QUEUE = DEFAULT_QUEUE
# Each queue under its own routing key, so a message routed to one queue can only land there
# (on any broker, not only Redis).
CELERY_TASK_QUEUES = [
    Queue(name, routing_key=name)
    for name in (DRAFTING_QUEUE, EMAIL_QUEUE, WEBHOOKS_QUEUE, FOLLOW_UP_QUEUE, DEFAULT_QUEUE)
]
CELERY_TASK_ROUTES = {
    "recommendations.draft_case": {"queue": DRAFTING_QUEUE},
    "recommendations.sweep_stuck_cases": {"queue": DRAFTING_QUEUE},
    "recommendations.decide_sandbox_case": {"queue": DRAFTING_QUEUE},
    "recommendations.escalate_overdue": {"queue": EMAIL_QUEUE},
    "recommendations.send_escalation": {"queue": EMAIL_QUEUE},
    "aftercare.escalate_overdue_clocks": {"queue": EMAIL_QUEUE},
    "aftercare.send_clock_escalation": {"queue": EMAIL_QUEUE},
    # Patients' follow-up email from its own queue: a slow provider never holds the clinic's mail.
    "aftercare.send_due_follow_ups": {"queue": FOLLOW_UP_QUEUE},
    "aftercare.send_invitation": {"queue": FOLLOW_UP_QUEUE},
    "intake.deliver_notification": {"queue": WEBHOOKS_QUEUE},
    "intake.deliver_due_notifications": {"queue": WEBHOOKS_QUEUE},
    # Everything else (beat's housekeeping: audit checkpoints, purges) goes to DEFAULT_QUEUE.
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
    # The audit chain's heads, signed and appended to a file the database cannot rewrite (intake.audit).
    "write-audit-checkpoint": {
        "task": "intake.write_audit_checkpoint",
        "schedule": env_int("AUDIT_CHECKPOINT_SECONDS", 300),
    },
    "purge-idempotency-keys": {
        "task": "intake.purge_idempotency_keys",
        "schedule": 3600,
    },
    # Follow-up links due today, reminders owed, and unsent invitations (clinic.aftercare).
    "send-due-follow-ups": {
        "task": "aftercare.send_due_follow_ups",
        "schedule": env_int("FOLLOW_UP_SWEEP_SECONDS", 300),
    },
    # Adverse-event reporting clocks past their deadline: an email to the specialists (clinic.aftercare).
    "escalate-overdue-clocks": {
        "task": "aftercare.escalate_overdue_clocks",
        "schedule": env_int("ESCALATION_SWEEP_SECONDS", 300),
    },
}

# --- Workflow -------------------------------------------------------------
# /health/ready answers 503 when a case has waited in received/drafting longer than this:
# the drafting workers are down, stuck or far behind.
READY_DRAFT_BACKLOG_SECONDS = env_int("READY_DRAFT_BACKLOG_SECONDS", 300)
# A case still in received/drafting after this long is re-enqueued by the sweep.
SWEEP_STUCK_AFTER_SECONDS = env_int("SWEEP_STUCK_AFTER_SECONDS", 120)
DRAFT_MAX_RETRIES = env_int("DRAFT_MAX_RETRIES", 5)
# A sandbox partner's test case is decided automatically this long after its draft.
SANDBOX_DECISION_DELAY_SECONDS = env_int("SANDBOX_DECISION_DELAY_SECONDS", 3)
# The sandbox's simulated course after an automatic approval: one simulated day lasts this many
# seconds (treated on day 0, then each follow-up day of the protocol).
SANDBOX_TIME_SCALE = float(os.environ.get("SANDBOX_TIME_SCALE") or 2)
# The clinic is a device user facility (a hospital or surgery centre, not a physician's office):
# a device-related death or serious injury then opens a 10-work-day clock (21 CFR 803.30).
DEVICE_USER_FACILITY = env_bool("DEVICE_USER_FACILITY", False)
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
# Seconds to wait for the mail server at each step: one that accepts and never answers must not
# hold a worker (or anything waiting on it) for ever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "clinic-review@localhost")
# django-anymail, for a provider (EMAIL_BACKEND="anymail.backends.<provider>.EmailBackend"): its
# settings as JSON (e.g. {"POSTMARK_SERVER_TOKEN": "..."}); the bounce webhooks at /anymail/ are
# mounted only with a secret, since without one they would accept anyone's posts.
ANYMAIL = {
    **json.loads(os.environ.get("ANYMAIL_SETTINGS") or "{}"),
    "WEBHOOK_SECRET": os.environ.get("ANYMAIL_WEBHOOK_SECRET", ""),
}
# The number a patient calls about a follow-up link (its pages and emails say it).
CLINIC_PHONE = os.environ.get("CLINIC_PHONE", "")

# --- Draft engine -----------------------------------------------------------
# Three or more distinct affected sites make a localized condition "multiple areas".
DRAFT_MULTIPLE_SITES_THRESHOLD = env_int("DRAFT_MULTIPLE_SITES_THRESHOLD", 3)
DRAFT_AGE_OF_MAJORITY = env_int("DRAFT_AGE_OF_MAJORITY", 18)
# The rule set new drafts use ("v3", or "3"); older ones stay for replay and `recommend`. A clinic moving
# to v3 first imports its protocols (`manage.py protocols import`): without one, v3 drafts NO-PROTOCOL.
RULESET_LIVE = "v" + os.environ.get("RULESET_LIVE", "v3").strip().lower().removeprefix("v")
# A rule set whose drafts are stored beside the live ones as shadow drafts (never current, never
# shown to partners, never in the queue) and compared on the outcomes page; empty: none.
_shadow = os.environ.get("RULESET_SHADOW", "").strip().lower().removeprefix("v")
RULESET_SHADOW = f"v{_shadow}" if _shadow else None

# --- Follow-up after treatment (clinic.aftercare) ----------------------------------------------
# A patient's link (/f/<token>) works this many days, until the form is submitted.
FOLLOW_UP_LINK_DAYS = env_int("FOLLOW_UP_LINK_DAYS", 14)
# Reminders this many days after the link was sent; after the last, the desk's call list.
FOLLOW_UP_REMINDER_DAYS = [int(d) for d in env_list("FOLLOW_UP_REMINDER_DAYS", ["3", "7"])]
# Where the clinic practises: notices and which protocols are effective depend on it (DESIGN, rule 1).
CLINIC_COUNTRY = os.environ.get("CLINIC_COUNTRY", "US").strip() or "US"
CLINIC_JURISDICTION = os.environ.get("CLINIC_JURISDICTION", "").strip()
# The version of the state notice the clinic configured for CLINIC_JURISDICTION; empty = none, and in a
# state that requires its own notice (Florida) only approved_product and ind protocols are then effective.
CLINIC_STATE_NOTICE_VERSION = os.environ.get("CLINIC_STATE_NOTICE_VERSION", "").strip()
