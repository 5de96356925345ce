"""The partner rate limit: atomic, constant cost per request, and open when its store is away.

`limits`' sliding-window counter keeps two counters per partner (this window and the last)
and decides with one atomic call (a Lua script on Redis): exact under any concurrency, and
the same cost at 60/min as at 60,000/min, unlike DRF's SimpleRateThrottle, which reads,
edits and writes back a list of timestamps without a lock. The store is Redis when
CACHE_URL names one (every web process shares it), else this process's memory. When the
store cannot be reached, the request goes through and a warning is logged: a partner's
referral matters more than the limit.
"""

import logging
import time
from functools import cache

from django.conf import settings
from limits import RateLimitItemPerDay, RateLimitItemPerHour, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter
from rest_framework import throttling

from clinic.web.api.auth import partner_identity_of

log = logging.getLogger(__name__)
UNITS = {
    "s": RateLimitItemPerSecond,
    "m": RateLimitItemPerMinute,
    "h": RateLimitItemPerHour,
    "d": RateLimitItemPerDay,
}
# A Redis that does not answer within this long counts as away.
STORE_TIMEOUT_SECONDS = 0.25


def parse_rate(rate: str):
    """DRF's rate form ("600/min", "10/s", "1000/hour") as a `limits` item."""
    count, _, period = rate.partition("/")
    return UNITS[period.strip()[0].lower()](int(count))


@cache
def store(url: str) -> Storage:
    if url.startswith(("redis://", "rediss://")):
        return storage_from_string(
            url,
            wrap_exceptions=True,
            socket_connect_timeout=STORE_TIMEOUT_SECONDS,
            socket_timeout=STORE_TIMEOUT_SECONDS,
        )
    return storage_from_string("memory://")


def limiter() -> SlidingWindowCounterRateLimiter:
    return SlidingWindowCounterRateLimiter(store(settings.CACHE_URL))


class PartnerRateThrottle(throttling.BaseThrottle):
    """Requests per partner (all its keys together); staff sessions are not throttled."""

    namespace = "partner"

    def rate(self) -> str:
        return settings.PARTNER_THROTTLE_RATE

    def allow_request(self, request, view) -> bool:
        partner = partner_identity_of(request)  # its id: no read of its row
        if partner is None:
            return True
        item, key = parse_rate(self.rate()), str(partner.pk)
        self._retry_after = None
        try:
            rate_limiter = limiter()
            if rate_limiter.hit(item, self.namespace, key):
                return True
            stats = rate_limiter.get_window_stats(item, self.namespace, key)
            self._retry_after = max(stats.reset_time - time.time(), 1)
            return False
        except StorageError as exc:
            log.warning("partner rate limit store unreachable; request let through: %s", exc)
            return True

    def wait(self) -> float | None:
        return self._retry_after


class PartnerPingThrottle(PartnerRateThrottle):
    """A webhook test holds a web process while the partner's endpoint answers (up to
    WEBHOOK_TIMEOUT_SECONDS): a few a minute per partner, on top of the partner's rate."""

    namespace = "ping"

    def rate(self) -> str:
        return "6/min"
