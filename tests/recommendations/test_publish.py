"""A draft queued with one LPUSH (recommendations.publish) is the message Celery itself writes:
the worker cannot tell them apart. (tests/recommendations/test_pipeline.py drafts such a case with
a real worker; tests/test_logs.py follows its request id into the worker's log.)"""

import base64
import json
import uuid

import redis

from clinic.celery import app
from intake import tracing
from recommendations import publish
from recommendations.tasks import draft_case

PER_MESSAGE = {"id", "root_id", "correlation_id", "delivery_tag"}


def _plain(raw: bytes) -> dict:
    envelope = json.loads(raw)
    envelope["body"] = json.loads(base64.b64decode(envelope["body"]))
    return envelope


def _without_ids(envelope: dict) -> dict:
    return {
        **envelope,
        "headers": {k: v for k, v in envelope["headers"].items() if k not in PER_MESSAGE},
        "properties": {k: v for k, v in envelope["properties"].items() if k not in PER_MESSAGE},
    }


def test_the_lpush_message_is_the_one_celery_writes_but_for_its_ids():
    # On a list of this test's own, so that no worker takes either message.
    queue = f"test-publish-{uuid.uuid4().hex}"
    broker = redis.Redis.from_url(app.conf.broker_url)
    case_id = str(uuid.uuid4())
    with tracing.bound("req-publish"):
        draft_case.apply_async(args=(case_id,), queue=queue)  # as .delay(case_id) sends them
        broker.lpush(queue, publish.message(draft_case.name, [case_id], queue=queue))

    ours, celerys = _plain(broker.lpop(queue)), _plain(broker.lpop(queue))

    assert _without_ids(ours) == _without_ids(celerys)
    assert ours["headers"]["request_id"] == "req-publish"
    assert ours["headers"]["id"] == ours["headers"]["root_id"] == ours["properties"]["correlation_id"]
    assert ours["body"][0] == [case_id]


def test_a_draft_is_queued_on_the_drafting_queue_with_one_lpush():
    broker = redis.Redis.from_url(app.conf.broker_url)
    before = broker.llen("drafting")

    assert publish.lpush_task(draft_case.name, [str(uuid.uuid4())]) is True

    queued = _plain(broker.lpop("drafting"))
    assert broker.llen("drafting") == before
    assert queued["headers"]["task"] == "recommendations.draft_case"
    assert queued["properties"]["delivery_info"] == {"exchange": "", "routing_key": "drafting"}


def test_with_a_broker_that_is_not_redis_celery_publishes(monkeypatch):
    # Celery's broker_url reads CELERY_BROKER_URL from the environment first.
    monkeypatch.setenv("CELERY_BROKER_URL", "filesystem://localhost/")

    assert publish.lpush_task(draft_case.name, [str(uuid.uuid4())]) is False
