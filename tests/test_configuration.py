"""Configuration: every variable the service reads is documented, and the tests do not
depend on the caller's environment."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from clinic.settings_test import env_vars_read

ROOT = Path(__file__).resolve().parent.parent


def readme_table_variables() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| variable | default | meaning |") :]
    table = table[: table.index("\n\n")]
    first_cells = [line.split("|")[1] for line in table.splitlines()[2:]]
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", "\n".join(first_cells)))


def test_every_environment_variable_read_anywhere_is_in_the_readmes_table():
    read = env_vars_read(ROOT / "clinic", ROOT / "intake", ROOT / "recommendations")
    documented = readme_table_variables()
    assert sorted(read - documented) == [], "read by the code but not in the README's table"
    assert sorted(documented - read) == [], "in the README's table but read nowhere"


def test_the_test_settings_ignore_what_the_callers_shell_exported():
    # As after trying the quick start: DEBUG=1 exported, and a production cache and throttle.
    leaked = {"DEBUG": "1", "CACHE_URL": "redis://127.0.0.1:1/0", "PARTNER_THROTTLE_RATE": "1/min"}
    env = {k: v for k, v in os.environ.items() if k != "CLINIC_TEST_ENVIRONMENT"} | leaked
    code = (
        "import json, clinic.settings_test as s;"
        "print(json.dumps([s.DEBUG, s.SECURE_HSTS_SECONDS,"
        " s.CACHES['default']['BACKEND'], s.PARTNER_THROTTLE_RATE]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    debug, hsts, cache, rate = json.loads(run.stdout)
    assert (debug, cache, rate) == (False, "django.core.cache.backends.locmem.LocMemCache", "600/min")
    assert hsts > 0  # the security-header tests see production's headers


def _manage(*args: str) -> subprocess.CompletedProcess:
    # As on a fresh checkout or in CI: no DEBUG, no SECRET_KEY, no .env file.
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "CLINIC_ENV_FILE": os.devnull}
    return subprocess.run(
        [sys.executable, "manage.py", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )


def test_the_migration_check_runs_without_the_production_secret_and_finds_nothing_missing():
    run = _manage("makemigrations", "--check", "--dry-run")
    assert (run.returncode, run.stdout.strip()) == (0, "No changes detected"), run.stderr


def test_anything_else_still_refuses_to_start_without_the_secret():
    run = _manage("check")
    assert run.returncode != 0 and "SECRET_KEY is not set" in run.stderr


def test_a_metrics_address_that_is_not_an_address_stops_the_service_at_start():
    env = {k: v for k, v in os.environ.items() if k != "CLINIC_TEST_ENVIRONMENT"}
    env |= {"DEBUG": "1", "METRICS_ALLOWED_ADDRESSES": "10.0.0.0/8,prometheus.internal"}
    run = subprocess.run(
        [sys.executable, "-c", "import clinic.settings"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0
    assert "METRICS_ALLOWED_ADDRESSES: 'prometheus.internal' is not an address or network." in run.stderr
