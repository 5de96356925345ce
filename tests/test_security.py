"""Production hardening that a user or an auditor would notice."""

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from tests.factories import make_user

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_reports_nothing_with_production_settings():
    env = {
        "PATH": os.environ["PATH"],
        "CLINIC_ENV_FILE": os.devnull,
        "SECRET_KEY": secrets.token_urlsafe(60),
        "AUDIT_KEYS": f"k1:{secrets.token_urlsafe(48)}",
        "ALLOWED_HOSTS": "clinic.example.org",
        "DATABASE_URL": "sqlite://:memory:",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/desk/login/", "/admin/login/", "/api/v1/conditions/", "/api/schema/", "/api/docs/", "/desk/"]
)
def test_every_page_carries_the_security_headers(client, path):
    response = client.get(path, secure=True)

    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_repeated_failed_sign_ins_lock_the_account(client):
    make_user("desk_lock", group="Front desk")
    for _ in range(5):
        client.post("/desk/login/", {"username": "desk_lock", "password": "wrong"})

    locked = client.post("/desk/login/", {"username": "desk_lock", "password": "pw-for-tests-1"})

    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
@pytest.mark.parametrize("poll", ["/desk/?fragment=1", "/desk/board/changes/"])  # what the board asks
def test_idle_users_are_signed_out_and_background_polls_do_not_count(client, settings, poll):
    client.force_login(make_user(group="Front desk"))
    assert client.get("/desk/").status_code == 200

    session = client.session
    session["last_activity"] = time.time() - (settings.IDLE_TIMEOUT_MINUTES - 1) * 60
    session.save()
    assert client.get(poll, headers={"X-Background-Poll": "1"}).status_code == 200  # still in
    session = client.session
    session["last_activity"] -= 2 * 60  # the poll above did not refresh it: now past the limit
    session.save()

    response = client.get("/desk/")

    assert response.status_code == 302 and response["Location"].startswith("/desk/login/")
    assert "without activity" in client.get("/desk/login/").content.decode()


def test_weak_passwords_are_refused():
    for weak in ("password", "12345678", "short"):
        with pytest.raises(ValidationError):
            validate_password(weak)


def sign_in_from(client, address: str, password: str, *, via: str | None = None, username="desk_many"):
    headers = {"REMOTE_ADDR": via or address}
    if via:
        headers["HTTP_X_FORWARDED_FOR"] = address
    return client.post("/desk/login/", {"username": username, "password": password}, **headers)


@pytest.mark.django_db
def test_a_user_name_has_a_limit_across_all_addresses_too(client, settings):
    # Given an attacker who tries one account once from each of many addresses
    make_user("desk_many", group="Front desk")
    for n in range(settings.AXES_USERNAME_FAILURE_LIMIT - 1):
        assert sign_in_from(client, f"203.0.113.{n}", "wrong").status_code == 200  # told "wrong", not locked

    # Then at the name-wide limit (20 in all) the account is locked from every address
    assert sign_in_from(client, "203.0.113.250", "wrong").status_code == 429
    locked = sign_in_from(client, "198.51.100.1", "pw-for-tests-1")  # even the owner's, for the cool-off
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_is_counted_by_its_own_address(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    make_user("desk_many", group="Front desk")
    # One client behind the clinic's proxy fails five times
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in_from(client, "198.51.100.7", "wrong", via="10.0.0.2")

    # That client is locked out; a colleague behind the same proxy is not
    assert sign_in_from(client, "198.51.100.7", "pw-for-tests-1", via="10.0.0.2").status_code == 429
    assert sign_in_from(client, "198.51.100.8", "pw-for-tests-1", via="10.0.0.2").status_code == 302


@pytest.mark.django_db
def test_a_forged_forwarded_header_from_outside_the_proxies_changes_nothing(rf, settings):
    from clinic.client_ip import client_ip

    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    forged = rf.get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.7")
    proxied = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7, 10.0.0.3")
    garbled = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-address")

    assert client_ip(forged) == "203.0.113.9"  # an untrusted sender's header is ignored
    assert client_ip(proxied) == "198.51.100.7"  # the first hop from the right no proxy of ours added
    assert client_ip(garbled) == "10.0.0.2"
