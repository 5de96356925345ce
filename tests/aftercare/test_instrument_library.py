"""A clinic adds an instrument it holds a licence for from a FHIR R4 Questionnaire file, with the
licence recorded (clinic.aftercare.instrument_library and `manage.py instruments`); the instruments
this product does not ship are refused without one. The files here are made-up instruments: no
proprietary item text appears in this repository."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from clinic.aftercare.instrument_library import (
    UnknownInstrument,
    all_instruments,
    get_instrument,
    import_questionnaire,
)
from clinic.aftercare.instruments import SHIPPED
from clinic.aftercare.models import Instrument
from tests.factories import make_user

ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
LICENCE = "Licence agreement no. 2026-114 with the owner, signed 2026-03-02, for electronic use."
SOURCE = "https://clinic.example.org/licences/2026-114.pdf"


def questionnaire_file(title="Clinic morning check", name="ClinicMorningCheck", items=3) -> dict:
    return {
        "resourceType": "Questionnaire",
        "name": name,
        "title": title,
        "status": "active",
        "item": [
            {"linkId": "intro", "type": "display", "text": "Think of the last week."},
            *(
                {
                    "linkId": f"q{n}",
                    "text": f"Made-up question {n}",
                    "type": "choice",
                    "answerOption": [
                        {
                            "valueCoding": {
                                "code": str(w),
                                "display": f"Level {w}",
                                "extension": [{"url": ORDINAL, "valueDecimal": w}],
                            }
                        }
                        for w in range(5)
                    ],
                }
                for n in range(1, items + 1)
            ),
        ],
    }


def add(data=None, **changes) -> Instrument:
    given = dict(
        data=questionnaire_file() if data is None else data,
        licence=LICENCE,
        licence_source=SOURCE,
        better="lower",
        mcid=None,
        mcid_source="",
        user=None,
    )
    return import_questionnaire(**(given | changes))


@pytest.mark.django_db
def test_an_imported_instrument_keeps_its_licence_and_scores_as_its_file_says():
    user = make_user("importer")
    row = add(
        user=user,
        mcid=10,
        mcid_source="Clinic's own anchor study, 2025, 120 knee patients",
        score_min=0,
        score_max=100,
    )
    row.refresh_from_db()
    assert (row.key, row.title, row.licence, row.licence_source, row.added_by) == (
        "clinic_morning_check",
        "Clinic morning check",
        LICENCE,
        SOURCE,
        user,
    )
    spec = get_instrument("clinic_morning_check")
    assert (spec.licence_status, spec.better, spec.mcid) == ("licensed", "lower", 10)
    assert [item.text for item in spec.items] == [
        "Made-up question 1",
        "Made-up question 2",
        "Made-up question 3",
    ]
    assert spec.items[0].section == "Think of the last week."
    assert spec.score({"q1": 4, "q2": 2, "q3": 0}) == 50  # raw 6 of 0..12, scaled to 0..100
    assert spec.score({"q1": 4, "q2": 2}) is None


@pytest.mark.django_db
def test_without_a_range_the_score_is_the_plain_sum():
    add()
    spec = get_instrument("clinic_morning_check")
    assert (spec.score_min, spec.score_max, spec.score({"q1": 1, "q2": 2, "q3": 3})) == (0, 12, 6)


@pytest.mark.django_db
def test_womac_is_refused_without_the_licence_and_recorded_with_it():
    womac = questionnaire_file(title="WOMAC 3.1 (clinic's licensed copy)", name="Womac31")
    with pytest.raises(ValidationError) as refused:
        add(womac, licence="  ")
    assert "WOMAC is not shipped" in refused.value.message_dict["licence"][0]
    assert not Instrument.objects.exists()
    row = add(womac)
    assert (row.key, row.licence) == ("womac31", LICENCE)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "title, named",
    [
        ("Oswestry Disability Index 2.1a", "ODI"),
        ("EQ-5D-5L", "EQ-5D"),
        ("PROMIS-29", "PROMIS"),
        ("QuickDASH", "QuickDASH"),
    ],
)
def test_each_not_shipped_instrument_is_named_in_the_refusal(title, named):
    with pytest.raises(ValidationError) as refused:
        add(questionnaire_file(title=title, name="Licensed"), licence="")
    assert refused.value.message_dict["licence"][0].startswith(f"{named} is not shipped")


@pytest.mark.django_db
def test_any_instrument_needs_its_licence_and_its_source():
    with pytest.raises(ValidationError) as refused:
        add(licence="", licence_source="")
    assert set(refused.value.message_dict) == {"licence", "licence_source"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes, field, words",
    [
        (dict(better="up"), "better", "higher or lower"),
        (dict(mcid=-3, mcid_source="x"), "mcid", "positive"),
        (dict(mcid=5), "mcid_source", "source of the MCID"),
        (dict(mcid=20, mcid_source="x"), "mcid", "larger than the whole scale"),
        (dict(score_min=10, score_max=0), "score_max", "below score_max"),
        (dict(key="Bad Key!"), "key", "lower-case"),
    ],
)
def test_each_bad_field_is_named(changes, field, words):
    with pytest.raises(ValidationError) as refused:
        add(**changes)
    assert words in " ".join(refused.value.message_dict[field])
    assert not Instrument.objects.exists()


@pytest.mark.django_db
def test_a_file_that_is_not_a_valid_fhir_questionnaire_is_refused():
    broken = questionnaire_file()
    del broken["status"]  # required in R4
    with pytest.raises(ValidationError) as refused:
        add(broken)
    assert "Not a valid FHIR R4 Questionnaire" in refused.value.message_dict["data"][0]
    with pytest.raises(ValidationError) as refused:
        add({"resourceType": "Patient"})
    assert "not a FHIR Questionnaire" in refused.value.message_dict["data"][0]


@pytest.mark.django_db
def test_an_option_without_a_score_is_refused_with_its_place():
    data = questionnaire_file()
    del data["item"][2]["answerOption"][3]["valueCoding"]["extension"]
    with pytest.raises(ValidationError) as refused:
        add(data)
    assert refused.value.message_dict["data"][0].startswith(
        "Questionnaire.item[2].answerOption[3]: This option has no score"
    )


@pytest.mark.django_db
def test_a_key_is_not_taken_twice_nor_from_a_shipped_instrument():
    add()
    with pytest.raises(ValidationError, match="has an instrument clinic_morning_check already"):
        add()
    with pytest.raises(ValidationError, match="koos_jr is a shipped instrument"):
        add(questionnaire_file(name="KoosJr"))
    assert Instrument.objects.count() == 1
    assert add(questionnaire_file(name="KoosJr"), key="koos_jr_clinic").key == "koos_jr_clinic"


@pytest.mark.django_db
def test_get_instrument_finds_shipped_and_clinic_instruments_and_names_the_unknown():
    assert get_instrument("koos_jr") is SHIPPED["koos_jr"]
    add()
    assert [spec.key for spec in all_instruments()] == [*SHIPPED, "clinic_morning_check"]
    with pytest.raises(UnknownInstrument, match="no instrument 'womac'"):
        get_instrument("womac")


@pytest.mark.django_db
def test_the_instruments_command_imports_a_file_and_lists_licences_and_mcids(tmp_path, capsys):
    path = tmp_path / "morning.json"
    path.write_text(json.dumps(questionnaire_file()), encoding="utf-8")
    call_command(
        "instruments", "import", str(path), "--licence", LICENCE, "--licence-source", SOURCE,
        "--better", "lower", "--mcid", "2", "--mcid-source", "Clinic anchor study 2025",
    )  # fmt: skip
    assert "imported clinic_morning_check (Clinic morning check), scored 0-12" in capsys.readouterr().out
    call_command("instruments", "list")
    listing = capsys.readouterr().out
    assert "koos_jr\tKOOS, JR. (knee)" in listing
    assert "licence: free: HSS: nonproprietary" in listing
    assert "MCID: 2 or 30 % of baseline (Farrar JT" in listing
    assert "MCID: none (None derived for the knee or hip" in listing
    assert f"licence: licensed: {LICENCE} ({SOURCE})" in listing


@pytest.mark.django_db
def test_the_command_changes_nothing_and_says_why_when_a_file_is_refused(tmp_path):
    path = tmp_path / "womac.json"
    path.write_text(json.dumps(questionnaire_file(title="WOMAC")), encoding="utf-8")
    with pytest.raises(
        CommandError, match=r"was not imported \(nothing was changed\):\n  licence: WOMAC is not shipped"
    ):
        call_command(
            "instruments",
            "import",
            str(path),
            "--licence",
            "",
            "--licence-source",
            SOURCE,
            "--better",
            "lower",
        )
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(CommandError, match="is not JSON"):
        call_command(
            "instruments",
            "import",
            str(tmp_path / "bad.json"),
            "--licence",
            "x",
            "--licence-source",
            "y",
            "--better",
            "lower",
        )
    assert not Instrument.objects.exists()
