"""`manage.py protocols import|export`, `recommend --protocols`, `replay_rules --against 3`, seed_demo."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from recommendations.models import Protocol
from recommendations.review import approve_draft
from recommendations.services import DEMO_PROTOCOLS_FILE, make_draft
from tests.factories import make_case, make_user, referral_body

# These tests import and save protocols themselves, into an empty table.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_demo_protocols")]
KNEE = {"kl_grade": 2, "conservative_care_months": 6}


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write(tmp_path, name: str, data) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def test_import_then_import_again_changes_nothing():
    out, _ = run("protocols", "import", str(DEMO_PROTOCOLS_FILE))
    again, _ = run("protocols", "import", str(DEMO_PROTOCOLS_FILE))

    assert "imported knee-oa-bmac v1" in out
    assert "unchanged knee-oa-bmac v1 (held already)" in again
    assert Protocol.objects.count() == 4


def test_an_import_error_exits_non_zero_naming_the_field_and_imports_nothing(tmp_path):
    data = json.loads(DEMO_PROTOCOLS_FILE.read_text())
    data["protocols"][2]["reference"] = ""  # the ind protocol without its IND number

    with pytest.raises(CommandError, match=r"protocols/2/reference: Fill in the reference"):
        run("protocols", "import", write(tmp_path, "p.json", data))
    assert not Protocol.objects.exists()


def test_import_warns_on_stderr_about_a_protocol_that_can_never_fire(tmp_path):
    data = json.loads(DEMO_PROTOCOLS_FILE.read_text())
    data["protocols"][0]["indications"] = ["M17", "Q99.9X"]

    _, err = run("protocols", "import", write(tmp_path, "p.json", data))

    assert "warning: knee-oa-bmac v1: lists Q99.9X, not in the ICD-10-CM code set" in err


def test_export_writes_an_importable_file_and_says_why_a_protocol_is_not_effective(tmp_path, settings):
    run("protocols", "import", str(DEMO_PROTOCOLS_FILE))
    settings.CLINIC_JURISDICTION = "FL"
    target = tmp_path / "out.json"

    out, err = run("protocols", "export", str(target))

    exported = json.loads(target.read_text())
    assert "4 protocol versions written" in out
    assert {p["id"] for p in exported["protocols"]} == {p.protocol_id for p in Protocol.objects.all()}
    assert "knee-oa-bmac v1: not effective here: ineffective in Florida" in err
    again, _ = run("protocols", "import", str(target))  # round trip: every version held already
    assert again.count("unchanged") == 4


def test_recommend_with_a_protocol_file_prints_protocol_needs_and_its_notice(tmp_path):
    body = write(tmp_path, "referral.json", referral_body(findings=KNEE))
    out, _ = run("recommend", body, "--protocols", str(DEMO_PROTOCOLS_FILE), "--ruleset-version", "3")
    printed = json.loads(out)

    assert (printed["route"], printed["ruleset_version"]) == ("local_injection", "v3")
    assert printed["protocol"] == {"id": "knee-oa-bmac", "version": 1}
    assert printed["needs"]["findings"] == []
    assert "1271.15(b)" in printed["notice"]
    assert not Protocol.objects.exists()  # the file was read, not imported

    without, _ = run(
        "recommend",
        write(tmp_path, "bare.json", referral_body(findings={})),
        "--protocols",
        str(DEMO_PROTOCOLS_FILE),
        "--ruleset-version",
        "3",
    )
    assert json.loads(without)["needs"]["findings"] == ["kl_grade", "conservative_care_months"]
    v2 = json.loads(run("recommend", body, "--ruleset-version", "2")[0])
    assert v2["ruleset_version"] == "v2" and "protocol" not in v2 and "needs" not in v2


def test_recommend_refuses_a_bad_protocol_file_naming_the_field(tmp_path):
    bad = write(tmp_path, "p.json", {"protocols": [{"id": "x", "version": 1}]})

    with pytest.raises(CommandError, match=r"protocols/0/route: is required"):
        run(
            "recommend",
            write(tmp_path, "r.json", referral_body()),
            "--protocols",
            bad,
            "--ruleset-version",
            "3",
        )


def test_replay_against_3_compares_with_the_rule_set_each_case_was_drafted_with(settings):
    settings.RULESET_LIVE = "v2"  # the stored drafts are v2's, which replay compares v3 against
    run("protocols", "import", str(DEMO_PROTOCOLS_FILE))
    specialist = make_user("dr_a", group="Specialists")
    for findings in (KNEE, {}):
        case = make_case(findings=findings)
        make_draft(case_id=case.pk)  # rule set v2, pinned above
        approve_draft(case_id=case.pk, user=specialist)

    out, _ = run("replay_rules", "--against", "3")

    assert "Rule set v3 against the rule set each case was drafted with (v2: 2) on 2 decided cases" in out
    assert "old drafts matching the specialist:   2 (100.0%)" in out
    assert "new drafts matching the specialist:   1 (50.0%)" in out  # v3 asks for the missing findings
    assert "local_injection -> needs_information: 1" in out


def test_seed_demo_imports_the_demo_protocols_once(settings):
    settings.DEBUG = True
    out, _ = run("seed_demo")
    again, _ = run("seed_demo")

    assert "Protocol     knee-oa-bmac v1 (EXAMPLE" in out
    assert "Protocol" not in again
    assert Protocol.objects.filter(active=True).count() == 4
