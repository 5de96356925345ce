"""The MedWatch data sheet and the JSON export (DESIGN.md, "Adverse events"): laid out as Form 3500A
when a mandatory row applies and as 3500 otherwise, filled from the record, blank where the clinic
must add, the patient named by the case reference only; the export is the whole record."""

import itertools
import json

import pytest
from django.utils import timezone

from clinic.aftercare import clocks
from clinic.aftercare.adverse_events import assess_adverse_event, report_adverse_event, update_from_partner
from clinic.aftercare.errors import AftercareError
from clinic.aftercare.medwatch import export_json, sheet
from clinic.aftercare.models import TreatmentCourse
from intake.workflow import Actor
from recommendations.models import Protocol
from tests.aftercare.factories import make_course, make_performer, make_signed_treatment
from tests.factories import make_partner

pytestmark = pytest.mark.django_db
_seq = itertools.count(1)
HOSPITALIZED = dict(serious=True, seriousness_criteria=["hospitalization"], ctcae_grade=3)


def under(course: TreatmentCourse, basis: str, **fields) -> TreatmentCourse:
    """The course as if its decision named a protocol of `basis` (a test-only protocol version)."""
    protocol = Protocol.objects.create(
        protocol_id=f"sheet-{next(_seq)}",
        version=1,
        title=f"TEST ONLY: {basis}",
        route=course.route,
        active=False,
        indications=["M17"],
        basis=basis,
        reference="TEST ONLY: IND 654321" if basis == "ind" else "TEST ONLY",
        **fields,
    )
    snapshot = {"id": protocol.protocol_id, "version": 1, "basis": basis, "reference": protocol.reference}
    TreatmentCourse.objects.filter(pk=course.pk).update(protocol=snapshot)
    return TreatmentCourse.objects.get(pk=course.pk)


def report(course, **values):
    body = dict(
        onset=timezone.localdate(),
        description="Fever of 39.2 C and a hot, swollen right knee the day after the injection.",
        ctcae_grade=2,
        serious=False,
        seriousness_criteria=[],
        outcome="recovering",
        action_taken="Admitted; joint aspirated; IV antibiotics.",
    )
    return report_adverse_event(
        course_id=course.pk, source="staff", actor=Actor(label="desk nurse"), values=body | values
    )


def items(data) -> dict[str, str | None]:
    """number -> value over the sheet (the first item of a number)."""
    found: dict[str, str | None] = {}
    for section in data.sections:
        for item in section.items:
            found.setdefault(item.number, item.value)
    return found


def test_a_361_reaction_with_communicable_disease_prints_as_a_3500a_filled_from_the_record():
    course = under(make_course(), "minimal_manipulation_homologous")
    record = make_signed_treatment(course)
    ae = report(course, **HOSPITALIZED, communicable_disease=True, relatedness_product="possible")
    patient = course.case.patient

    data = sheet(ae)

    assert (data.form, data.mandatory) == ("3500A", True)
    assert [section.letter for section in data.sections] == ["A", "B", "C", "E", "G"]
    got = items(data)
    assert got["A1"] == course.case.reference
    age = timezone.localdate().year - patient.birth_date.year
    assert got["A2"] in (f"{age} years", f"{age - 1} years")
    assert got["A3"] == "Female"
    assert got["B2"] == "Hospitalization - initial or prolonged"
    onset = ae.onset
    assert got["B3"] == f"{onset.day:02d}-{onset:%b}-{onset.year}"
    assert "CTCAE v5.0 grade 3" in got["B5"] and "Action taken: Admitted" in got["B5"]
    assert "product possible" in got["B5"]
    assert got["C1"].startswith("Bone marrow aspirate concentrate, autologous")
    assert (got["C6"], got["C9"]) == (record.lot, record.distinct_code)
    assert "1,200,000,000 total nucleated cells" in got["C2"] and "Local injection (right knee)" in got["C2"]
    assert got["C4"].startswith("M17.11")
    assert got["G4"] is not None and "15-day" in got["G7"]
    # Blank where the record holds nothing: the clinic fills these in on the form.
    assert {"A4", "B4", "B6", "B7", "C5", "C7", "C8", "C10", "E1", "G1", "G8", "G9"} <= set(data.blanks)
    assert data.clocks[0]["citation"] == "21 CFR 1271.350(a)"
    # Never the patient's name, anywhere on the sheet.
    text = json.dumps([[item.value for item in section.items] for section in data.sections])
    assert patient.given_name not in text and patient.family_name not in text


def test_a_same_surgical_procedure_event_prints_as_the_voluntary_3500():
    course = make_course()  # the knee protocol: same surgical procedure
    make_signed_treatment(course)
    ae = report(course, **HOSPITALIZED)

    data = sheet(ae)

    assert (data.form, data.mandatory) == ("3500", False)
    assert [section.letter for section in data.sections] == ["A", "B", "C", "D", "F", "G"]
    assert [item.number for item in data.sections[3].items] == [f"D{n}" for n in range(1, 10)]
    got = items(data)
    assert got["D6"] and got["D9"] and got["C1"] is None
    assert data.clocks[0]["due_at"] is None and "1271.15(b)" in data.clocks[0]["citation"]


def test_a_partners_report_names_its_reporter_and_its_follow_up_in_the_narrative():
    partner, _ = make_partner()
    course = under(
        make_course(partner=partner), "ind", clinic_role="sponsor_investigator", irb_report_days=10
    )
    ae = report_adverse_event(
        course_id=course.pk,
        source="partner",
        actor=Actor(label=f"partner: {partner.name}"),
        partner=partner,
        values=dict(
            external_id="AE-77",
            onset=timezone.localdate().isoformat(),
            description="Rigors and hypotension during the infusion.",
            ctcae_grade=3,
            serious=True,
            seriousness_criteria=["life_threatening"],
            outcome="recovering",
            reporter={"name": "Dr. Lee Park", "qualification": "physician"},
        ),
    )
    update_from_partner(
        adverse_event_id=ae.pk, partner=partner, external_id="AE-77-1", values={"note": "Discharged."}
    )
    ae.refresh_from_db()
    ae = assess_adverse_event(
        adverse_event_id=ae.pk,
        user=make_performer(),
        version=ae.version,
        values={"expected": False, "relatedness_product": "probable"},
    )

    data = sheet(ae)

    got = items(data)
    assert data.form == "3500A"  # 312.32(c): 3500A or narrative
    assert (got["E1"], got["E2"], got["E3"]) == ("Dr. Lee Park", "Yes", "Physician")
    assert "Discharged." in got["B5"] and "product probable" in got["B5"]
    assert (got["G3"], got["G5"], got["G6"]) == ("Study", "IND 654321", f"{course.protocol['id']} v1")
    assert "7-day" in got["G7"] and "15-day" in got["G7"]
    assert got["C1"] is None  # no signed treatment record yet: the clinic adds the product


def test_a_device_event_adds_the_device_section_blank_for_the_clinic(settings):
    settings.DEVICE_USER_FACILITY = True
    ae = report(
        make_course(),
        serious=True,
        seriousness_criteria=["life_threatening"],
        ctcae_grade=4,
        device_involved=True,
        relatedness_device="probable",
    )

    data = sheet(ae)

    assert data.form == "3500A"
    letters = [section.letter for section in data.sections]
    assert letters == ["A", "B", "C", "D", "E", "F", "G"]
    device = data.sections[3]
    assert all(item.value is None for item in device.items) and device.items[0].number == "D1"
    assert items(data)["F6"] is not None  # when the facility became aware


def test_a_sandbox_report_has_no_data_sheet():
    partner, _ = make_partner(sandbox=True)
    course = make_course(partner=partner, sandbox=True)
    ae = report(course, **HOSPITALIZED)

    with pytest.raises(AftercareError) as excinfo:
        sheet(ae)

    assert "sandbox" in str(excinfo.value) and "no data sheet" in str(excinfo.value)


def test_the_json_export_is_the_whole_record_in_chain_order():
    course = under(make_course(), "minimal_manipulation_homologous")
    record = make_signed_treatment(course)
    ae = report(course, **HOSPITALIZED)
    ae = assess_adverse_event(
        adverse_event_id=ae.pk,
        user=make_performer(),
        version=ae.version,
        values={"communicable_disease": True},
    )

    data = export_json(ae)

    json.dumps(data)  # JSON-ready as it is
    assert data["adverse_event"]["id"] == str(ae.pk) and data["adverse_event"]["serious"] is True
    assert data["case_reference"] == course.case.reference and data["medwatch_form"] == "3500A"
    assert [change["kind"] for change in data["changes"]] == ["reported", "assessment"]
    seqs = [change["chain_seq"] for change in data["changes"]]
    assert seqs == sorted(seqs) and all(change["row_hash"] for change in data["changes"])
    assert data["changes"][1]["changes"]["clocks_opened"] == ["hctp_adverse_reaction_15_day"]
    (clock,) = data["clocks"]
    assert (clock["rule"], clock["state"], clock["note"]) == (
        "hctp_adverse_reaction_15_day",
        "open",
        clocks.RULES["hctp_adverse_reaction_15_day"].note,
    )
    (treated,) = data["treatment_records"]
    assert (treated["lot"], treated["distinct_code"], treated["dose_tnc"]) == (
        record.lot,
        record.distinct_code,
        record.dose_tnc,
    )
    assert data["protocol"]["clinic_role"] == "manufacturer_361"
    patient = course.case.patient
    dumped = json.dumps(data)
    assert patient.given_name not in dumped and str(patient.birth_date) not in dumped
