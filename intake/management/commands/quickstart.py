import os
import signal

# Starts our own fixed commands (see below).
import subprocess  # nosec B404
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from intake import telemetry


class Command(BaseCommand):
    help = (
        "Run the whole service on this machine: migrate, seed demo data, then the web "
        "server, two Celery workers (drafting, and the rest) and Celery beat, until Ctrl-C."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-seed", action="store_true", help="do not (re)seed demo data")

    def handle(self, *args, port: int, no_seed: bool, **options):
        if not settings.DEBUG:
            raise CommandError("quickstart is for local use: run it with DEBUG=1.")
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        # A fresh start: /metrics counts this run's processes only.
        telemetry.drop_stale(settings.PROMETHEUS_MULTIPROC_DIR, keep_pid=os.getpid())
        call_command("migrate", interactive=False, verbosity=0)
        if not no_seed:
            call_command("seed_demo")
        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            # Two workers, as in production: drafts never wait behind a slow mail server or a
            # partner's endpoint, which one worker for every queue would let happen (two stalled
            # emails occupy both of its processes).
            "drafting worker": _worker(python, "drafting", settings.DRAFTING_QUEUE),
            "worker": _worker(
                python,
                "other",
                f"{settings.DEFAULT_QUEUE},{settings.EMAIL_QUEUE},{settings.WEBHOOKS_QUEUE},"
                f"{settings.FOLLOW_UP_QUEUE}",
            ),
            "beat": [python, "-m", "celery", "-A", "clinic", "beat", "--loglevel=INFO"],
        }
        env = {**os.environ, "DEBUG": "1"}
        # A plain `kill` of this command must stop its children too, not orphan them.
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        procs = {
            # Fixed argument lists of our own (this Python, manage.py, celery): no user input.
            name: subprocess.Popen(cmd, cwd=settings.BASE_DIR, env=env)  # noqa: S603  # nosec B603
            for name, cmd in commands.items()
        }
        self.stdout.write(
            self.style.SUCCESS(
                f"Serving on http://127.0.0.1:{port}/: the front desk at /desk/, specialists at /admin/, "
                "the partner API at /api/v1/ (docs at /api/docs/). Ctrl-C stops everything."
            )
        )
        try:
            while all(proc.poll() is None for proc in procs.values()):
                time.sleep(0.5)
            dead = [name for name, proc in procs.items() if proc.poll() is not None]
            self.stderr.write(f"{', '.join(dead)} stopped; stopping the rest.")
        except KeyboardInterrupt:
            pass
        finally:
            _stop(list(procs.values()))


def _worker(python: str, name: str, queues: str) -> list[str]:
    return [
        python,
        "-m",
        "celery",
        "-A",
        "clinic",
        "worker",
        "--loglevel=INFO",
        "--concurrency=2",
        f"--queues={queues}",
        f"--hostname={name}@%h",
    ]


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    try:
        for proc in procs:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        # A child that will not stop, or a second Ctrl-C: never leave one running behind us.
        for proc in procs:
            if proc.poll() is None:
                proc.kill()


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt
