"""The shipped instruments as data and DESIGN.md's scoring rules (clinic.aftercare.instruments),
checked against the published examples: the KOOS, JR. and HOOS, JR. interval tables (endpoints and
rows), Farrar 2001's "2 points or 30 %" for the pain scale, and no responder without an MCID."""

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire

from clinic.aftercare.instruments import (
    SHIPPED,
    InstrumentSpec,
    Item,
    QuestionnaireProblem,
    imported_spec,
    improvement,
    not_shipped_name,
    questionnaire,
    read_items,
    responder,
)

KOOS = SHIPPED["koos_jr"]
HOOS = SHIPPED["hoos_jr"]
PAIN = SHIPPED["pain_nrs"]
SANE = SHIPPED["sane"]


def answers(spec: InstrumentSpec, *values: int) -> dict[str, int]:
    return {item.link_id: value for item, value in zip(spec.items, values, strict=True)}


def test_the_four_shipped_instruments_and_their_licences():
    assert {key: spec.licence_status for key, spec in SHIPPED.items()} == {
        "pain_nrs": "free",
        "koos_jr": "free",
        "hoos_jr": "free",
        "sane": "unknown",
    }
    assert (
        KOOS.licence_source == HOOS.licence_source == "https://hss.edu/hoos-jr-koos-jr-outcomes-surveys.asp"
    )
    for spec in (KOOS, HOOS):
        assert "short form for" in spec.population_note and "replacement" in spec.population_note
        assert "orthopaedic clinic" in spec.population_note


def test_koos_jr_items_are_the_hss_wording_in_order():
    assert [item.text for item in KOOS.items] == [
        "How severe is your knee stiffness after first wakening in the morning?",
        "Twisting/pivoting on your knee",
        "Straightening knee fully",
        "Going up or down stairs",
        "Standing upright",
        "Rising from sitting",
        "Bending to floor/pick up an object",
    ]
    assert all(
        [(o.value, o.label) for o in item.options]
        == [(0, "None"), (1, "Mild"), (2, "Moderate"), (3, "Severe"), (4, "Extreme")]
        for item in KOOS.items
    )


def test_hoos_jr_items_are_the_hss_wording_in_order():
    assert [item.text for item in HOOS.items] == [
        "Going up or down stairs",
        "Walking on an uneven surface",
        "Rising from sitting",
        "Bending to the floor/pick up an object",
        "Lying in bed (turning over, maintaining hip position)",
        "Sitting",
    ]


@pytest.mark.parametrize(
    "values, expected",
    [
        ((0, 0, 0, 0, 0, 0, 0), 100.0),  # all "None": the table's top, perfect knee health
        ((4, 4, 4, 4, 4, 4, 4), 0.0),  # all "Extreme": total knee disability
        ((1, 0, 0, 0, 0, 0, 0), 91.975),  # raw 1
        ((1, 1, 1, 1, 1, 1, 1), 68.284),  # raw 7
        ((2, 2, 2, 2, 2, 2, 2), 52.465),  # raw 14
        ((3, 2, 2, 2, 2, 2, 2), 50.012),  # raw 15
        ((4, 4, 4, 4, 4, 4, 3), 8.291),  # raw 27
    ],
)
def test_koos_jr_interval_score_from_the_table(values, expected):
    assert KOOS.score(answers(KOOS, *values)) == expected


@pytest.mark.parametrize(
    "values, expected",
    [
        ((0, 0, 0, 0, 0, 0), 100.0),
        ((4, 4, 4, 4, 4, 4), 0.0),
        ((0, 0, 0, 0, 0, 1), 92.340),  # raw 1
        ((2, 2, 2, 2, 2, 1), 55.985),  # raw 11
        ((2, 2, 2, 2, 2, 2), 52.965),  # raw 12
        ((4, 4, 4, 4, 4, 3), 8.104),  # raw 23
    ],
)
def test_hoos_jr_interval_score_from_the_table(values, expected):
    assert HOOS.score(answers(HOOS, *values)) == expected


def test_the_tables_run_from_100_down_to_0_one_row_per_raw_sum():
    for spec, rows in ((KOOS, 29), (HOOS, 25)):
        assert len(spec.table) == rows and spec.table[0] == 100 and spec.table[-1] == 0
        assert all(higher > lower for higher, lower in zip(spec.table, spec.table[1:], strict=False))


def test_an_unanswered_item_gives_no_score_rather_than_a_guess():
    partial = answers(KOOS, 0, 0, 0, 0, 0, 0, 0)
    del partial["koos_jr_4"]
    assert KOOS.score(partial) is None
    assert PAIN.score({}) is None


@pytest.mark.parametrize("value", [5, -1, 2.5, True, "2"])
def test_an_answer_that_is_not_an_option_is_refused(value):
    with pytest.raises(ValueError, match="Choose one of the answers offered"):
        KOOS.score(answers(KOOS, value, 0, 0, 0, 0, 0, 0))


@pytest.mark.parametrize("value, accepted", [(0, True), (10, True), (7, True), (11, False), (6.5, False)])
def test_pain_scale_takes_whole_numbers_0_to_10(value, accepted):
    assert PAIN.items[0].accepts(value) is accepted
    if accepted:
        assert PAIN.score({"pain_nrs": value}) == value


def test_sane_scores_its_single_answer():
    assert SANE.score({"sane": 85}) == 85
    assert not SANE.items[0].accepts(101)


def test_improvement_is_in_the_better_direction():
    assert improvement(PAIN, 7, 3) == 4  # lower is better: baseline - follow-up
    assert improvement(KOOS, 40, 60) == 20  # higher is better: follow-up - baseline
    assert improvement(KOOS, 60, 40) == -20


@pytest.mark.parametrize(
    "baseline, score, expected",
    [
        (8, 6, (True, False)),  # 2 points
        (10, 7, (True, False)),  # 3 points: exactly 30 % of 10
        (3, 2, (True, False)),  # 1 point is 33 % of 3: the percentage threshold suffices
        (1, 0, (True, False)),
        (7, 6, (False, False)),  # 1 point, 14 %
        (10, 8, (True, False)),
        (5, 5, (False, False)),
        (5, 6, (False, False)),  # 1 point worse: not a worsening
        (5, 7, (False, True)),  # 2 points worse: a worsening, never a response
        (0, 0, (False, False)),
        (0, 2, (False, True)),
    ],
)
def test_pain_responder_is_2_points_or_30_percent_either(baseline, score, expected):
    assert responder(PAIN, baseline, score) == expected


def test_with_a_baseline_of_0_only_the_points_threshold_counts():
    # A higher-is-better scale with both thresholds: from 0, any gain is "infinite" percent.
    spec = InstrumentSpec(
        key="test_scale",
        title="Test scale",
        items=(Item("q", "Test question", minimum=0, maximum=10),),
        better="higher",
        score_min=0,
        score_max=10,
        mcid=2,
        mcid_percent=30,
        mcid_source="test",
        licence="test",
        licence_status="licensed",
        licence_source="test",
        population_note="test",
        scoring="single",
    )
    assert responder(spec, 0, 1) == (False, False)
    assert responder(spec, 0, 2) == (True, False)
    assert responder(spec, 5, 6) == (False, False)  # 1 point is 20 % of 5
    assert responder(spec, 3, 4) == (True, False)  # 1 point is 33 % of 3


@pytest.mark.parametrize(
    "baseline, score, expected",
    [
        (40.0, 55.1, (True, False)),  # exactly the MCID, 15.1
        (40.0, 55.0, (False, False)),
        (60.0, 44.9, (False, True)),  # 15.1 worse
        (60.0, 45.0, (False, False)),
    ],
)
def test_koos_jr_responder_at_the_hung_2018_mcid(baseline, score, expected):
    assert responder(KOOS, baseline, score) == expected


def test_koos_jr_responder_from_table_scores():
    baseline = KOOS.score(answers(KOOS, 3, 3, 3, 3, 3, 3, 2))  # raw 20: 36.931
    after = KOOS.score(answers(KOOS, 2, 2, 1, 2, 1, 1, 1))  # raw 10: 61.583
    assert (baseline, after) == (36.931, 61.583)
    assert responder(KOOS, baseline, after) == (True, False)
    nearly = KOOS.score(answers(KOOS, 3, 2, 2, 2, 2, 2, 2))  # raw 15: 50.012, 13.081 better
    assert responder(KOOS, baseline, nearly) == (False, False)


def test_hoos_jr_responder_at_18_points():
    assert responder(HOOS, 50.0, 68.0) == (True, False)
    assert responder(HOOS, 50.0, 67.9) == (False, False)
    assert responder(HOOS, 50.0, 32.0) == (False, True)


def test_sane_has_no_mcid_for_knee_or_hip_so_no_responder():
    assert SANE.mcid is None and SANE.mcid_percent is None
    assert responder(SANE, 20, 95) == (None, False)
    assert responder(SANE, 95, 20) == (None, False)


def test_no_baseline_no_responder():
    assert responder(KOOS, None, 80.0) == (None, False)


@pytest.mark.parametrize("key", sorted(SHIPPED))
def test_each_instrument_renders_as_a_valid_fhir_r4_questionnaire(key):
    spec = SHIPPED[key]
    data = questionnaire(spec)
    Questionnaire.model_validate(data)
    questions = [item for item in data["item"] if item["type"] != "display"]
    assert [q["text"] for q in questions] == [item.text for item in spec.items]
    assert all(q["required"] for q in questions)
    assert data["copyright"].startswith(spec.licence)
    assert read_items(data) == spec.items  # reading it back gives the same items


def test_koos_jr_questionnaire_carries_each_options_score_and_the_instructions():
    data = questionnaire(KOOS)
    first = next(item for item in data["item"] if item["linkId"] == "koos_jr_1")
    assert [
        (o["valueCoding"]["display"], o["valueCoding"]["extension"][0]["valueDecimal"])
        for o in first["answerOption"]
    ] == [("None", 0), ("Mild", 1), ("Moderate", 2), ("Severe", 3), ("Extreme", 4)]
    intros = [item["text"] for item in data["item"] if item["type"] == "display"]
    assert len(intros) == 3 and intros[1].startswith("What amount of knee pain")


def test_the_pain_scale_renders_its_ends_and_anchors():
    item = questionnaire(PAIN)["item"][0]
    assert item["type"] == "integer"
    assert [e["valueInteger"] for e in item["extension"]] == [0, 10]
    assert [child["text"] for child in item["item"]] == ["No pain", "Worst possible pain"]


def choice(link_id: str, *weights, extension: str = "http://hl7.org/fhir/StructureDefinition/ordinalValue"):
    return {
        "linkId": link_id,
        "text": f"Question {link_id}",
        "type": "choice",
        "answerOption": [
            {
                "valueCoding": {
                    "code": f"a{w}",
                    "display": f"Answer {w}",
                    "extension": [{"url": extension, "valueDecimal": w}],
                }
            }
            for w in weights
        ],
    }


def test_an_imported_questionnaire_scores_its_weights_scaled_to_the_range_asked():
    data = {
        "resourceType": "Questionnaire",
        "status": "active",
        "item": [
            choice("a", 0, 1, 2, 3, 4),
            choice("b", 0, 1, 2, 3, 4, extension="http://hl7.org/fhir/StructureDefinition/itemWeight"),
        ],
    }
    common = dict(
        key="x", title="X", better="higher", mcid=None, mcid_source="", licence="L", licence_source="S"
    )
    plain = imported_spec(data, score_min=None, score_max=None, **common)
    assert (plain.score_min, plain.score_max, plain.score({"a": 3, "b": 4})) == (0, 8, 7)
    scaled = imported_spec(data, score_min=0, score_max=100, **common)
    assert scaled.score({"a": 2, "b": 2}) == 50
    assert scaled.score({"a": 4, "b": 4}) == 100
    assert scaled.score({"a": 4}) is None


@pytest.mark.parametrize(
    "item, message",
    [
        ({"linkId": "t", "text": "Anything else?", "type": "string"}, "type 'string' cannot be scored"),
        (
            {
                **choice("c", 0, 1),
                "enableWhen": [{"question": "a", "operator": "exists", "answerBoolean": True}],
            },
            "enableWhen",
        ),
        (
            {"linkId": "v", "text": "Pick", "type": "choice", "answerValueSet": "http://x/vs"},
            "answer options in the file",
        ),
        (choice("d", 1, 1), "same score"),
        ({"linkId": "n", "text": "How many?", "type": "integer"}, "minValue and maxValue"),
    ],
)
def test_a_questionnaire_this_import_cannot_score_is_refused_naming_the_part(item, message):
    data = {"resourceType": "Questionnaire", "status": "active", "item": [choice("a", 0, 1), item]}
    with pytest.raises(QuestionnaireProblem, match=message) as raised:
        read_items(data)
    assert raised.value.path == "Questionnaire.item[1]"


def test_an_option_without_a_score_is_named():
    item = choice("a", 0, 1)
    del item["answerOption"][1]["valueCoding"]["extension"]
    with pytest.raises(QuestionnaireProblem, match="no score") as raised:
        read_items({"resourceType": "Questionnaire", "status": "active", "item": [item]})
    assert raised.value.path == "Questionnaire.item[0].answerOption[1]"


@pytest.mark.parametrize(
    "title, named",
    [
        ("WOMAC 3.1 Index", "WOMAC"),
        ("Oswestry Disability Index", "ODI"),
        ("EQ-5D-5L", "EQ-5D"),
        ("PROMIS Global Health v1.2", "PROMIS"),
        ("QuickDASH", "QuickDASH"),
        ("Quick DASH outcome measure", "QuickDASH"),
        ("KOOS, JR.", None),
        ("Clinic stiffness check", None),
        ("Promise of care survey", None),
    ],
)
def test_the_instruments_not_shipped_are_recognised_by_title(title, named):
    assert not_shipped_name(title) == named


def test_an_answer_reads_back_as_the_patient_saw_it():
    assert KOOS.items[0].label_for(2) == "Moderate"
    assert PAIN.items[0].label_for(7) == "7"
    assert (PAIN.items[0].is_scale, KOOS.items[0].is_scale) == (True, False)
