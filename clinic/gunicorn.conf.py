"""gunicorn settings for production: `gunicorn -c clinic/gunicorn.conf.py clinic.wsgi:application`.

Every value can be overridden with the usual GUNICORN_* / command-line options.
"""

import multiprocessing
import os

from clinic.logs import gunicorn_logging_config

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers: each request is short and mostly waits on PostgreSQL; two per core
# plus one keeps the cores busy while some wait.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# Keep client connections (a load balancer's, a partner's) open between requests.
keepalive = 5
timeout = 30
graceful_timeout = 30
# Recycle workers now and then so that slow leaks cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500
errorlog = "-"
# gunicorn's own lines go through the service's log format and filters (clinic.logs): JSON with
# the request id, and no query string (a desk search holds names). Its access lines, off unless
# GUNICORN_ACCESS_LOG is "-" (standard error) or a file, give the path without the query and no
# referer; clinic.requests already logs one line per request.
_debug = os.environ.get("DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}
logconfig_dict = gunicorn_logging_config(
    fmt=os.environ.get("LOG_FORMAT") or ("text" if _debug else "json"),
    level=os.environ.get("LOG_LEVEL", "INFO"),
    access_log=os.environ.get("GUNICORN_ACCESS_LOG") or None,
)
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'
