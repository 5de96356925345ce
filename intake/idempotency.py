"""`Idempotency-Key` for partner POSTs: the first response is stored and replayed.

The key's row is committed before the work starts, so a concurrent retry sees it
and gets 409; the work and its stored response commit together, so a crash
either leaves nothing (the retry runs) or a response to replay.
"""

import hashlib
import json
from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from intake.models import IdempotencyRecord, Partner

# How often work refused by a unique index is run again before the error stands.
UNIQUE_CONFLICT_ATTEMPTS = 3


class IdempotencyConflict(Exception):
    def __init__(self, status: int, detail: str):
        self.status, self.detail = status, detail
        super().__init__(detail)


def request_hash(data) -> str:
    """The body's fingerprint, blind to key order and white space."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    # surrogatepass: a lone surrogate in the body must give a hash, not a crash.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


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
    *, partner: Partner, key: str, data, handler: Callable[[], tuple[int, dict]]
) -> tuple[int, dict, bool]:
    """Run `handler` (which returns status and body) once per key and body.

    Returns (status, body, replayed). Raises IdempotencyConflict with 422 when
    the key came with another body, 409 while the first request is in flight."""
    fingerprint = request_hash(data)
    record = _claim(partner=partner, key=key, fingerprint=fingerprint)
    if record is None:
        existing = IdempotencyRecord.objects.get(partner=partner, key=key)
        if existing.request_hash != fingerprint:
            raise IdempotencyConflict(
                422,
                "This Idempotency-Key was already used with a different request body; "
                "use a new key for a new request.",
            )
        if existing.response_status is None:
            raise IdempotencyConflict(
                409, "A request with this Idempotency-Key is still being processed; retry in a few seconds."
            )
        return existing.response_status, json.loads(existing.response_body), True
    attempts_left = UNIQUE_CONFLICT_ATTEMPTS
    while True:
        attempts_left -= 1
        try:
            with transaction.atomic():
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


def _free(record: IdempotencyRecord) -> None:
    # Nothing was done: free the key so the partner's retry can run.
    IdempotencyRecord.objects.filter(pk=record.pk, response_status__isnull=True).delete()


def purge_expired() -> int:
    return IdempotencyRecord.objects.filter(expires_at__lt=timezone.now()).delete()[0]
