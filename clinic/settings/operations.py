"""Settings for the people who run the service: /metrics, log lines and the audit chain's keys
and checkpoints (read from the environment: clinic.settings.base)."""

import ipaddress
import os
import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from clinic import metrics_store
from clinic.logs import logging_config
from clinic.settings.base import DEBUG, VAR_DIR, env_list

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

# --- The audit chain ------------------------------------------------------
# Its rows are HMAC'd with a key the database does not hold, so whoever can write the database
# cannot recompute them (intake.models.records). "id:secret,id2:secret2": every key that ever
# signed rows stays listed so old rows keep verifying; new rows use AUDIT_KEY_ID (the last listed).
_AUDIT_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,16}$")


def _audit_keys(raw: str) -> dict[str, str]:
    keys: dict[str, str] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        key_id, sep, secret = item.partition(":")
        key_id, secret = key_id.strip(), secret.strip()
        if not sep or not _AUDIT_KEY_ID.match(key_id):
            raise ImproperlyConfigured(
                "AUDIT_KEYS: each entry is id:secret, the id 1-16 letters, digits, '.', '_' or '-' "
                "(for example 2026a:<secret>,2027a:<secret>)."
            )
        if len(secret) < 32:
            raise ImproperlyConfigured(
                f"AUDIT_KEYS: the secret of key {key_id!r} is shorter than 32 characters; make one with "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'."
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"AUDIT_KEYS: key {key_id!r} is listed twice.")
        keys[key_id] = secret
    return keys


AUDIT_KEYS = _audit_keys(os.environ.get("AUDIT_KEYS", ""))
if not AUDIT_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "AUDIT_KEYS is not set. Production (DEBUG off) refuses to start without the audit chain's "
            "key (id:secret, the secret at least 32 characters, kept outside the database); "
            "for local work set DEBUG=1."
        )
    # Only ever used with DEBUG=1 on a developer machine; production refuses to start without a key.
    AUDIT_KEYS = {"dev": "insecure-local-development-audit-key-do-not-use"}
AUDIT_KEY_ID = os.environ.get("AUDIT_KEY_ID", "") or list(AUDIT_KEYS)[-1]
if AUDIT_KEY_ID not in AUDIT_KEYS:
    raise ImproperlyConfigured(
        f"AUDIT_KEY_ID is {AUDIT_KEY_ID!r}, which AUDIT_KEYS does not list "
        f"(it lists: {', '.join(AUDIT_KEYS)})."
    )
# The signed checkpoints of every chain head (intake.checkpoints): append-only, outside the
# database, so a rewound or deleted case shows. Ship it to write-once storage as well.
AUDIT_CHECKPOINT_FILE = Path(
    os.environ.get("AUDIT_CHECKPOINT_FILE", "") or VAR_DIR / "audit-checkpoints.jsonl"
)
