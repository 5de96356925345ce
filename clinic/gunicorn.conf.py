"""gunicorn settings for production: `gunicorn -c clinic/gunicorn.conf.py clinic.wsgi:application`.

Every value can be overridden with the usual GUNICORN_* / command-line options.
"""

import gc
import logging
import multiprocessing
import os
import sys

from clinic.logs import gunicorn_logging_config

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers, one per core plus one: a referral keeps a core busy for most of its few
# milliseconds, so more workers only queue for the same cores (measured with
# `python -m tests.benchmarks --servers`: README, "Benchmark"); threads queue for the GIL.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
worker_class = "sync"
# Keep client connections (a load balancer's, a partner's) open between requests.
keepalive = 5
timeout = 30
graceful_timeout = 30
# Recycle workers now and then so that slow leaks cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500
# The app and its tables are loaded once, in the master, before the workers are forked: a new or
# recycled worker starts with them in memory (and shares their pages), so its first requests are
# as fast as the rest. A code change then needs a restart, not a HUP. GUNICORN_PRELOAD=0 turns it off.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1").strip().lower() not in {"0", "false", "no", "off"}
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


def on_starting(server) -> None:
    """In the master, after the app is loaded and before it listens or forks a worker: imports and tables
    only (clinic.warmup.load_code), no connection, so nothing open is shared across the fork."""
    if server.cfg.preload_app:
        from clinic.warmup import load_code

        server.log.info("warm-up in the master (ms): %s", _rounded(load_code()))
        # What is loaded now lives as long as the process: the collector need not scan it again
        # (in the workers either), and its pages stay shared with them.
        gc.freeze()

    # gunicorn sleeps up to 0.1 s at random between two workers it starts (a herd of hundreds
    # would otherwise hit the socket at once): with a few workers that only kept the first ones
    # carrying all the traffic of the first tenths of a second. All are started at once here.
    def spawn_workers() -> None:
        for _ in range(server.num_workers - len(server.WORKERS)):
            server.spawn_worker()

    server.spawn_workers = spawn_workers


def post_worker_init(worker) -> None:
    """In each worker, before it accepts a connection: its own connections (and the code, when the
    app was not preloaded)."""
    from clinic.warmup import connect, load_code

    timings = connect() if worker.cfg.preload_app else load_code() | connect()
    worker.log.info("warm-up in worker %s (ms): %s", worker.pid, _rounded(timings))


def worker_exit(server, worker) -> None:
    """A worker that leaves cleanly (recycled by max_requests, or stopped) skips Python's
    teardown of its heap: that took about 0.4 s, during which the master had not yet replaced it
    and its siblings carried its share. Its connections close with the process; logs are flushed."""
    leaving = sys.exc_info()[1]
    if leaving is None or (isinstance(leaving, SystemExit) and leaving.code in (0, None)):
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _rounded(timings: dict[str, float]) -> dict[str, int]:
    return {name: round(ms) for name, ms in timings.items()}
