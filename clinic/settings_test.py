"""Test settings: the real PostgreSQL and Redis of this machine, and nothing else from
the caller's environment.

The tests assume production behaviour (DEBUG off, security headers on) whatever the
shell that runs them holds: a `DEBUG=1` left exported after trying the quick start, a
`.env`, or a production `CACHE_URL`. So every variable the service reads is removed,
except DATABASE_URL and CELERY_BROKER_URL, which may point the tests at another
PostgreSQL or Redis. That happens once, in the test runner; the workers and servers
the tests start inherit the pinned environment plus the settings each test gives them.
"""

import os
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
CALLER_CHOOSES = frozenset({"DATABASE_URL", "CELERY_BROKER_URL"})
_READ = re.compile(
    r'(?:environ\.get|environ\.setdefault|environ\[|env_bool|env_int|env_list)\(?\s*"([A-Z][A-Z0-9_]*)"'
)


def env_vars_read(*roots: Path) -> set[str]:
    """The environment variables the Python files under `roots` read (the settings by default)."""
    files = [p for root in (roots or [HERE / "settings"]) for p in root.rglob("*.py")]
    files += [HERE / "gunicorn.conf.py"] if not roots else []
    return {name for path in files for name in _READ.findall(path.read_text(encoding="utf-8"))}


if os.environ.get("CLINIC_TEST_ENVIRONMENT") != "pinned":
    for name in env_vars_read() - CALLER_CHOOSES:
        os.environ.pop(name, None)
    os.environ["CLINIC_TEST_ENVIRONMENT"] = "pinned"

os.environ["CLINIC_ENV_FILE"] = os.devnull
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key")  # noqa: S105
os.environ.setdefault("AUDIT_KEYS", "test1:test-only-audit-key-0123456789abcdefghij")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
# The tests' webhook receivers listen on 127.0.0.1.
os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "1")
# The test servers speak plain HTTP on loopback.
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

from clinic.settings import *  # noqa: E402,F403

SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests never run collectstatic: no manifest to look names up in.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405

# Drafts use rule set v3, as the product does; tests/conftest.py imports the clinic's demo protocols
# for every test with database access, so drafts have the protocols v3 needs. A test about v1 or v2
# sets `settings.RULESET_LIVE` itself, and a worker it starts gets RULESET_LIVE in its environment
# (the runner removed the caller's RULESET_LIVE above, so only a test sets it).
RULESET_LIVE = "v" + os.environ.get("RULESET_LIVE", "v3").strip().lower().removeprefix("v")
# No shadow rule set unless a test asks for one: a developer's environment must not change drafts.
RULESET_SHADOW = None
