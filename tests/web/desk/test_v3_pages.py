"""Rule set v3 on the pages: the desk enters findings, additional conditions, consent by whom,
assent and breastfeeding and sees them on the case page; the specialist's review page shows the
protocol the draft used (or why none applied), the findings with their units and what is missing."""

import json
import uuid
from datetime import date
from pathlib import Path

import pytest

from intake.models import Case, CaseStatus
from recommendations import review
from recommendations.protocols import import_protocols
from recommendations.services import make_draft
from tests.factories import make_case, make_patient, make_user

DEMO = Path(__file__).resolve().parents[3] / "recommendations" / "data" / "demo_protocols.json"
NO = ["Active malignancy", "Active infection", "Pregnant", "Anticoagulant therapy"]
NO += ["Bleeding disorder", "Immunosuppressed"]
NO_ANSWERS = {
    name: "no"
    for name in (
        "active_malignancy",
        "active_infection",
        "pregnant",
        "anticoagulant_therapy",
        "bleeding_disorder",
        "immunosuppressed",
    )
}


def intake_form(**changes) -> dict:
    return {
        "submission_key": str(uuid.uuid4()),
        "condition_code": "M17.11",
        "affected_sites": ["right_knee"],
        "consent_obtained": "yes",
        "consent_by": "patient",
        "consent_form_version": "2026-01",
        "priority": "2",
        **NO_ANSWERS,
        **changes,
    }


def a_child():
    return make_patient(given_name="Lia", family_name="Child", birth_date=date(2016, 3, 1))


@pytest.fixture
def desk(client):
    client.force_login(make_user("desk_v3", group="Front desk"))
    return client


def summary_of(page: str) -> str:
    return page.split('id="error-summary"')[1].split("</div>")[0]


def field_block(page: str, name: str) -> str:
    return page.split(f'id="field-{name}"')[1].split('<div class="field')[0]


@pytest.mark.django_db
def test_the_intake_form_labels_each_finding_with_its_unit_and_range(desk):
    page = desk.get(f"/desk/patients/{make_patient().pk}/intake/").content.decode()

    conservative = field_block(page, "finding_conservative_care_months")
    assert "Months of conservative care tried" in conservative
    assert '<span class="unit">months</span>' in conservative
    assert "A whole number from 0 to 600 months." in conservative
    assert "A number from 5 to 90%." in field_block(page, "finding_lvef_percent")
    assert "mL/min/1.73 m²" in field_block(page, "finding_egfr_ckd_epi_2021")
    assert "eGFR (CKD-EPI 2021)" in page  # a mixed-case term keeps its case
    assert "Findings (all optional)" in page
    assert page.count('data-code-search="') == 6  # the condition and up to five others, each searchable
    assert "Breastfeeding" in page and "Not asked" in page


@pytest.mark.django_db
def test_a_minors_intake_records_findings_other_conditions_and_a_guardians_consent(desk):
    child = a_child()
    form = intake_form(
        consent_by="guardian",
        assent="yes",
        breastfeeding="no",
        finding_kl_grade="2",
        finding_conservative_care_months="6",
        finding_lvef_percent="55.5",
        finding_imaging_date="2026-01-10",
        condition_1_code="m17.12",
        condition_1_description="left knee too",
    )

    response = desk.post(f"/desk/patients/{child.pk}/intake/", form)

    case = Case.objects.get()
    assert response["Location"] == f"/desk/cases/{case.pk}/"
    assert case.findings == {
        "kl_grade": 2,
        "conservative_care_months": 6,
        "lvef_percent": 55.5,
        "imaging_date": "2026-01-10",
    }
    assert case.additional_conditions == [{"icd10": "M17.12", "description": "left knee too"}]
    assert (case.consent_by, case.assent, case.breastfeeding) == ("guardian", True, False)

    page = desk.get(f"/desk/cases/{case.pk}/").content.decode()
    assert "Kellgren–Lawrence grade: <strong>2</strong>" in page
    assert "Months of conservative care tried: <strong>6 months</strong>" in page
    assert "Left ventricular ejection fraction: <strong>55.5%</strong>" in page
    assert "<strong>M17.12</strong> Unilateral primary osteoarthritis, left knee" in page
    assert "Obtained, given by a parent or guardian (form 2026-01)" in page
    assert "The minor agreed" in page


@pytest.mark.django_db
def test_an_adult_case_page_says_breastfeeding_was_not_asked(desk):
    case = make_case()
    page = desk.get(f"/desk/cases/{case.pk}/").content.decode()
    assert "<dt>Breastfeeding</dt><dd>Not asked</dd>" in page
    assert "Obtained, given by the patient" in page
    assert "Assent" not in page  # an adult's case has no assent to record


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (dict(finding_kl_grade="7"), "finding_kl_grade", "7 is outside the range; give a value from 0 to 4."),
        (dict(finding_kl_grade="two"), "finding_kl_grade", "Enter a number, for example 2 or 2.5."),
        (
            dict(finding_conservative_care_months="700"),
            "finding_conservative_care_months",
            "give a value from 0 to 600 months.",
        ),
        (dict(finding_kl_grade="2.5"), "finding_kl_grade", "Give a whole number, from 0 to 4."),
        (dict(finding_imaging_date="2999-01-01"), "finding_imaging_date", "is in the future"),
        (
            dict(finding_anticoagulant="apixaban"),
            "finding_anticoagulant",
            "An anticoagulant is named but the answer on anticoagulant therapy is no",
        ),
        (dict(condition_1_code="M17.11"), "condition_1_code", "M17.11 is already given"),
        (dict(condition_2_code="M17.19"), "condition_2_code", "is not a code in ICD-10-CM"),
        (dict(condition_1_description="knee"), "condition_1_code", "ICD-10 code, or clear its description"),
        (dict(consent_by=""), "consent_by", "Say who gave consent"),
    ],
)
def test_a_bad_v3_value_is_shown_at_its_field_and_in_the_summary(desk, changes, field, message):
    patient = make_patient()
    response = desk.post(f"/desk/patients/{patient.pk}/intake/", intake_form(finding_pain_nrs="6", **changes))

    page = response.content.decode()
    assert response.status_code == 200
    assert message in field_block(page, field)
    assert message in summary_of(page) and f'href="#field-{field}"' in summary_of(page)
    assert 'value="6"' in page  # what was typed is kept
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_an_error_on_the_second_filled_condition_lands_on_its_own_row(desk):
    form = intake_form(condition_1_code="", condition_2_code="M17.12", condition_4_code="M17.12")
    page = desk.post(f"/desk/patients/{make_patient().pk}/intake/", form).content.decode()
    assert "M17.12 is already given" in field_block(page, "condition_4_code")
    assert "already given" not in field_block(page, "condition_2_code")


@pytest.mark.django_db
def test_consent_not_obtained_ignores_who_was_picked(desk):
    form = intake_form(consent_obtained="no", consent_form_version="")
    desk.post(f"/desk/patients/{make_patient().pk}/intake/", form)
    assert Case.objects.get().consent_by == ""


@pytest.mark.django_db
def test_the_answer_adds_findings_a_condition_and_a_guardians_consent(desk):
    case = make_case(patient=a_child(), consent_obtained=False, findings={})
    make_draft(case_id=case.pk)
    review.request_information(
        case_id=case.pk, user=make_user(group="Specialists"), question="Guardian consent and KL grade?"
    )
    page = desk.get(f"/desk/cases/{case.pk}/").content.decode()
    assert "Consent (none is recorded for this case)" in page and "assent" in page

    bad = desk.post(f"/desk/cases/{case.pk}/answer/", {"answer": "Here", "finding_kl_grade": "9"})
    assert bad.status_code == 400
    assert "9 is outside the range" in field_block(bad.content.decode(), "finding_kl_grade")
    assert "9 is outside the range" in summary_of(bad.content.decode())

    desk.post(
        f"/desk/cases/{case.pk}/answer/",
        {
            "answer": "Mother signed; KL 2",
            "condition_code": "M17.11",
            "affected_sites": ["right_knee"],
            "finding_kl_grade": "2",
            "condition_1_code": "M17.12",
            "consent_obtained": "on",
            "consent_by": "guardian",
            "consent_form_version": "2026-02",
            "assent": "yes",
            "breastfeeding": "unknown",
        },
    )

    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFTING
    assert case.findings == {"kl_grade": 2}
    assert case.additional_conditions == [{"icd10": "M17.12", "description": ""}]
    assert (case.consent_obtained, case.consent_by, case.assent) == (True, "guardian", True)
    assert case.breastfeeding is None  # "Not asked" changes nothing


@pytest.mark.django_db
def test_the_answer_needs_to_say_who_consented(desk):
    case = make_case(consent_obtained=False)
    make_draft(case_id=case.pk)
    review.request_information(case_id=case.pk, user=make_user(group="Specialists"), question="Consent?")
    bad = desk.post(
        f"/desk/cases/{case.pk}/answer/",
        {"answer": "Signed", "consent_obtained": "on", "consent_form_version": "2026-02"},
    )
    assert bad.status_code == 400 and "Say who gave consent" in field_block(
        bad.content.decode(), "consent_by"
    )


# --- the specialist's review page ---------------------------------------------------------------


@pytest.fixture
def v3(settings):
    settings.RULESET_LIVE = "v3"
    report = import_protocols(data=json.loads(DEMO.read_text()))
    assert report is not None


@pytest.fixture
def specialist(client):
    client.force_login(make_user("dr_v3", group="Specialists", is_staff=True))
    return client


def review_page(client, case) -> str:
    return client.get(f"/admin/recommendations/reviewcase/{case.pk}/change/").content.decode()


@pytest.mark.django_db
def test_the_review_page_shows_the_protocol_and_what_is_missing_in_words(v3, specialist):
    case = make_case(
        consent_by="patient",
        findings={"pain_nrs": 6, "egfr_ckd_epi_2021": 88},
        additional_conditions=[{"icd10": "M17.12", "description": "other knee"}],
    )
    make_draft(case_id=case.pk)

    page = review_page(specialist, case)

    protocol = page.split('id="draft-protocol"')[1].split("</div>")[0]
    assert "knee-oa-bmac version 1" in protocol and "EXAMPLE" in protocol
    assert "Basis: Same surgical procedure, 21 CFR 1271.15(b)" in protocol
    needs = page.split('id="draft-needs"')[1].split("</div>")[0]
    assert (
        "Findings the protocol requires: Kellgren–Lawrence grade, months of conservative care tried." in needs
    )
    assert "kl_grade" not in needs  # labels, not keys
    findings = page.split('id="findings"')[1].split("</dd>")[0]
    assert "Pain, numeric rating scale: <strong>6 points</strong>" in findings
    assert "88 mL/min/1.73 m²" in findings
    assert "<strong>M17.12</strong> Unilateral primary osteoarthritis, left knee" in page
    assert "Obtained, given by the patient" in page
    assert "<dt>Breastfeeding</dt><dd>not asked</dd>" in page


@pytest.mark.django_db
def test_the_review_page_says_why_no_protocol_applied(v3, specialist):
    case = make_case(condition_code="G12.21", affected_sites=[])
    make_draft(case_id=case.pk)

    protocol = review_page(specialist, case).split('id="draft-protocol"')[1].split("</div>")[0]

    assert "No protocol applied:" in protocol
    assert "G12.21" in protocol and "investigational" in protocol


@pytest.mark.django_db
def test_the_review_page_asks_for_a_guardians_consent_in_words(v3, specialist):
    case = make_case(
        patient=a_child(), findings={"kl_grade": 2, "conservative_care_months": 6}, consent_by="patient"
    )
    make_draft(case_id=case.pk)

    page = review_page(specialist, case)

    needs = page.split('id="draft-needs"')[1].split("</div>")[0]
    assert "Consent given by a parent or guardian or a legal representative: the patient is a minor." in needs
    assert '<dt>Assent</dt><dd id="assent">not recorded</dd>' in page


@pytest.mark.django_db
def test_a_v2_draft_shows_no_protocol_block(specialist, settings):
    settings.RULESET_LIVE = "v2"  # a draft made with rule set v2, which knows no protocols
    case = make_case()
    make_draft(case_id=case.pk)
    assert 'id="draft-protocol"' not in review_page(specialist, case)


# --- in a browser, with screenshots at desk and phone widths ----------------------------------
