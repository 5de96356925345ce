import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from intake import webhook_urls
from intake.models import Partner, PartnerAPIKey

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_create_partner_json_prints_a_working_key_and_a_webhook_secret_once(monkeypatch):
    # The webhook host must resolve (there is no DNS here: a public answer stands in for it)
    monkeypatch.setattr(
        webhook_urls, "getaddrinfo", lambda host, port, **kw: [(2, 1, 6, "", ("93.184.215.14", port))]
    )
    payload = json.loads(
        run("create_partner", "Lisbon Ortho", "--webhook-url", "https://partner.example.org/hooks", "--json")
    )

    partner = Partner.objects.get(id=payload["id"])
    assert partner.webhook_url == "https://partner.example.org/hooks"
    assert payload["webhook_secret"] == partner.webhook_secret
    assert payload["webhook_secret"].startswith("whsec_")
    assert payload["api_key"].startswith("live_")
    assert PartnerAPIKey.objects.is_valid(payload["api_key"].removeprefix("live_"))
    # Only a hash is stored: the key itself is nowhere in the database.
    assert not PartnerAPIKey.objects.filter(hashed_key=payload["api_key"]).exists()


@pytest.mark.django_db
def test_create_partner_refuses_a_duplicate_name_and_a_bad_url():
    run("create_partner", "Porto Clinic")
    with pytest.raises(CommandError, match="already exists"):
        run("create_partner", "porto clinic")
    with pytest.raises(CommandError, match="valid URL"):
        run("create_partner", "Other", "--webhook-url", "ftp://x.example.org")


@pytest.mark.django_db
def test_create_partner_may_choose_fhir_webhooks():
    payload = json.loads(run("create_partner", "FHIR Clinic", "--webhook-format", "fhir", "--json"))

    assert Partner.objects.get(id=payload["id"]).webhook_format == "fhir"


@pytest.mark.django_db
def test_seed_demo_refuses_without_debug_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        run("seed_demo")

    out = run("seed_demo", "--force")

    users = get_user_model().objects
    assert users.get(username="desk").groups.filter(name="Front desk").exists()
    assert users.get(username="specialist").groups.filter(name="Specialists").exists()
    assert "API key" in out
    key = out.split("API key ")[1].split()[0]
    assert PartnerAPIKey.objects.is_valid(key.removeprefix("live_"))
    password = out.split("user: desk")[1].split("password: ")[1].split()[0]
    assert users.get(username="desk").check_password(password)


@pytest.mark.django_db
def test_roles_let_specialists_decide_and_not_the_front_desk():
    specialists = Group.objects.get(name="Specialists").permissions.values_list("codename", flat=True)
    desk = Group.objects.get(name="Front desk").permissions.values_list("codename", flat=True)

    assert {"decide_case", "add_decision", "add_addendum"} <= set(specialists)
    assert not {"decide_case", "add_decision", "add_addendum"} & set(desk)
    assert {"add_patient", "add_case"} <= set(desk)


def django_setup(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        # No developer's .env either: this is how production starts.
        env=clean | {"DJANGO_SETTINGS_MODULE": "clinic.settings", "CLINIC_ENV_FILE": "/dev/null"} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_refuse_to_start_without_a_secret_key():
    refused = django_setup({})
    assert refused.returncode != 0
    assert "SECRET_KEY is not set" in refused.stderr

    assert django_setup({"SECRET_KEY": "s3cret"}).returncode == 0
    assert django_setup({"DEBUG": "1"}).returncode == 0
