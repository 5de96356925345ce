"""gunicorn settings for production: `gunicorn -c clinic/gunicorn.conf.py clinic.wsgi:application`.

Every value can be overridden with the usual GUNICORN_* / command-line options.
"""

import multiprocessing
import os

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
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
