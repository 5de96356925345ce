import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.1):
    """Poll until `predicate()` is truthy; return its last value."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


def at_once(*actions: Callable[[], object]) -> list[object]:
    """Run each action in its own thread, all released together by a barrier, and
    return what each returned or raised, in order. Each thread closes its own
    database connection, so the race is between real PostgreSQL sessions."""
    barrier = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def run(index: int, action: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[index] = action()
        except Exception as exc:  # noqa: BLE001  the test inspects what each racer got
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# For tests whose transactions must really commit (other threads, a worker, a
# browser). The flush after such a test empties every table; serialized_rollback
# puts back what migrations wrote (the roles) before the next one.
committed_db = pytest.mark.django_db(transaction=True, serialized_rollback=True)


ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "test-output"


class WorkerProcess:
    """A real `celery -A clinic worker` on the test database, in its own process group."""

    def __init__(
        self,
        *,
        broker_url: str,
        name: str = "worker",
        delay: float = 0.0,
        concurrency: int = 2,
        env: dict[str, str] | None = None,
        queues: tuple[str, ...] | None = None,
    ):
        db = settings.DATABASES["default"]
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "clinic.settings_test",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": broker_url,
            **(env or {}),
        }
        args = [
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname={name}@%h",
            # Every queue unless told (production splits drafting from the rest: README, "Running").
            "--queues=" + ",".join(queues or [queue.name for queue in settings.CELERY_TASK_QUEUES]),
        ]
        if delay:
            self.command = [sys.executable, "-m", "tests.faults.slow_worker", str(delay), *args]
        else:
            self.command = [sys.executable, "-m", "celery", "-A", "clinic", "worker", *args]
        OUTPUT.mkdir(exist_ok=True)
        self.log_path = OUTPUT / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> "WorkerProcess":
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if not wait_for(lambda: "ready." in self.log() or self.proc.poll() is not None, timeout=timeout) or (
            self.proc.poll() is not None
        ):
            self.kill()
            raise RuntimeError(f"the Celery worker did not start; see {self.log_path}")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """kill -9 the worker and its pool children at once, as a crash would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class Receiver:
    """A partner's endpoint: records what arrives and answers with the codes it is given."""

    def __init__(self, codes=(200,)):
        self.codes, self.received = list(codes), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                # Header names are case-insensitive; keep them as a partner would read them.
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                code = receiver.codes.pop(0) if len(receiver.codes) > 1 else receiver.codes[0]
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()  # refuse connections from now on
