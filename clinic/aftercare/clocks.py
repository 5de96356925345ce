"""Reporting clocks: which rows of "who reports what, by when" apply to an adverse event, and when
each is due (DESIGN.md, "Adverse events"). Pure: no Django, no database, no settings; the caller
(clinic.aftercare.reporting) reads the event, the protocol and the setting and passes plain
values in.

The software submits nothing: a row says to whom, under which rule, on which form and by when; a
person records the submission."""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo

# Where a row's clock starts: when the clinic learned of the event ("received": received_at), when
# it learned what makes the event serious ("serious": serious_at, the event's receipt, or a partner's
# update that made it serious, however late staff judge it), or when staff recorded the
# seriousness, expectedness and relatedness that make 21 CFR 312.32(c) apply ("qualified"). A row
# that has existed keeps its first start (clinic.aftercare.reporting.sync_clocks).
RECEIVED, SERIOUS, QUALIFIED = "received", "serious", "qualified"
HOURS, CALENDAR_DAYS, WORK_DAYS = "hours", "calendar_days", "work_days"

FORM_3500A = "3500A"
FORM_3500 = "3500"


@dataclass(frozen=True)
class ClockRule:
    key: str  # stored in ReportingClock.rule (at most 40 characters)
    recipient: str  # at most 200 characters
    citation: str  # at most 100 characters
    form: str  # at most 40 characters; "" for none in particular
    starts_from: str  # RECEIVED | SERIOUS | QUALIFIED
    amount: int | None  # None with unit None: a voluntary report, no deadline
    unit: str | None  # HOURS | CALENDAR_DAYS | WORK_DAYS | None
    note: str = ""  # what a person reads next to the row (who owes what, why no deadline)

    @property
    def has_deadline(self) -> bool:
        return self.amount is not None and self.unit is not None


def _row(key, recipient, citation, form, starts_from, amount, unit, note) -> ClockRule:
    return ClockRule(key, recipient, citation, form, starts_from, amount, unit, note)


# Every row of DESIGN.md's table the clinic can owe, by key (ReportingClock.rule).
RULES: dict[str, ClockRule] = {
    rule.key: rule
    for rule in (
        _row(
            "ind_sponsor_immediately",
            "The IND sponsor",
            "21 CFR 312.64(b)",
            "The sponsor's form",
            SERIOUS,
            24,
            HOURS,
            "Immediately: within 24 hours of learning that the event is serious.",
        ),
        _row(
            "ind_irb_unanticipated_problem",
            "The IRB",
            "21 CFR 312.66",
            "The IRB's form",
            RECEIVED,
            None,
            CALENDAR_DAYS,  # the protocol's irb_report_days
            "Unexpected and possibly related: an unanticipated problem, reported promptly.",
        ),
        _row(
            "ind_safety_report_15_day",
            "FDA and all participating investigators",
            "21 CFR 312.32(c)(1)",
            "3500A or narrative",
            QUALIFIED,
            15,
            CALENDAR_DAYS,
            "IND safety report: 15 calendar days after it qualifies.",
        ),
        _row(
            "ind_fatal_or_life_threatening_7_day",
            "FDA",
            "21 CFR 312.32(c)(2)",
            "3500A or narrative",
            QUALIFIED,
            7,
            CALENDAR_DAYS,
            "Unexpected fatal or life-threatening: 7 calendar days; the 15-day report still follows.",
        ),
        _row(
            "irb_trial_report",
            "The IRB",
            "The IRB's written procedures",
            "The IRB's form",
            RECEIVED,
            None,
            CALENDAR_DAYS,  # the protocol's irb_report_days
            "No FDA clock for a study without an IND; the IRB's own deadline.",
        ),
        _row(
            "approved_product_voluntary",
            "The manufacturer (licence holder), and FDA MedWatch voluntarily",
            "Voluntary; 21 CFR 600.80(c) binds the licence holder",
            FORM_3500,
            SERIOUS,
            None,
            None,
            "No deadline for the clinic: the 15-day Alert report of 21 CFR 600.80(c) is the licence "
            "holder's duty once it learns of the event.",
        ),
        _row(
            "hctp_adverse_reaction_15_day",
            "FDA (MedWatch)",
            "21 CFR 1271.350(a)",
            FORM_3500A,
            SERIOUS,
            15,
            CALENDAR_DAYS,
            "A serious adverse reaction involving a communicable disease: 15 days from receipt of the "
            "information.",
        ),
        _row(
            "hctp_voluntary",
            "The HCT/P establishment, and FDA MedWatch voluntarily",
            "Voluntary; 21 CFR 1271.350(a) binds the establishment",
            FORM_3500,
            SERIOUS,
            None,
            None,
            "No deadline for the clinic: reporting under 1271.350(a) is the establishment's duty.",
        ),
        # A row with no deadline rather than none: it tells the desk a voluntary MedWatch report is
        # theirs to make, names the form for the data sheet and takes a recorded submission; with no
        # due time it is never overdue and never escalates.
        _row(
            "same_surgical_voluntary",
            "FDA MedWatch, voluntarily",
            "21 CFR 1271.15(b): Part 1271 does not apply",
            FORM_3500,
            RECEIVED,
            None,
            None,
            "No FDA clock for the same surgical procedure; a voluntary report of any adverse event has "
            "no deadline.",
        ),
        _row(
            "device_death_10_work_days",
            "FDA and the device manufacturer",
            "21 CFR 803.30(a)(1)",
            FORM_3500A,
            SERIOUS,
            10,
            WORK_DAYS,
            "A device user facility reports a device-related death within 10 work days.",
        ),
        _row(
            "device_serious_injury_10_work_days",
            "The device manufacturer (FDA if the manufacturer is unknown)",
            "21 CFR 803.30(a)(2)",
            FORM_3500A,
            SERIOUS,
            10,
            WORK_DAYS,
            "A device user facility reports a device-related serious injury within 10 work days.",
        ),
    )
}
NO_IRB_DAYS = "The protocol gives no irb_report_days: add it from the IRB's written procedures."


def _irb(key: str, days: int | None, **changes) -> ClockRule:
    # An older protocol may lack irb_report_days (the protocol check asks for it since rule set v3):
    # the row still shows, with no deadline and a sentence saying what to fill in.
    if days is None:
        return replace(RULES[key], amount=None, unit=None, note=NO_IRB_DAYS, **changes)
    return replace(RULES[key], amount=days, **changes)


def rules_for(
    *,
    basis: str,
    clinic_role: str,
    serious: bool | None,
    expected: bool | None,
    fatal_or_life_threatening: bool,
    communicable_disease: bool | None,
    reasonable_possibility: bool | None,
    device_involved: bool,
    device_related_death_or_injury: bool,
    device_user_facility: bool,
    irb_report_days: int | None,
    device_death: bool = False,
    confirmed: bool = True,
) -> list[ClockRule]:
    """The rows that apply now. `None` means not assessed yet: a row that needs the clinic's
    assessment (expectedness, relatedness) opens once it is recorded, except the 361 HCT/P row, which
    opens while relatedness is still unassessed (its clock runs from receipt). A device row needs
    `device_related_death_or_injury`; `device_death` picks the death row (FDA and the manufacturer)
    over the serious-injury row (the manufacturer). `confirmed`: staff have confirmed it as an
    adverse event (a staff report is as it is entered). The voluntary same-surgical-procedure row
    is for any event: a report still in triage gets it only when serious as reported, as every
    serious row opens at receipt; a mild or unassessed one (a patient's flag) waits for triage."""
    picked: list[ClockRule] = []
    is_serious = serious is True
    unanticipated = expected is False and reasonable_possibility is True
    if basis == "ind" and clinic_role in ("investigator", "sponsor_investigator"):
        if clinic_role == "investigator" and is_serious:
            picked.append(RULES["ind_sponsor_immediately"])
        if unanticipated:
            # A sponsor-investigator is an investigator too (21 CFR 312.3(b)): 312.66 binds both.
            picked.append(_irb("ind_irb_unanticipated_problem", irb_report_days))
        if clinic_role == "sponsor_investigator" and is_serious and unanticipated:
            picked.append(RULES["ind_safety_report_15_day"])
            if fatal_or_life_threatening:
                # 312.32(c)(2) says "also": the 7-day notice comes on top of the 15-day report.
                picked.append(RULES["ind_fatal_or_life_threatening_7_day"])
    elif basis == "irb_trial" and (is_serious or unanticipated):
        picked.append(
            _irb("irb_trial_report", irb_report_days, starts_from=SERIOUS if is_serious else RECEIVED)
        )
    elif basis == "approved_product" and is_serious:
        picked.append(RULES["approved_product_voluntary"])
    elif basis == "minimal_manipulation_homologous" and is_serious:
        if clinic_role != "manufacturer_361":
            picked.append(RULES["hctp_voluntary"])
        # An adverse reaction needs a reasonable possibility that the HCT/P caused it (1271.3(y));
        # until the clinic has assessed relatedness the row opens rather than waits.
        elif communicable_disease is True and reasonable_possibility is not False:
            picked.append(RULES["hctp_adverse_reaction_15_day"])
    elif basis == "same_surgical_procedure" and (confirmed or is_serious):
        # DESIGN.md's table: "any" event, serious or not, once staff confirm it is one.
        picked.append(RULES["same_surgical_voluntary"])
    if device_involved and device_user_facility and device_related_death_or_injury:
        picked.append(
            RULES["device_death_10_work_days" if device_death else "device_serious_injury_10_work_days"]
        )
    return picked


# --- US federal holidays and work days --------------------------------------------------------
# The legal public holidays of 5 U.S.C. 6103(a), computed for any year (no year list to go stale).
# A holiday on a Saturday is observed the Friday before and one on a Sunday the Monday after
# (5 U.S.C. 6103(b) and Executive Order 11582). Inauguration Day (6103(c)) is left out: it is a
# holiday only for the Washington, D.C. area, every fourth year.


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


MONDAY, THURSDAY = 0, 3


def _legal_holidays(year: int) -> list[date]:
    days = [
        date(year, 1, 1),  # New Year's Day
        _nth_weekday(year, 1, MONDAY, 3),  # Birthday of Martin Luther King, Jr.
        _nth_weekday(year, 2, MONDAY, 3),  # Washington's Birthday
        _last_weekday(year, 5, MONDAY),  # Memorial Day
        date(year, 7, 4),  # Independence Day
        _nth_weekday(year, 9, MONDAY, 1),  # Labor Day
        _nth_weekday(year, 10, MONDAY, 2),  # Columbus Day
        date(year, 11, 11),  # Veterans Day
        _nth_weekday(year, 11, THURSDAY, 4),  # Thanksgiving Day
        date(year, 12, 25),  # Christmas Day
    ]
    if year >= 2021:  # Juneteenth National Independence Day (Pub. L. 117-17, 2021)
        days.append(date(year, 6, 19))
    return days


def _observed(day: date) -> date:
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


def federal_holidays(year: int) -> set[date]:
    """The days of `year` on which a federal holiday is observed (New Year's Day of the next year
    falls on 31 December when 1 January is a Saturday)."""
    observed = {_observed(day) for y in (year, year + 1) for day in _legal_holidays(y)}
    return {day for day in observed if day.year == year}


def is_work_day(day: date) -> bool:
    return day.weekday() < 5 and day not in federal_holidays(day.year)


def add_work_days(day: date, count: int) -> date:
    """The `count`-th work day after `day` (the day itself does not count)."""
    while count > 0:
        day += timedelta(days=1)
        if is_work_day(day):
            count -= 1
    return day


def deadline(start: datetime, rule: ClockRule, *, zone: tzinfo | None = None) -> datetime | None:
    """When the row is due: None for a voluntary row. Calendar and work days are counted in `zone`,
    the clinic's (a work day is a day at the clinic: an event received on a Thursday evening there is
    already Friday in UTC), keeping the start's wall time there; without `zone`, in the start's own.
    Hours are elapsed hours."""
    if not rule.has_deadline:
        return None
    if zone is not None and start.tzinfo is not None:
        start = start.astimezone(zone)
    amount = int(rule.amount or 0)
    if rule.unit == HOURS:
        if start.tzinfo is None:
            return start + timedelta(hours=amount)
        return (start.astimezone(UTC) + timedelta(hours=amount)).astimezone(start.tzinfo)
    if rule.unit == CALENDAR_DAYS:
        return start + timedelta(days=amount)
    if rule.unit == WORK_DAYS:
        due_day = add_work_days(start.date(), amount)
        return start + timedelta(days=(due_day - start.date()).days)
    raise ValueError(f"Unknown clock unit {rule.unit!r}")
