"""The benchmark's harness: the environment it runs under, fresh databases, the server and worker
processes (the load generator is tests/benchmarks/load.py)."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "clinic_bench"
BROKER = os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/13")

ENV = {
    "DJANGO_SETTINGS_MODULE": "tests.benchmarks.settings",
    "DATABASE_URL": f"{PG}/{DB_NAME}",
    "CELERY_BROKER_URL": BROKER,
    "SECRET_KEY": secrets.token_urlsafe(50),
    "AUDIT_KEYS": f"bench:{secrets.token_urlsafe(48)}",
    "DEBUG": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "SECURE_SSL_REDIRECT": "0",
    "PARTNER_THROTTLE_RATE": "100000000/min",
    "CLINIC_ENV_FILE": os.devnull,
    "LOG_LEVEL": "WARNING",
    "CONN_MAX_AGE": "600",
    # As production: the throttle's counters in Redis, shared by every web process.
    "CACHE_URL": BROKER,
    "STATIC_ROOT": str(OUTPUT / "bench-static"),
}
os.environ.update(ENV)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


class Processes:
    """gunicorn and a Celery worker, started and measured the way production runs them."""

    def __init__(self):
        self.port = free_port()
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None

    def start_web(self, *options: str, env: dict[str, str] | None = None) -> None:
        """gunicorn with the production settings (clinic/gunicorn.conf.py), or with `options` on
        top; returns once it accepts a connection (after the master's warm-up, clinic.warmup)."""
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "clinic/gunicorn.conf.py",
            "clinic.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            *options,
        ]
        self.web = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=open(OUTPUT / "bench-web.log", "ab"),  # noqa: SIM115
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.web.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError("gunicorn did not start; see test-output/bench-web.log")

    def stop_web(self) -> None:
        self._stop(self.web)
        self.web = None

    def start_worker(self) -> None:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "clinic",
            "worker",
            "--loglevel=WARNING",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        log = open(OUTPUT / "bench-worker.log", "wb")  # noqa: SIM115
        self.worker = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ},
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        time.sleep(4)

    def stop_worker(self) -> None:
        self._stop(self.worker)
        self.worker = None

    def stop(self) -> None:
        self._stop(self.web)
        self._stop(self.worker)

    @staticmethod
    def _stop(proc) -> None:
        if proc and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    @staticmethod
    def peak_rss_mb(proc) -> float:
        """Largest peak resident size (VmHWM) of the process and its children."""
        if proc is None or proc.poll() is not None:
            return float("nan")
        pids, peak = [proc.pid], 0
        try:
            children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
            pids += [int(pid) for pid in children]
        except OSError:
            pass
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
            except OSError:
                continue
        return peak / 1024


def referral(n: int) -> dict:
    """A new referral, as the load generator's (tests/benchmarks/load.py): birth dates spread over
    70 years, a unique external_id and name."""
    return {
        "external_id": f"BENCH-{n}-{uuid.uuid4().hex[:8]}",
        "patient": {
            "given_name": f"Pat{n}",
            "family_name": f"Bench{n}",
            "birth_date": (date(1935, 1, 1) + timedelta(days=n * 7919 % 25567)).isoformat(),
            "sex": "female",
            "phone": "",
            "email": "",
        },
        "condition": {"icd10": "M17.11", "description": "OA knee"},
        "affected_sites": ["right_knee"],
        "contraindications": dict.fromkeys(
            [
                "active_malignancy",
                "active_infection",
                "pregnant",
                "anticoagulant_therapy",
                "bleeding_disorder",
                "immunosuppressed",
            ],
            False,
        ),
        "consent_obtained": True,
    }
