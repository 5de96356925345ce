"""Rule set v3, rule 5: the corrected stop lists, at the edges of each range, and what is not a stop."""

import pytest

from intake.vocabulary import icd10cm
from recommendations.engine.v3 import InvalidIntake
from tests.recommendations.engine.v3_support import given, ids, protocol, run

STOPS = [
    # (code, rule, why)
    ("C00.0", "HS-MALIGNANCY", "first malignant code"),
    ("C4A.0", "HS-MALIGNANCY", "Merkel cell carcinoma: C4A lies in C00-C96 by tabular order"),
    ("C7A.00", "HS-MALIGNANCY", "malignant carcinoid: C7A lies in C00-C96"),
    ("C7B.00", "HS-MALIGNANCY", "secondary carcinoid: C7B lies in C00-C96"),
    ("C96.9", "HS-MALIGNANCY", "last malignant category"),
    ("C43.9", "HS-MALIGNANCY", "melanoma stays a stop"),
    ("D00.00", "HS-MALIGNANCY", "first carcinoma in situ"),
    ("D03.9", "HS-MALIGNANCY", "melanoma in situ stays a stop"),
    ("D03.51", "HS-MALIGNANCY", "melanoma in situ of anal skin: a melanoma, not a skin-cancer flag"),
    ("D09.9", "HS-MALIGNANCY", "last carcinoma in situ"),
    ("D37.01", "HS-NEOPLASM-UNCERTAIN", "first neoplasm of uncertain behaviour"),
    ("D46.9", "HS-NEOPLASM-UNCERTAIN", "myelodysplastic syndrome"),
    ("D48.9", "HS-NEOPLASM-UNCERTAIN", "last neoplasm of uncertain behaviour"),
    ("B18.2", "HS-CHRONIC-VIRAL", "chronic hepatitis C"),
    ("B19.10", "HS-CHRONIC-VIRAL", "unspecified viral hepatitis B"),
    ("B20", "HS-CHRONIC-VIRAL", "HIV disease"),
    ("Z21", "HS-CHRONIC-VIRAL", "asymptomatic HIV infection status"),
    ("A00.0", "HS-INFECTION", "first infectious code"),
    ("B02.21", "HS-INFECTION", "postherpetic geniculate ganglionitis: active zoster, stays a stop"),
    ("B02.24", "HS-INFECTION", "postherpetic myelitis: active zoster, stays a stop"),
    ("B99.9", "HS-INFECTION", "last infectious code"),
    ("M46.20", "HS-INFECTION", "osteomyelitis of vertebra"),
    ("M46.59", "HS-INFECTION", "other infective spondylopathies, end of M46.2-M46.5"),
    ("M65.10", "HS-INFECTION", "infective tenosynovitis"),
    ("M72.6", "HS-INFECTION", "necrotizing fasciitis"),
    ("T81.40XA", "HS-INFECTION", "infection following a procedure"),
    ("T85.79XA", "HS-INFECTION", "infection due to other internal prosthetic devices"),
    ("R65.20", "HS-INFECTION", "severe sepsis: infection before acute illness"),
    ("U07.1", "HS-INFECTION", "COVID-19"),
    ("J06.9", "HS-INFECTION", "end of J00-J06"),
    ("J09.X2", "HS-INFECTION", "influenza, start of J09-J18"),
    ("J22", "HS-INFECTION", "end of J20-J22"),
    ("N39.0", "HS-INFECTION", "urinary tract infection"),
    ("G07", "HS-INFECTION", "end of G00-G07"),
    ("I20.0", "HS-ACUTE", "unstable angina"),
    ("I21.9", "HS-ACUTE", "acute myocardial infarction"),
    ("I24.9", "HS-ACUTE", "acute ischemic heart disease, end of I21-I24"),
    ("I50.21", "HS-ACUTE", "acute systolic heart failure"),
    ("I60.9", "HS-ACUTE", "subarachnoid haemorrhage, start of I60-I63"),
    ("I63.9", "HS-ACUTE", "acute stroke: defer until stable"),
    ("G45.9", "HS-ACUTE", "transient ischaemic attack"),
    ("I82.401", "HS-ACUTE", "acute deep vein thrombosis"),
    ("J45.901", "HS-ACUTE", "asthma with exacerbation"),
    ("N17.9", "HS-ACUTE", "acute kidney failure"),
    ("D65", "HS-ACUTE", "disseminated intravascular coagulation"),
    ("O00.90", "HS-PREGNANCY", "first pregnancy code"),
    ("O9A.111", "HS-PREGNANCY", "last pregnancy category"),
    ("Z32.01", "HS-PREGNANCY", "positive pregnancy test"),
    ("Z33.2", "HS-PREGNANCY", "elective termination"),
    ("Z33.3", "HS-PREGNANCY", "gestational carrier"),
    ("Z36.0", "HS-PREGNANCY", "antenatal screening"),
    ("Z3A.20", "HS-PREGNANCY", "20 weeks' gestation"),
    ("Z39.1", "HS-LACTATION", "care of a lactating mother"),
]
NOT_STOPS = [
    ("B02.29", "other postherpetic nervous system involvement: a sequela, not active"),
    ("B02.23", "postherpetic polyneuropathy"),
    ("B90.9", "sequelae of tuberculosis, start of B90-B94"),
    ("B91", "sequelae of poliomyelitis"),
    ("B94.9", "end of B90-B94"),
    ("U09.9", "post COVID-19 condition"),
    ("Z86.19", "history of infection"),
    ("I24.1", "Dressler's syndrome, excepted from I21-I24"),
    ("G45.3", "amaurosis fugax, excepted from G45"),
    ("G45.4", "transient global amnesia, excepted from G45"),
    ("I82.501", "chronic deep vein thrombosis"),
    ("J44.9", "COPD without exacerbation"),
    ("D10.0", "benign neoplasm, just after D09"),
    ("D36.9", "benign neoplasm, just before D37"),
    ("D50.0", "anaemia, after D49"),
    ("Z39.2", "routine postpartum follow-up"),
    ("M1A.00X0", "chronic gout"),
]


@pytest.mark.parametrize(("code", "rule", "why"), STOPS)
def test_a_stop_code_stops_whether_main_or_additional(code, rule, why):
    assert icd10cm.get(code) is not None, f"{code} must be a real code ({why})"

    as_main = run(condition_code=code, affected_sites=())
    as_additional = run(additional_conditions=(code,))

    for result in (as_main, as_additional):
        assert result.route == "not_recommended", why
        assert ids(result)[0] == rule, why
        assert code in result.rules[0].detail


@pytest.mark.parametrize(("code", "why"), NOT_STOPS)
def test_a_code_that_is_not_active_disease_does_not_stop(code, why):
    assert icd10cm.get(code) is not None, code

    result = run(additional_conditions=(code,))

    assert result.route == "local_injection", why
    assert not [rule for rule in ids(result) if rule.startswith("HS-")]


def test_the_class_is_named_in_its_own_words_and_contradicts_a_no():
    mds = run(condition_code="D46.9", affected_sites=())
    uncertain = run(condition_code="D47.1", affected_sites=())

    assert "is a myelodysplastic syndrome although the answer was no" in mds.rules[0].detail
    assert "neoplasm of uncertain behaviour" in uncertain.rules[0].detail
    assert "malignant" not in mds.rules[0].detail + uncertain.rules[0].detail


def test_a_neoplasm_of_uncertain_behaviour_is_never_called_malignant_in_its_rule():
    for code in ("D37.01", "D46.9", "D47.1", "D48.9"):
        result = run(condition_code=code, affected_sites=())

        assert ids(result) == ["HS-NEOPLASM-UNCERTAIN"], code
        assert "malignan" not in (result.rules[0].text + result.rules[0].detail).lower(), code
    assert "myelodysplastic syndrome" in run(condition_code="D46.9", affected_sites=()).rules[0].text


def test_a_neoplasm_of_uncertain_behaviour_keeps_the_malignancy_class_place_in_rule_5_order():
    result = run(additional_conditions=("Z3A.20", "I63.9", "A41.9", "D47.1"))
    both = run(additional_conditions=("D47.1", "C50.911"))

    assert [r for r in ids(result) if r.startswith("HS-")] == ["HS-NEOPLASM-UNCERTAIN"]
    assert ids(both)[0] == "HS-MALIGNANCY"  # a malignant code names the stop as malignancy
    assert "D47.1" in both.rules[0].detail and "C50.911" in both.rules[0].detail


def test_melanoma_in_situ_is_named_as_a_melanoma_not_a_carcinoma():
    result = run(condition_code="D03.9", affected_sites=())

    assert "is a melanoma in situ although the answer was no" in result.rules[0].detail
    assert "carcinoma" not in result.rules[0].detail
    assert "is a carcinoma in situ" in run(condition_code="D05.10", affected_sites=()).rules[0].detail


def test_a_history_of_cancer_contradicts_no_answer():
    findings = {"kl_grade": 2, "conservative_care_months": 6, "cancer_treatment_ended": "2024-01-10"}

    result = run(additional_conditions=("Z85.3",), findings=findings)

    assert ids(result)[0] == "HS-CANCER-HISTORY"
    assert "although" not in result.rules[0].detail
    assert "a cancer whose treatment ended 2024-01-10" in result.rules[0].detail


@pytest.mark.parametrize(
    ("breastfeeding", "contradicts"),
    [(False, True), (None, False), (True, False)],  # None: not asked, so nothing is contradicted
)
def test_lactation_by_code_contradicts_only_a_breastfeeding_no(breastfeeding, contradicts):
    result = run(additional_conditions=("Z39.1",), breastfeeding=breastfeeding, pregnant=False)

    assert result.route == "not_recommended"
    assert ids(result)[0] == "HS-LACTATION"
    assert ("although the answer was no" in result.rules[0].detail) is contradicts


def test_the_first_class_in_rule_5_order_wins():
    result = run(additional_conditions=("Z3A.20", "I63.9", "A41.9", "C50.911"))

    assert ids(result)[0] == "HS-MALIGNANCY"
    assert [r for r in ids(result) if r.startswith("HS-")] == ["HS-MALIGNANCY"]


def test_an_answer_stops_without_a_code():
    assert ids(run(active_infection=True))[0] == "HS-INFECTION"
    assert ids(run(pregnant=True))[0] == "HS-PREGNANCY"
    assert ids(run(breastfeeding=True))[0] == "HS-LACTATION"
    assert ids(run(active_malignancy=True))[0] == "HS-MALIGNANCY"


def test_the_acute_list_says_it_is_unconfirmed_until_the_medical_director_confirms_it():
    result = run(condition_code="I63.9", affected_sites=())

    assert "unconfirmed list" in result.rules[0].detail
    assert result.condition["acute_illness_list"] == "unconfirmed list"


# --- skin cancer, histology, history -------------------------------------------------------------


def test_basal_cell_carcinoma_away_from_the_site_only_flags_skin_cancer():
    result = run(additional_conditions=("C44.319",))  # face; the site is the right knee

    assert result.route == "local_injection"
    assert "skin_cancer" in result.flags


@pytest.mark.parametrize(
    ("code", "sites"),
    [
        ("C44.712", ("right_knee",)),  # skin of right lower limb, including hip: the knee is in it
        ("C44.319", ("right_knee", "face")),  # a listed site is the face
        ("D04.5", ("right_knee", "skin")),  # carcinoma in situ of skin of trunk, and skin is listed
    ],
)
def test_skin_cancer_at_a_listed_site_stops_as_malignancy(code, sites):
    result = run(additional_conditions=(code,), affected_sites=sites)

    assert result.route == "not_recommended"
    assert ids(result)[0] == "HS-MALIGNANCY"
    assert "skin_cancer" in result.flags


def test_skin_cancer_of_anal_skin_stops_an_injection_at_the_perianal_site():
    fistula = protocol(id="fistula", indications=["K60.3"], sites=["perianal"], requires=[], limits={})

    result = run(
        fistula,
        condition_code="K60.3",
        affected_sites=("perianal",),
        additional_conditions=("C44.520",),
        findings={},
    )
    away = run(
        fistula, condition_code="K60.3", affected_sites=("perianal",), additional_conditions=("C44.41",)
    )

    assert result.route == "not_recommended"
    assert ids(result)[0] == "HS-MALIGNANCY"
    assert "perianal" in result.rules[0].detail and "skin_cancer" in result.flags
    assert away.route == "local_injection" and "skin_cancer" in away.flags  # scalp and neck: not the anus


@pytest.mark.parametrize(
    ("code", "site"),
    [
        ("D04.5", "trunk"),  # carcinoma in situ of skin of trunk
        ("C44.529", "trunk"),  # squamous cell carcinoma of skin of other part of trunk
        ("C44.41", "cervical_spine"),  # basal cell carcinoma of skin of scalp and neck
        ("D04.4", "cervical_spine"),  # carcinoma in situ of skin of scalp and neck
    ],
)
def test_skin_cancer_of_the_trunk_or_neck_stops_an_injection_there(code, site):
    everywhere = protocol(id="spine", indications=["M47.8"], sites=[site], requires=[], limits={})

    result = run(everywhere, condition_code="M47.899", affected_sites=(site,), additional_conditions=(code,))

    assert result.route == "not_recommended"
    assert ids(result)[0] == "HS-MALIGNANCY"
    assert site in result.rules[0].detail


def test_history_of_skin_cancer_only_flags():
    result = run(additional_conditions=("Z85.828",))

    assert result.route == "local_injection"
    assert "skin_cancer" in result.flags


def test_unspecified_behaviour_asks_for_the_histology():
    result = run(additional_conditions=("D49.2",))

    assert result.route == "needs_information"
    assert ids(result) == ["COND-HISTOLOGY"]
    assert result.needs["histology"] is True


def test_history_of_cancer_asks_when_treatment_ended():
    result = run(condition_code="Z85.3", affected_sites=())

    assert result.route == "needs_information"
    assert result.needs["cancer_treatment_ended"] is True
    assert ids(result) == ["COND-TREATMENT-END"]


@pytest.mark.parametrize(
    ("ended", "stops"),
    [
        ("2021-11-26", True),  # one day after the same calendar date five years before intake
        ("2021-11-25", False),  # exactly five years: not after it
        ("2019-03-01", False),
    ],
)
def test_five_years_after_cancer_treatment_the_history_is_no_stop(ended, stops):
    findings = {"kl_grade": 2, "conservative_care_months": 6, "cancer_treatment_ended": ended}

    result = run(additional_conditions=("Z85.3",), findings=findings)

    assert (result.route == "not_recommended") is stops
    assert (ids(result)[0] == "HS-CANCER-HISTORY") is stops


def test_a_code_that_is_not_real_is_a_field_error_naming_the_field():
    with pytest.raises(InvalidIntake) as error:
        run(additional_conditions=("M17.11", "Z99.99"))

    assert set(error.value.errors) == {"#/additional_conditions/0/icd10", "#/additional_conditions/1/icd10"}
    with pytest.raises(InvalidIntake):
        run(**{"additional_conditions": tuple(f"M17.{n}" for n in (0, 10, 12, 2, 4, 5))})
    assert given().additional_conditions == ()
