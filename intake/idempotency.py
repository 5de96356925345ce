"""`Idempotency-Key` for partner POSTs: the first response is stored and replayed.

A key belongs to one request: its method, its path and its body. The same request again
gets the first response; the same key with anything else is refused (422), so a key can
never replay one endpoint's answer on another.

The key's row is committed before the work starts, so a concurrent retry sees it
and gets 409; the work and its stored response commit together, so a crash
either leaves nothing (the retry runs) or a response to replay.
"""

import hashlib
import json
from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from intake.models import IdempotencyRecord, Partner

# How often work refused by a unique index is run again before the error stands.
UNIQUE_CONFLICT_ATTEMPTS = 3

# The problem types (clinic.web.problem_types) of the two ways a key refuses a request.
KEY_REUSED = "idempotency-key-reused"
IN_FLIGHT = "idempotency-in-flight"
KEY_REUSED_DETAIL = (
    "This Idempotency-Key was already used for another request (another method, path or body); "
    "use a new key for a new request, or send exactly the first request to retry it."
)
IN_FLIGHT_DETAIL = "A request with this Idempotency-Key is still being processed; retry in a few seconds."


class IdempotencyConflict(Exception):
    def __init__(self, status: int, detail: str, *, kind: str):
        self.status, self.detail, self.kind = status, detail, kind
        super().__init__(detail)


def _canonical(data) -> bytes:
    """JSON blind to key order and white space."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    # surrogatepass: a lone surrogate in the body must give a hash, not a crash.
    return text.encode("utf-8", "surrogatepass")


def request_hash(data) -> str:
    """The body's fingerprint alone: what keys were bound to before they were bound to their request."""
    return hashlib.sha256(_canonical(data)).hexdigest()


class Fingerprint(NamedTuple):
    request: str  # method, path and body: what a key is bound to
    # The body-only hash a key stored before keys were bound to their request would hold (None for
    # a body that is not JSON: no such key has one). Those keys expire within
    # IDEMPOTENCY_KEY_TTL_HOURS of the release that binds keys; until then their retries replay.
    body_only: str | None


def fingerprint(*, method: str, path: str, body: bytes) -> Fingerprint:
    """A path with and without its trailing slash is one path (one view serves both); a JSON body
    is compared as JSON, any other body (none, or not JSON) byte for byte."""
    head = f"{method.upper()} {path.rstrip('/') or '/'}\n".encode()
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # empty, not JSON, or nested deeper than Python reads
        return Fingerprint(hashlib.sha256(head + b"raw:" + body).hexdigest(), None)
    canonical = _canonical(data)
    return Fingerprint(hashlib.sha256(head + b"json:" + canonical).hexdigest(), request_hash(data))


def _claim(*, partner: Partner, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """Our fresh row to work under, or None when an earlier request owns the key."""
    now = timezone.now()
    # In autocommit the INSERT commits by itself (no BEGIN and COMMIT around it); inside a
    # caller's transaction a savepoint keeps that transaction usable when the key is taken.
    guard = transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()
    try:
        with guard:
            return IdempotencyRecord.objects.create(
                partner=partner,
                key=key,
                request_hash=fingerprint,
                created_at=now,
                expires_at=now + timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS),
            )
    except IntegrityError:
        pass
    # An expired key, or a first attempt that died mid-way, may be taken over,
    # by exactly one retry (compare-and-set on its created_at).
    stale = IdempotencyRecord.objects.filter(partner=partner, key=key).first()
    abandoned = (
        stale
        and stale.response_status is None
        and (stale.created_at < now - timedelta(seconds=settings.IDEMPOTENCY_IN_FLIGHT_SECONDS))
    )
    if stale and (stale.expires_at < now or abandoned):
        taken = IdempotencyRecord.objects.filter(pk=stale.pk, created_at=stale.created_at).update(
            request_hash=fingerprint,
            response_status=None,
            response_body=None,
            created_at=now,
            expires_at=now + timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS),
        )
        if taken:
            return IdempotencyRecord.objects.get(pk=stale.pk)
    return None


def run_once(
    *,
    partner: Partner,
    key: str,
    fingerprint: Fingerprint,
    handler: Callable[[], tuple[int, object]],
    atomic: bool = True,
) -> tuple[int, object, bool]:
    """Run `handler` (which returns status and a JSON body) once per key and request.

    Returns (status, body, replayed). Raises IdempotencyConflict: 422 (`idempotency-key-reused`)
    when the key came with another method, path or body, 409 (`idempotency-in-flight`) while the
    first request is still running."""
    record = _claim(partner=partner, key=key, fingerprint=fingerprint.request)
    if record is None:
        existing = IdempotencyRecord.objects.filter(partner=partner, key=key).first()
        if existing is None:  # the first request failed and freed its key a moment ago
            record = _claim(partner=partner, key=key, fingerprint=fingerprint.request)
        else:
            return _replay(existing, fingerprint)
    if record is None:
        raise IdempotencyConflict(409, IN_FLIGHT_DETAIL, kind=IN_FLIGHT)
    attempts_left = UNIQUE_CONFLICT_ATTEMPTS
    while True:
        attempts_left -= 1
        try:
            # atomic=False: a handler that talks to the network (a webhook ping) must not hold a
            # transaction open while it waits; its answer is stored right after.
            with transaction.atomic() if atomic else nullcontext():
                status, body = handler()
                IdempotencyRecord.objects.filter(pk=record.pk).update(
                    response_status=status, response_body=json.dumps(body)
                )
            return status, body, False
        except IntegrityError:
            # A unique index refused a row a concurrent writer holds; the transaction is gone,
            # so the handler runs again and its checks now see the winner (submit_referral).
            if attempts_left:
                continue
            _free(record)
            raise
        except BaseException:
            _free(record)
            raise


def _replay(existing: IdempotencyRecord, fingerprint: Fingerprint) -> tuple[int, object, bool]:
    if existing.request_hash not in (fingerprint.request, fingerprint.body_only):
        raise IdempotencyConflict(422, KEY_REUSED_DETAIL, kind=KEY_REUSED)
    if existing.response_status is None:
        raise IdempotencyConflict(409, IN_FLIGHT_DETAIL, kind=IN_FLIGHT)
    return existing.response_status, json.loads(existing.response_body), True


def _free(record: IdempotencyRecord) -> None:
    # Nothing was done: free the key so the partner's retry can run.
    IdempotencyRecord.objects.filter(pk=record.pk, response_status__isnull=True).delete()


def purge_expired() -> int:
    return IdempotencyRecord.objects.filter(expires_at__lt=timezone.now()).delete()[0]
