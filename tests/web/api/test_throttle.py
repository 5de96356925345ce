"""The partner rate limit: exact under concurrency, the same cost whatever the limit."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
import redis

from clinic.web.api import throttle
from clinic.web.api.auth import PartnerPrincipal
from intake.models import Partner
from tests.faults.conftest import RedisServer

pytestmark = pytest.mark.faults  # a redis-server of its own, never the shared one


@pytest.fixture
def own_redis(settings):
    server = RedisServer().start()
    settings.CACHE_URL = server.url
    try:
        yield server
    finally:
        server.stop()


def request_of(partner: Partner):
    return SimpleNamespace(user=PartnerPrincipal(partner))


def test_650_calls_with_16_in_flight_at_600_a_minute_let_600_through(own_redis, settings):
    settings.PARTNER_THROTTLE_RATE = "600/min"
    partner = Partner(id=uuid.uuid4(), name="Busy")

    def call(_):
        gate = throttle.PartnerRateThrottle()
        allowed = gate.allow_request(request_of(partner), None)
        return allowed, gate.wait()

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(call, range(650)))

    allowed = sum(ok for ok, _ in results)
    print(f"600/min, 650 calls, 16 in flight: {allowed} allowed, {650 - allowed} refused")
    assert allowed == 600
    assert all(0 < wait <= 60 for ok, wait in results if not ok)  # each refusal says when to retry


@pytest.mark.parametrize("rate", ["60/min", "60000/min"])
def test_the_store_holds_two_counters_per_partner_whatever_the_limit(own_redis, settings, rate):
    settings.PARTNER_THROTTLE_RATE = rate
    partner = Partner(id=uuid.uuid4(), name="Counted")
    for _ in range(200):
        throttle.PartnerRateThrottle().allow_request(request_of(partner), None)

    store = redis.Redis.from_url(own_redis.url)
    keys = [key for key in store.keys("*") if str(partner.pk).encode() in key]
    # Counters, not a list of timestamps that grows with the limit (DRF's SimpleRateThrottle)
    assert 1 <= len(keys) <= 2
    assert {store.type(key) for key in keys} == {b"string"}


def test_when_the_store_is_away_the_request_goes_through_with_a_warning(own_redis, settings, caplog):
    settings.PARTNER_THROTTLE_RATE = "1/min"
    partner = Partner(id=uuid.uuid4(), name="Outage")
    assert throttle.PartnerRateThrottle().allow_request(request_of(partner), None)

    own_redis.stop()  # Redis goes away

    assert throttle.PartnerRateThrottle().allow_request(request_of(partner), None)  # open, not a 500
    assert "partner rate limit store unreachable" in caplog.text
