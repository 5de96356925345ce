"""Test settings: the real PostgreSQL and Redis of this machine by default.

Only defaults are set here; clinic.settings still reads the environment, so
DATABASE_URL and CELERY_BROKER_URL can point the tests elsewhere. A developer's
`.env` is not read: the tests run the same on a laptop and in CI.
"""

import os

os.environ["CLINIC_ENV_FILE"] = os.devnull
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key")  # noqa: S105
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
