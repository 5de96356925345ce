"""Settings for the people who run the service: /metrics, log lines and the audit chain's keys
and checkpoints (read from the environment: clinic.settings.base)."""

import ipaddress
import os

from django.core.exceptions import ImproperlyConfigured

from clinic import metrics_store
from clinic.logs import logging_config
from clinic.settings.base import DEBUG, env_list

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
