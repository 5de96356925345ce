"""Fault-test harness: a Redis broker of the test's own, and the app pointed at it."""

import os
import shutil
import socket
import subprocess
import time

import pytest
import redis
from django.conf import settings
from kombu import pools as kombu_pools

from clinic.celery import app
from tests.support import OUTPUT, wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """redis-server on its own port: never the shared one, so it can be stopped."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "RedisServer":
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        log = open(OUTPUT / f"redis-{self.port}.log", "ab")  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        assert wait_for(self.ping, timeout=10), "redis-server did not start"
        return self

    def ping(self) -> bool:
        try:
            return redis.Redis.from_url(self.url, socket_timeout=0.5).ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        wait_for(lambda: not self.ping(), timeout=5)

    def queued(self, queue: str = "drafting") -> int:
        return redis.Redis.from_url(self.url).llen(queue)


def _point_app_at(url: str, options: dict) -> None:
    # Celery reads CELERY_BROKER_URL from the environment before its own setting.
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.broker_url = url
    app.conf.broker_transport_options = options
    # Drop pooled connections and producers made for the previous broker; kombu
    # keeps them in process-wide registries, so clear those too.
    kombu_pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def own_broker():
    """A fresh redis-server, and this test process publishing to it."""
    OUTPUT.mkdir(exist_ok=True)
    server = RedisServer().start()
    before = (app.conf.broker_url, app.conf.broker_transport_options)
    _point_app_at(server.url, dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS))
    try:
        yield server
    finally:
        _point_app_at(*before)
        server.stop()
        time.sleep(0.1)
