"""Queueing a draft with one Redis command.

Celery's own publish of `recommendations.draft_case` cost about 0.55 ms of a 5 ms referral:
merging options, routing, signals, and kombu's Redis channel building a new client for every
message. The message itself is one short JSON document and one LPUSH (0.12 ms). With a Redis
broker, `lpush_task` writes that same message (Celery's task protocol 2, in kombu's Redis
envelope: the fields and values Celery writes, tests/recommendations/test_publish.py compares
them) with one client per process; with any other broker (the quick start's filesystem one) it
says so, and the caller asks Celery. The worker cannot tell the two apart.
"""

import base64
import json
import uuid
from functools import cache

import redis
from celery import current_app
from celery.utils.nodenames import anon_nodename
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from intake import tracing

# The header clinic.celery's publish signal adds, so the worker's log lines carry the request's id.
REQUEST_ID_HEADER = "request_id"


@cache
def _client(url: str) -> redis.Redis:
    # The broker settings Celery's own publish honours: the connection timeout, and a few quick
    # retries of a dropped connection (CELERY_TASK_PUBLISH_RETRY_POLICY).
    policy = current_app.conf.task_publish_retry_policy or {}
    timeout = current_app.conf.broker_connection_timeout
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(
            ExponentialBackoff(cap=policy.get("interval_max", 1), base=policy.get("interval_step", 0.5) / 2),
            policy.get("max_retries", 2),
        ),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )


def _queue_of(name: str) -> str:
    route = (current_app.conf.task_routes or {}).get(name, {})
    return route.get("queue", current_app.conf.task_default_queue)


def message(name: str, args: list, *, queue: str) -> str:
    """The task message as Celery and kombu write it to a Redis list."""
    task_id = str(uuid.uuid4())
    headers = {
        "lang": "py",
        "task": name,
        "id": task_id,
        "shadow": None,
        "eta": None,
        "expires": None,
        "group": None,
        "group_index": None,
        "retries": 0,
        "timelimit": [None, None],
        "root_id": task_id,
        "parent_id": None,
        "argsrepr": repr(tuple(args)),
        "kwargsrepr": "{}",
        "origin": anon_nodename(),
        "ignore_result": bool(current_app.conf.task_ignore_result),
        "replaced_task_nesting": 0,
        "stamped_headers": None,
        "stamps": {},
    }
    if request_id := tracing.current():
        headers[REQUEST_ID_HEADER] = request_id
    body = json.dumps([args, {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}])
    return json.dumps(
        {
            "body": base64.b64encode(body.encode()).decode(),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": headers,
            "properties": {
                "correlation_id": task_id,
                "reply_to": current_app.thread_oid,
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": queue},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        }
    )


def _redis_url() -> str | None:
    # Celery's own setting (from CELERY_BROKER_URL), which is what its publish would use.
    url = str(current_app.conf.broker_url or "")
    return url if url.startswith(("redis://", "rediss://")) else None


def client_ready() -> bool:
    """Open this process's client now (a web worker's warm-up, clinic.warmup); False when the
    broker is not Redis."""
    url = _redis_url()
    if url is None:
        return False
    _client(url).ping()
    return True


def lpush_task(name: str, args: list) -> bool:
    """Queue task `name` with `args` (plain JSON values) on its routed queue with one LPUSH.
    False when the broker is not Redis: the caller then publishes through Celery."""
    url = _redis_url()
    if url is None:
        return False
    queue = _queue_of(name)
    _client(url).lpush(queue, message(name, args, queue=queue))
    return True
