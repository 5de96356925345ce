import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from intake.models import Case, Patient
from tests.factories import referral_body

# Rule set v3 previews under the clinic's protocols, which live in the database.
pytestmark = pytest.mark.django_db

REFERRAL = referral_body(
    condition={"icd10": "m1711", "description": "Primary OA, right knee"},
    contraindications=referral_body()["contraindications"] | {"anticoagulant_therapy": True},
)


def recommend(tmp_path, body, *extra: str) -> dict:
    path = tmp_path / "referral.json"
    path.write_text(body if isinstance(body, str) else json.dumps(body))
    out = StringIO()
    call_command("recommend", str(path), *extra, stdout=out)
    return json.loads(out.getvalue())


def test_prints_the_draft_a_referral_would_get_and_saves_nothing(tmp_path):
    result = recommend(tmp_path, REFERRAL)

    assert result["route"] == "local_injection"
    assert [rule["id"] for rule in result["rules"]] == [
        "COND-LOCALIZED",
        "PROTOCOL-COVERS",
        "FLAG-BLEEDING-RISK",
    ]
    assert result["flags"] == ["bleeding_risk"]
    assert (result["ruleset_version"], result["protocol"]) == ("v3", {"id": "knee-oa-bmac", "version": 1})
    assert result["notice"].startswith("21 CFR 1271.15(b)")
    assert result["condition"]["descriptor"] == "Unilateral primary osteoarthritis, right knee"
    assert not Case.objects.exists() and not Patient.objects.exists()


def test_ruleset_version_1_reproduces_v1_exactly(tmp_path):
    # Given a code of valid form that does not exist: v1 checked the form only
    body = REFERRAL | {"condition": {"icd10": "M17.19"}}

    v1 = recommend(tmp_path, body, "--ruleset-version", "1")

    assert (v1["route"], v1["ruleset_version"]) == ("local_injection", "v1")
    assert [rule["id"] for rule in v1["rules"]] == ["LOC-FEW-SITES", "FLAG-BLEEDING-RISK"]
    assert v1["notice"].startswith("Investigational")
    assert "answers" not in v1 and "other_route" not in v1  # v1 printed neither
    with pytest.raises(CommandError, match="“M17.19” has the form of an ICD-10 code but is not a code"):
        recommend(tmp_path, body)  # the current rule set needs a real code


def test_the_intake_date_decides_the_minor_flag(tmp_path):
    young = REFERRAL | {"patient": REFERRAL["patient"] | {"birth_date": "2010-06-01"}}

    assert "minor" in recommend(tmp_path, young, "--intake-date", "2028-05-31")["flags"]
    assert "minor" not in recommend(tmp_path, young, "--intake-date", "2028-06-01")["flags"]


def test_external_id_is_not_needed_for_a_preview(tmp_path):
    body = {k: v for k, v in REFERRAL.items() if k != "external_id"}
    assert recommend(tmp_path, body)["route"] == "local_injection"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "is not valid JSON: Expecting property name"),
        ("[1, 2]", "must hold one JSON object"),
        (REFERRAL | {"condition": {"icd10": "knee"}}, "condition.icd10: “knee” is not an ICD-10 code"),
        (REFERRAL | {"affected_sites": ["nose"]}, "affected_sites.0: “nose” is not a body site"),
        (
            REFERRAL | {"contraindications": {**REFERRAL["contraindications"], "pregnant": None}},
            "contraindications.pregnant: Answer true or false",
        ),
        (
            REFERRAL | {"contraindications": {"active_malignancy": False}},
            "contraindications.pregnant: Answer true or false; a missing answer is not taken as false",
        ),
        (REFERRAL | {"consent_obtained": "yes"}, "consent_obtained: Must be true or false"),
    ],
)
def test_a_bad_file_is_a_readable_error(tmp_path, body, message):
    with pytest.raises(CommandError) as raised:
        recommend(tmp_path, body)
    assert message in str(raised.value)


def test_a_missing_file_is_a_readable_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read .*No such file"):
        call_command("recommend", str(tmp_path / "nope.json"))
