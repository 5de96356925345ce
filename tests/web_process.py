"""A real gunicorn, started the way production runs it (clinic/gunicorn.conf.py, clinic.wsgi),
on the test database: what a partner's HTTP client talks to."""

import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings

from tests.support import OUTPUT, ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class GunicornProcess:
    def __init__(
        self, *, name: str = "gunicorn", env: dict[str, str] | None = None, options: tuple[str, ...] = ()
    ):
        self.options = options
        db = settings.DATABASES["default"]
        self.port = free_port()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "clinic.settings_test",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            # Its cases are never drafted: a broker no worker reads. The suite's shared worker would
            # otherwise draft them while the test's teardown empties the tables (a deadlock).
            "CELERY_BROKER_URL": "memory://",
            **(env or {}),
        }
        OUTPUT.mkdir(exist_ok=True)
        self.log_path = OUTPUT / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> "GunicornProcess":
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "clinic/gunicorn.conf.py",
            "clinic.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            "1",
            *self.options,
        ]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start; see {self.log_path}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def raw(self, request: bytes, timeout: float = 10) -> bytes:
        """Send bytes as they are (a chunked body, a query) and read the whole answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(request)
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
        return received

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
