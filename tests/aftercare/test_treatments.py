"""The treatment record (DESIGN.md, "Treatment record"): every field validated with a message a
person can act on; the performer signs it with their own signing profile (a record entered by
someone else is a draft until then); signed, it is in the audit chain and never changes;
corrections are addenda; a staged plan is one course with a record per session."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.aftercare import treatments
from clinic.aftercare.courses import cancel_course
from clinic.aftercare.errors import AftercareError, WrongState
from clinic.aftercare.models import CourseEvent, TreatmentAddendum, TreatmentEntry, TreatmentRecord
from clinic.aftercare.treatments import (
    add_treatment_addendum,
    clean_treatment,
    save_treatment_entry,
    sign_treatment,
)
from intake.audit import verify_chains
from intake.models import ImmutableRecordError
from intake.workflow import Actor
from tests.aftercare.factories import make_course, make_performer, make_signed_treatment, treatment_values
from tests.factories import make_patient, make_user


def errors_for(course, who, /, **overrides) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as refused:
        clean_treatment(course=course, values=treatment_values(course, who, **overrides))
    return refused.value.message_dict


@pytest.mark.django_db
def test_the_performer_signs_the_first_session_and_the_course_is_treated():
    course = make_course()
    performer = make_performer("dr_okafor")
    values = treatment_values(course, performer)

    record = sign_treatment(user=performer, course_id=course.pk, values=values)

    course.refresh_from_db()
    assert course.state == "treated" and course.treated_at == values["administered_at"]
    assert record.signature == "Dr. Dr_Okafor, MD"
    assert (record.protocol_id, record.protocol_version, record.basis) == (
        "knee-oa-bmac",
        1,
        "same_surgical_procedure",
    )
    event = CourseEvent.objects.filter(course=course).order_by("chain_seq").last()
    assert (event.from_state, event.to_state, event.note) == (
        "scheduled",
        "treated",
        "Session 1 signed by Dr. Dr_Okafor, MD",
    )
    # Floats and the big cell count read back as written, so the chained row still verifies.
    stored = TreatmentRecord.objects.get(pk=record.pk)
    assert (stored.dose_tnc, stored.viability_percent, stored.volume_ml) == (1_200_000_000, 92.5, 6.0)
    assert stored.row_hash == stored.compute_hash()
    assert list(verify_chains()) == []


@pytest.mark.django_db
def test_an_entry_made_at_the_desk_is_a_draft_until_its_performer_signs_it():
    course = make_course()
    performer = make_performer()
    desk = make_user(group="Front desk")
    entry = save_treatment_entry(course_id=course.pk, user=desk, values=treatment_values(course, performer))
    entry = save_treatment_entry(
        course_id=course.pk,
        user=desk,
        values=treatment_values(course, performer, lot="LOT-9"),
        entry_id=entry.pk,
    )
    assert TreatmentCourse_state(course) == "scheduled" and entry.lot == "LOT-9"

    with pytest.raises(AftercareError) as refused:
        sign_treatment(user=make_performer(), entry_id=entry.pk)
    assert str(refused.value).startswith(f"Only the performer, Dr. {performer.username.title()}, can sign")

    record = sign_treatment(user=performer, entry_id=entry.pk)

    assert TreatmentEntry.objects.get(pk=entry.pk).signed_record == record
    assert (record.lot, record.entered_by) == ("LOT-9", desk)
    assert TreatmentCourse_state(course) == "treated"
    with pytest.raises(WrongState, match="already signed"):
        sign_treatment(user=performer, entry_id=entry.pk)
    with pytest.raises(WrongState, match="already signed"):
        save_treatment_entry(
            course_id=course.pk, user=desk, values=treatment_values(course, performer), entry_id=entry.pk
        )
    notes = list(
        CourseEvent.objects.filter(course=course).order_by("chain_seq").values_list("note", flat=True)
    )
    assert notes[1:3] == [
        "Treatment record of session 1 entered; awaiting the performer's signature",
        "Treatment record of session 1 changed; awaiting the performer's signature",
    ]


def TreatmentCourse_state(course) -> str:  # noqa: N802
    return type(course).objects.get(pk=course.pk).state


@pytest.mark.django_db
def test_a_staged_plan_adds_a_record_per_session_without_moving_the_course_again():
    course = make_course()
    performer = make_performer()
    first = make_signed_treatment(course, performer)

    assert "session" in errors_for(course, performer, session=3)  # session 2 comes first
    assert errors_for(course, performer, session=1)["session"] == [
        "Session 1 is already signed: record the next one, or add an addendum to it."
    ]
    second = make_signed_treatment(course, performer, session=2)

    course.refresh_from_db()
    assert course.state == "treated" and course.treated_at == first.administered_at  # counts from session 1
    assert list(course.records.values_list("session", flat=True)) == [1, 2]
    last = CourseEvent.objects.filter(course=course).order_by("chain_seq").last()
    assert (last.kind, last.note) == ("note", f"Session 2 signed by {second.signature}")


@pytest.mark.django_db
def test_a_performer_must_have_a_complete_signing_profile():
    course = make_course()
    nurse = make_user("nurse_no_profile")

    (message,) = errors_for(course, nurse)["performer"]

    assert message.startswith("nurse_no_profile has no complete signing profile")
    assert "Admin, Specialist profiles" in message
    assert "performer" in errors_for(course, make_performer(), performer=None)


@pytest.mark.django_db
def test_the_administration_time_lies_between_the_decision_and_now():
    course = make_course()
    performer = make_performer()
    decided = course.decision.decided_at

    before = errors_for(course, performer, administered_at=decided - timedelta(minutes=5))["administered_at"]
    future = errors_for(course, performer, administered_at=timezone.now() + timedelta(hours=1))[
        "administered_at"
    ]
    missing = errors_for(course, performer, administered_at="yesterday")["administered_at"]

    assert before[0].startswith("Give a time on or after the decision (")
    assert "not before" in future[0]
    assert "for example 2026-11-20 09:30" in missing[0]


@pytest.mark.django_db
def test_another_route_than_the_decisions_needs_a_reason():
    course = make_course()  # local injection
    performer = make_performer()

    (message,) = errors_for(course, performer, route="intravenous", sites=[])["route_reason"]
    assert message == (
        "The decision's route is local injection: say why this session was given as intravenous infusion, "
        "or choose the decision's route."
    )
    clean = clean_treatment(
        course=course,
        values=treatment_values(
            course, performer, route="intravenous", sites=[], route_reason="Joint effusion."
        ),
    )
    assert clean["route"] == "intravenous"
    assert "route" in errors_for(course, performer, route="oral")


@pytest.mark.django_db
def test_sites_are_among_the_decisions_and_an_injection_names_at_least_one():
    course = make_course()  # the decision was signed for the right knee
    performer = make_performer()

    outside = errors_for(course, performer, sites=["right_knee", "left_hip"])["sites"]
    none = errors_for(course, performer, sites=[])["sites"]

    assert outside == [
        "Left hip: not among the sites the decision was signed for (right knee). "
        "Choose among those; another site needs a new referral."
    ]
    assert none == ["Choose the site(s) injected, among the decision's: right knee."]


@pytest.mark.django_db
def test_an_infusion_needs_no_site():
    course = make_course(route="intravenous")

    assert clean_treatment(course=course, values=treatment_values(course, make_performer()))["sites"] == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("image_guidance", "x-ray", "Choose the image guidance used: None (landmark-guided), Ultrasound"),
        ("product_source", "", "autologous (the patient's own) or allogeneic"),
        ("performer_role", "surgeon", "Choose the performer's role: Physician"),
        ("product_kind", " ", "Name the product"),
        ("processing_facility", "", "Name the facility that processed the product"),
        ("lot", "", "lot number"),
        ("lot", "L" * 101, "Shorten it to 100 characters at most (it has 101)."),
        ("distinct_code", "", "distinct identification code (21 CFR 1271.290)"),
        ("dose_tnc", -5, "whole positive number"),
        ("dose_tnc", 1.5, "whole positive number"),
        ("dose_tnc", True, "whole positive number"),
        ("viability_percent", 101, "from 0 to 100"),
        ("viability_percent", "n/a", "from 0 to 100"),
        ("volume_ml", 0, "more than 0 and less than 1000"),
        ("volume_ml", 1000, "more than 0 and less than 1000"),
        ("volume_ml", None, "more than 0 and less than 1000"),
        ("label_legends", {"a": 1}, "as a list of texts"),
        ("session", 0, "1 for the first treatment"),
        ("notes", "n" * 5001, "5000 characters at most"),
    ],
)
def test_each_bad_field_is_named_with_what_to_give(field, value, says):
    course = make_course()

    messages = errors_for(course, make_performer(), **{field: value})

    assert list(messages) == [field]
    assert says in messages[field][0]


@pytest.mark.django_db
def test_numbers_from_a_form_are_stored_as_numbers_and_unmeasured_ones_may_stay_empty():
    course = make_course()
    values = treatment_values(
        course,
        make_performer(),
        dose_tnc="1200000000",
        viability_percent="",
        volume_ml="6.5",
        label_legends="A\nB",
    )

    clean = clean_treatment(course=course, values=values)

    assert (clean["dose_tnc"], clean["viability_percent"], clean["volume_ml"]) == (1_200_000_000, None, 6.5)
    assert type(clean["volume_ml"]) is float and clean["label_legends"] == ["A", "B"]


@pytest.mark.django_db
def test_a_distinct_code_holding_the_patients_identity_is_refused_saying_why_without_repeating_it():
    patient = make_patient(given_name="Marisol", family_name="Quintero", mrn="MRN55501234")
    course = make_course(patient=patient)
    performer = make_performer()

    for code, found in [
        ("BMAC-QUINTERO-1", "the patient's family name"),
        ("marisol-7", "the patient's given name"),
        ("MRN55501234", "the patient's medical record number (MRN)"),
        ("B-04/02/1961", "the patient's birth date"),
    ]:
        (message,) = errors_for(course, performer, distinct_code=code)["distinct_code"]
        assert message.startswith(f"This code contains {found}. 21 CFR 1271.290(c) forbids")
        for secret in ("Quintero", "QUINTERO", "Marisol", "55501234", "1961"):
            assert secret not in message


@pytest.mark.django_db
def test_a_closed_course_takes_no_treatment_record():
    course = make_course()
    performer = make_performer()
    cancel_course(course_id=course.pk, actor=Actor(label="desk"), reason="Patient withdrew")

    with pytest.raises(WrongState) as refused:
        make_signed_treatment(course, performer)

    assert str(refused.value) == (
        "This course is cancelled (Patient withdrew): no treatment can be recorded on it. "
        "Nothing was changed."
    )
    assert not TreatmentRecord.objects.filter(course=course).exists()


@pytest.mark.django_db
def test_what_follows_a_signature_runs_in_its_transaction():
    course = make_course()

    def fails(record):
        raise RuntimeError("the outbox is broken")

    treatments.on_treated(fails)
    try:
        with pytest.raises(RuntimeError):
            make_signed_treatment(course)
    finally:
        treatments._treated_handlers.remove(fails)

    assert not TreatmentRecord.objects.filter(course=course).exists()
    assert TreatmentCourse_state(course) == "scheduled"


@pytest.mark.django_db
def test_a_signed_record_never_changes_and_is_never_deleted():
    record = make_signed_treatment(make_course())

    record.lot = "OTHER"
    for attempt in (
        record.save,
        record.delete,
        TreatmentRecord.objects.filter(pk=record.pk).delete,
        lambda: TreatmentRecord.objects.filter(pk=record.pk).update(lot="OTHER"),
    ):
        with pytest.raises(ImmutableRecordError):
            attempt()
    assert TreatmentRecord.objects.get(pk=record.pk).lot == "LOT-2026-0142"


@pytest.mark.django_db
def test_a_correction_is_an_addendum_signed_by_its_author_in_the_chain():
    record = make_signed_treatment(make_course())
    author = make_performer("dr_lima")

    with pytest.raises(ValidationError) as refused:
        add_treatment_addendum(record_id=record.pk, user=author, reason=" ")
    assert refused.value.message_dict == {"reason": ["Write the correction and why it is needed."]}
    with pytest.raises(AftercareError, match="ask an administrator to complete it"):
        add_treatment_addendum(record_id=record.pk, user=make_user(), reason="Lot was LOT-9.")

    addendum = add_treatment_addendum(record_id=record.pk, user=author, reason="The lot was LOT-9.")

    assert (addendum.signed_name, addendum.reason) == ("Dr. Dr_Lima", "The lot was LOT-9.")
    assert list(TreatmentAddendum.objects.filter(record=record)) == [addendum]
    assert TreatmentRecord.objects.get(pk=record.pk).lot == "LOT-2026-0142"
    assert list(verify_chains()) == []
