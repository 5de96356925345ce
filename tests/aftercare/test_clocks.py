"""The pure rules of "who reports what, by when" (clinic.aftercare.clocks): one test per row of
DESIGN.md's table, the deadlines, and US federal holidays as work days count them."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinic.aftercare import clocks

NEW_YORK = ZoneInfo("America/New_York")


def rules(**facts) -> list[str]:
    given = dict(
        basis="ind",
        clinic_role="investigator",
        serious=True,
        expected=None,
        fatal_or_life_threatening=False,
        communicable_disease=None,
        reasonable_possibility=None,
        device_involved=False,
        device_related_death_or_injury=False,
        device_user_facility=False,
        irb_report_days=10,
    )
    return [rule.key for rule in clocks.rules_for(**(given | facts))]


def test_every_rule_fits_the_columns_it_is_stored_in():
    for rule in clocks.RULES.values():
        assert len(rule.key) <= 40 and len(rule.recipient) <= 200
        assert len(rule.citation) <= 100 and len(rule.form) <= 40
        assert rule.note


def test_ind_investigator_serious_event_goes_to_the_sponsor_within_24_hours():
    assert rules(serious=True) == ["ind_sponsor_immediately"]
    rule = clocks.RULES["ind_sponsor_immediately"]
    assert (rule.citation, rule.starts_from, rule.amount, rule.unit) == (
        "21 CFR 312.64(b)",
        clocks.SERIOUS,
        24,
        clocks.HOURS,
    )
    assert rules(serious=False) == []


def test_ind_investigator_unanticipated_problem_goes_to_the_irb_within_the_protocols_days():
    found = clocks.rules_for(
        basis="ind",
        clinic_role="investigator",
        serious=False,
        expected=False,
        fatal_or_life_threatening=False,
        communicable_disease=None,
        reasonable_possibility=True,
        device_involved=False,
        device_related_death_or_injury=False,
        device_user_facility=False,
        irb_report_days=5,
    )
    (irb,) = found
    assert (irb.key, irb.citation, irb.amount, irb.unit) == (
        "ind_irb_unanticipated_problem",
        "21 CFR 312.66",
        5,
        clocks.CALENDAR_DAYS,
    )
    # Expected, or unrelated: not an unanticipated problem.
    assert rules(serious=False, expected=True, reasonable_possibility=True) == []
    assert rules(serious=False, expected=False, reasonable_possibility=False) == []


def test_ind_sponsor_investigator_other_serious_unexpected_suspected_reaction_is_15_days_from_qualifying():
    keys = rules(clinic_role="sponsor_investigator", expected=False, reasonable_possibility=True)
    assert keys == ["ind_irb_unanticipated_problem", "ind_safety_report_15_day"]
    rule = clocks.RULES["ind_safety_report_15_day"]
    assert (rule.starts_from, rule.amount, rule.unit, rule.citation) == (
        clocks.QUALIFIED,
        15,
        clocks.CALENDAR_DAYS,
        "21 CFR 312.32(c)(1)",
    )
    assert "FDA" in rule.recipient and "investigators" in rule.recipient


def test_ind_sponsor_investigator_fatal_or_life_threatening_adds_the_7_day_notice():
    keys = rules(
        clinic_role="sponsor_investigator",
        expected=False,
        reasonable_possibility=True,
        fatal_or_life_threatening=True,
    )
    assert "ind_fatal_or_life_threatening_7_day" in keys and "ind_safety_report_15_day" in keys
    rule = clocks.RULES["ind_fatal_or_life_threatening_7_day"]
    assert (rule.starts_from, rule.amount, rule.citation) == (clocks.QUALIFIED, 7, "21 CFR 312.32(c)(2)")


def test_ind_sponsor_investigator_needs_unexpected_and_related_for_an_fda_clock():
    assert rules(clinic_role="sponsor_investigator", expected=True, reasonable_possibility=True) == []
    assert rules(clinic_role="sponsor_investigator", expected=False, reasonable_possibility=None) == []
    # Not assessed yet is not "unexpected": no clock until staff record expectedness.
    assert rules(clinic_role="sponsor_investigator", expected=None, reasonable_possibility=True) == []


def test_irb_trial_reports_to_the_irb_within_its_days_and_has_no_fda_clock():
    found = clocks.rules_for(
        basis="irb_trial",
        clinic_role="investigator",
        serious=True,
        expected=None,
        fatal_or_life_threatening=True,
        communicable_disease=True,
        reasonable_possibility=True,
        device_involved=False,
        device_related_death_or_injury=False,
        device_user_facility=False,
        irb_report_days=7,
    )
    assert [(rule.key, rule.recipient, rule.amount) for rule in found] == [("irb_trial_report", "The IRB", 7)]
    assert found[0].starts_from == clocks.SERIOUS
    assert rules(basis="irb_trial", serious=False) == []


def test_a_missing_irb_report_days_leaves_the_row_without_a_deadline_and_says_what_to_add():
    (rule,) = clocks.rules_for(
        basis="irb_trial",
        clinic_role="investigator",
        serious=True,
        expected=None,
        fatal_or_life_threatening=False,
        communicable_disease=None,
        reasonable_possibility=None,
        device_involved=False,
        device_related_death_or_injury=False,
        device_user_facility=False,
        irb_report_days=None,
    )
    assert clocks.deadline(datetime(2026, 11, 2, 9, tzinfo=NEW_YORK), rule) is None
    assert "irb_report_days" in rule.note


def test_approved_product_user_reports_voluntarily_with_no_deadline():
    (rule,) = clocks.rules_for(
        basis="approved_product",
        clinic_role="user",
        serious=True,
        expected=False,
        fatal_or_life_threatening=True,
        communicable_disease=None,
        reasonable_possibility=True,
        device_involved=False,
        device_related_death_or_injury=False,
        device_user_facility=False,
        irb_report_days=None,
    )
    assert rule.key == "approved_product_voluntary" and rule.form == "3500"
    assert clocks.deadline(datetime(2026, 11, 2, tzinfo=NEW_YORK), rule) is None
    assert "600.80(c)" in rule.note and "licence holder" in rule.note
    assert rules(basis="approved_product", clinic_role="user", serious=False) == []


def test_a_361_manufacturer_reports_a_serious_communicable_disease_reaction_to_fda_in_15_days_from_receipt():
    base = dict(basis="minimal_manipulation_homologous", clinic_role="manufacturer_361")
    assert rules(**base, communicable_disease=True) == ["hctp_adverse_reaction_15_day"]
    rule = clocks.RULES["hctp_adverse_reaction_15_day"]
    assert (rule.citation, rule.form, rule.amount, rule.starts_from) == (
        "21 CFR 1271.350(a)",
        "3500A",
        15,
        clocks.SERIOUS,
    )
    # No communicable disease, or assessed as unrelated (not an adverse reaction): no row.
    assert rules(**base, communicable_disease=False) == []
    assert rules(**base, communicable_disease=True, reasonable_possibility=False) == []
    assert rules(**base, communicable_disease=True, serious=False) == []


def test_a_361_product_used_by_a_clinic_that_is_not_its_manufacturer_reports_voluntarily():
    assert rules(basis="minimal_manipulation_homologous", clinic_role="user") == ["hctp_voluntary"]


def test_same_surgical_procedure_has_no_fda_clock_only_a_voluntary_row_without_deadline():
    (rule,) = clocks.rules_for(
        basis="same_surgical_procedure",
        clinic_role="user",
        serious=True,
        expected=False,
        fatal_or_life_threatening=True,
        communicable_disease=True,
        reasonable_possibility=True,
        device_involved=False,
        device_related_death_or_injury=False,
        device_user_facility=False,
        irb_report_days=None,
    )
    assert rule.key == "same_surgical_voluntary" and not rule.has_deadline and "1271.15(b)" in rule.citation


def test_same_surgical_procedure_offers_the_voluntary_row_for_any_confirmed_event():
    ssp = dict(basis="same_surgical_procedure", clinic_role="user")
    assert rules(**ssp, serious=False) == ["same_surgical_voluntary"]
    assert rules(**ssp, serious=None) == ["same_surgical_voluntary"]  # seriousness not assessed yet
    # In triage: a mild or unassessed report (a patient's flag) waits; a serious one is reported now.
    assert rules(**ssp, serious=False, confirmed=False) == []
    assert rules(**ssp, serious=None, confirmed=False) == []
    assert rules(**ssp, serious=True, confirmed=False) == ["same_surgical_voluntary"]
    assert clocks.RULES["same_surgical_voluntary"].starts_from == clocks.RECEIVED


def test_a_device_user_facility_reports_a_device_death_to_fda_and_the_manufacturer_in_10_work_days():
    facts = dict(basis="same_surgical_procedure", clinic_role="user", device_involved=True)
    death = rules(**facts, device_related_death_or_injury=True, device_user_facility=True, device_death=True)
    assert death == ["same_surgical_voluntary", "device_death_10_work_days"]
    rule = clocks.RULES["device_death_10_work_days"]
    assert (rule.recipient, rule.amount, rule.unit, rule.citation) == (
        "FDA and the device manufacturer",
        10,
        clocks.WORK_DAYS,
        "21 CFR 803.30(a)(1)",
    )
    injury = rules(**facts, device_related_death_or_injury=True, device_user_facility=True)
    assert injury[-1] == "device_serious_injury_10_work_days"
    assert clocks.RULES[injury[-1]].recipient.startswith("The device manufacturer")
    # Not a device user facility (a physician's office), or not device-related: no device row.
    assert rules(**facts, device_related_death_or_injury=True) == ["same_surgical_voluntary"]
    assert rules(**facts, device_user_facility=True) == ["same_surgical_voluntary"]


def test_no_basis_no_row():
    assert rules(basis="", clinic_role="user") == []
    assert rules(basis="non_us_authorisation", clinic_role="user") == []


# --- deadlines and work days ---------------------------------------------------------------------


def test_immediately_is_24_elapsed_hours_even_across_a_daylight_saving_change():
    start = datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK)  # clocks go back at 02:00 that night
    due = clocks.deadline(start, clocks.RULES["ind_sponsor_immediately"])
    assert due.astimezone(ZoneInfo("UTC")) - start.astimezone(ZoneInfo("UTC")) == timedelta(hours=24)
    assert (due.date(), due.hour, due.minute) == (date(2026, 11, 1), 23, 30)  # the wall clock went back


def test_work_days_are_counted_in_the_zone_given_not_the_starts():
    # Thursday 5 November 2026, 20:00 in New York, as the database gives it back: in UTC.
    start = datetime(2026, 11, 5, 20, 0, tzinfo=NEW_YORK).astimezone(ZoneInfo("UTC"))
    rule = clocks.RULES["device_death_10_work_days"]
    assert clocks.deadline(start, rule, zone=NEW_YORK) == datetime(2026, 11, 20, 20, 0, tzinfo=NEW_YORK)
    # Counted in UTC the start is a Friday and the due time two days later.
    assert clocks.deadline(start, rule) == datetime(2026, 11, 22, 20, 0, tzinfo=NEW_YORK)


def test_calendar_days_keep_the_wall_time():
    start = datetime(2026, 11, 2, 16, 45, tzinfo=NEW_YORK)
    due = clocks.deadline(start, clocks.RULES["hctp_adverse_reaction_15_day"])
    assert due.replace(tzinfo=None) == datetime(2026, 11, 17, 16, 45)


def test_2026_federal_holidays_are_computed_with_their_observed_days():
    assert sorted(clocks.federal_holidays(2026)) == [
        date(2026, 1, 1),
        date(2026, 1, 19),
        date(2026, 2, 16),
        date(2026, 5, 25),
        date(2026, 6, 19),
        date(2026, 7, 3),  # Independence Day falls on a Saturday: observed Friday
        date(2026, 9, 7),
        date(2026, 10, 12),
        date(2026, 11, 11),
        date(2026, 11, 26),
        date(2026, 12, 25),
    ]


def test_a_sunday_holiday_is_observed_monday_and_a_saturday_new_year_on_the_last_friday_of_the_year_before():
    assert date(2027, 6, 18) in clocks.federal_holidays(2027)  # 19 June 2027 is a Saturday
    assert date(2027, 12, 24) in clocks.federal_holidays(2027)  # Christmas 2027: Saturday
    assert date(2027, 12, 31) in clocks.federal_holidays(2027)  # New Year's Day 2028: Saturday
    assert date(2028, 1, 1) not in clocks.federal_holidays(2028)
    assert date(2027, 7, 5) in clocks.federal_holidays(2027)  # Independence Day 2027: Sunday
    assert date(2020, 6, 19) not in clocks.federal_holidays(2020)  # before Juneteenth became one


def test_ten_work_days_skip_weekends_christmas_and_new_year():
    # Wednesday 23 December 2026: Christmas (Friday 25th) and New Year's Day (Friday 1 January 2027)
    # are holidays; the 10th work day after is Friday 8 January 2027.
    start = datetime(2026, 12, 23, 10, 0, tzinfo=NEW_YORK)
    due = clocks.deadline(start, clocks.RULES["device_death_10_work_days"])
    assert due == datetime(2027, 1, 8, 10, 0, tzinfo=NEW_YORK)
    assert not clocks.is_work_day(date(2026, 12, 25)) and not clocks.is_work_day(date(2027, 1, 1))
    assert clocks.is_work_day(date(2026, 12, 24))


def test_work_days_counted_from_a_saturday_start_with_the_next_monday():
    assert clocks.add_work_days(date(2026, 11, 7), 1) == date(2026, 11, 9)
    # Veterans Day (Wednesday 11 November 2026) does not count.
    assert clocks.add_work_days(date(2026, 11, 9), 3) == date(2026, 11, 13)


@pytest.mark.parametrize("year", range(2021, 2041))
def test_eleven_federal_holidays_a_year_each_observed_on_a_weekday(year):
    observed = clocks.federal_holidays(year)
    assert all(day.weekday() < 5 for day in observed)
    # A Saturday New Year's Day moves into the year before.
    saturday = 5
    expected = 11 + (date(year + 1, 1, 1).weekday() == saturday) - (date(year, 1, 1).weekday() == saturday)
    assert len(observed) == expected
