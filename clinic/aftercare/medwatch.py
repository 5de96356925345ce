"""The adverse event as a data sheet laid out as FDA Form 3500A (mandatory) or 3500 (voluntary),
whichever its reporting clocks call for, and as a JSON export of the whole record.

The sheet is plain data (sections, item numbers, labels, values) for the desk and admin templates to
render; a value of None is a blank the clinic fills in on the form it files. The software submits
nothing. The patient is identified by the case reference, never by name (A1 "in confidence").

Item numbers are those of the editions SOURCES names; later editions renumber some items, so the
clinic checks the sheet against the edition it files."""

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.utils import timezone

from clinic.aftercare import clocks
from clinic.aftercare.adverse_event_values import plain
from clinic.aftercare.errors import AftercareError
from clinic.aftercare.models import AdverseEvent, ReportingClock, TreatmentRecord
from clinic.aftercare.reporting import protocol_terms, rule_note
from clinic.aftercare.vocabulary import (
    AdverseEventOutcome,
    ClockState,
    ProductSource,
    Relatedness,
    ReporterQualification,
)
from intake.vocabulary.routes import FINAL_ROUTES
from recommendations.protocol_rules import IND_NUMBER

# B2's checkboxes, as the forms word them, for each seriousness criterion.
OUTCOME_BOXES = {
    "death": "Death",
    "life_threatening": "Life-threatening",
    "hospitalization": "Hospitalization - initial or prolonged",
    "disability": "Disability or permanent damage",
    "congenital_anomaly": "Congenital anomaly/birth defect",
    "important_medical_event": "Other serious (important medical events)",
    "medical_intervention": "Required intervention to prevent permanent impairment/damage (devices)",
}
HEALTH_PROFESSIONALS = ("physician", "pharmacist", "other_health_professional")
# Where each layout's sections and item numbers come from (the FDA's instructions and the form):
# 3500A (10/05): sections A-H, items A1-A4, B1-B7, C1-C10, D1-D6 from the instructions; E1-E4 (initial
# reporter) and G1-G9 (all manufacturers) from the form. 3500: sections A-G (patient, adverse event,
# product availability, suspect products, suspect medical device, concomitant products, reporter) from
# the instructions; items D1-D9, E1-E5, G1-G5 from the form. Dates are written dd-Mon-yyyy as the
# 3500A supplement (4/16) instructs: https://docslib.org/doc/1608047 (its general instructions).
SOURCES = {
    clocks.FORM_3500A: (
        "https://webharvest.gov/peth04/20041031171653/http://www.fda.gov/medwatch/report/instruc.htm",
        "https://omb.report/icr/200810-0910-002/doc/11014801",
    ),
    clocks.FORM_3500: (
        "https://www.fda.gov/safety/download-forms/instructions-completing-form-fda-3500",
        "http://m.omb.report/icr/200810-0910-002/doc/10660501",
    ),
}


@dataclass(frozen=True)
class Item:
    number: str  # as printed on the form: "A1", "B5", "G7"
    label: str
    value: str | None  # None: blank, for the clinic to fill in
    note: str = ""  # where the value came from, or what the clinic must add

    @property
    def blank(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class Section:
    letter: str
    title: str
    items: tuple[Item, ...]
    note: str = ""


@dataclass(frozen=True)
class MedWatchSheet:
    form: str  # "3500A" or "3500"
    title: str
    mandatory: bool
    adverse_event_id: str
    case_reference: str
    sections: tuple[Section, ...]
    # The rows that call for this report: recipient, citation, form, due_at (None: no deadline), state.
    clocks: tuple[dict, ...]
    sources: tuple[str, ...]

    @property
    def blanks(self) -> list[str]:
        """The items the clinic must still fill in, by number."""
        return [item.number for section in self.sections for item in section.items if item.blank]


def _day(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = timezone.localdate(value)
    return f"{value.day:02d}-{value:%b}-{value.year}"


def _age_at(birth: date, when: date) -> int:
    return when.year - birth.year - ((when.month, when.day) < (birth.month, birth.day))


def _live_clocks(ae: AdverseEvent) -> list[ReportingClock]:
    return [row for row in ae.clocks.order_by("created_at") if row.state != ClockState.NOT_REQUIRED]


def form_for(ae: AdverseEvent) -> str:
    """3500A when a row that applies asks for the mandatory form, else the voluntary 3500."""
    return clocks.FORM_3500A if any("3500A" in row.form for row in _live_clocks(ae)) else clocks.FORM_3500


def _narrative(ae: AdverseEvent) -> str:
    """B5: the report's description, then what the record adds (grade, outcome, action, the
    clinic's assessment, later information), so the form's narrative is complete on its own."""
    lines = [ae.description, ""]
    if ae.ctcae_grade:
        lines.append(f"Severity: CTCAE v5.0 grade {ae.ctcae_grade}.")
    lines.append(f"Outcome: {AdverseEventOutcome(ae.outcome).label}.")
    if ae.action_taken:
        lines.append(f"Action taken: {ae.action_taken}")
    suspects = ("harvest", "product", "device")
    opinions = (ae.relatedness_harvest, ae.relatedness_product, ae.relatedness_device)
    assessed = [
        f"{what} {Relatedness(value).label.lower()}"
        for what, value in zip(suspects, opinions, strict=True)
        if value
    ]
    if assessed:
        lines.append(f"Relatedness (WHO-UMC, the clinic's assessment): {'; '.join(assessed)}.")
    if ae.expected is not None:
        lines.append(f"Expected against the protocol's reference: {'yes' if ae.expected else 'no'}.")
    if ae.communicable_disease:
        lines.append("Involves a communicable disease.")
    for change in ae.changes.filter(kind="update").order_by("chain_seq"):
        if change.note:
            lines.append(f"Follow-up information received {_day(change.received_at)}: {change.note}")
    return "\n".join(lines).strip()


def _product(ae: AdverseEvent, letter: str) -> tuple[Item, ...]:
    """The suspect product (3500A C1-C10, 3500 D1-D9) from the signed treatment records."""
    records = list(TreatmentRecord.objects.filter(course=ae.course).order_by("session"))
    case = ae.case
    indication = f"{case.condition_code} {case.condition_text}".strip() + " (ICD-10-CM)"
    if not records:
        note = "No treatment record is signed yet: the event followed the harvest or came before treatment."
        name = dose = dates = lot = code = None
    else:
        first, last = records[0], records[-1]
        note = ""
        name = (
            f"{first.product_kind}, {ProductSource(first.product_source).label.lower()}; processed by "
            f"{first.processing_facility}"
        )
        amounts = [
            f"{first.dose_tnc:,} total nucleated cells" if first.dose_tnc else "",
            f"{first.volume_ml:g} mL" if first.volume_ml else "",
            f"viability {first.viability_percent:g} %" if first.viability_percent else "",
        ]
        route = FINAL_ROUTES.get(first.route, first.route)
        sites = ", ".join(site.replace("_", " ") for site in first.sites)
        route += f" ({sites})" if sites else ""
        dose = "; ".join(
            filter(None, (", ".join(filter(None, amounts)), f"{len(records)} session(s)", route))
        )
        dates = f"from {_day(first.administered_at)} to {_day(last.administered_at)}"
        lot = ", ".join(dict.fromkeys(record.lot for record in records))
        code = ", ".join(dict.fromkeys(record.distinct_code for record in records))
    rows = (
        ("Name, strength, manufacturer", name, note),
        ("Dose, frequency and route used", dose, ""),
        ("Therapy dates (dates of use)", dates, ""),
        ("Diagnosis for use (indication)", indication, ""),
        ("Event abated after use stopped or dose reduced?", None, ""),
        ("Lot #", lot, ""),
        ("Expiration date", None, ""),
        ("Event reappeared after reintroduction?", None, ""),
        ("NDC # or unique ID", code, "The distinct identification code (21 CFR 1271.290)."),
    )
    return tuple(Item(f"{letter}{n}", *row) for n, row in enumerate(rows, start=1))


def _patient(ae: AdverseEvent) -> tuple[Item, ...]:
    patient = ae.case.patient
    return (
        Item("A1", "Patient identifier (in confidence)", ae.case.reference, "The case reference."),
        Item("A2", "Age at time of event", f"{_age_at(patient.birth_date, ae.onset)} years"),
        Item("A3", "Sex", patient.get_sex_display()),
        Item("A4", "Weight", None),
    )


def _event(ae: AdverseEvent) -> tuple[Item, ...]:
    boxes = [OUTCOME_BOXES[code] for code in ae.seriousness_criteria or []]
    outcomes = "; ".join(boxes) if boxes else ("Not serious: no box" if ae.serious is False else None)
    items = [
        Item("B1", "Adverse event and/or product problem", "Adverse event"),
        Item("B2", "Outcomes attributed to adverse event", outcomes),
    ]
    if "death" in (ae.seriousness_criteria or []):
        items.append(Item("B2", "Date of death", None, "The clinic adds the date of death."))
    return (
        *items,
        Item("B3", "Date of event", _day(ae.onset)),
        Item("B4", "Date of this report", None, "The date the clinic files it."),
        Item("B5", "Describe event or problem", _narrative(ae)),
        Item("B6", "Relevant tests/laboratory data, including dates", None),
        Item("B7", "Other relevant history, including preexisting medical conditions", None),
    )


def _reporter(ae: AdverseEvent, numbers: tuple[str, str, str]) -> tuple[Item, ...]:
    qualification = ae.reporter_qualification
    professional = None if not qualification else ("Yes" if qualification in HEALTH_PROFESSIONALS else "No")
    occupation = ReporterQualification(qualification).label if qualification else None
    name = ae.reporter_name or None
    return (
        Item(numbers[0], "Name, address and phone #", name, "The clinic adds the address and phone."),
        Item(numbers[1], "Health professional?", professional),
        Item(numbers[2], "Occupation", occupation),
    )


def _manufacturer(ae: AdverseEvent, rows: list[ReportingClock]) -> Section:
    snapshot = ae.course.protocol or {}
    basis = snapshot.get("basis", "")
    ind = IND_NUMBER.search(snapshot.get("reference") or "") if basis == "ind" else None
    study = "Study" if basis in ("ind", "irb_trial") else "Health professional"
    source = "Consumer" if ae.source == "patient" else study
    kinds = [f"{rule.amount}-day" for row in rows if (rule := clocks.RULES.get(row.rule)) and rule.amount]
    protocol = f"{snapshot.get('id')} v{snapshot.get('version')}" if basis == "ind" else None
    rows = (
        ("Contact office - name/address", None, ""),
        ("Phone number", None, ""),
        ("Report source", source, ""),
        ("Date received by manufacturer", _day(ae.received_at), "When the clinic learned of it."),
        ("(A)NDA #, IND #, STN #, PMA/510(k) #", f"IND {ind.group(1)}" if ind else None, ""),
        ("If IND, give protocol #", protocol, ""),
        ("Type of report", "; ".join(["Initial", *dict.fromkeys(kinds)]), ""),
        ("Adverse event term(s)", None, "A MedDRA term, coded by the clinic."),
        ("Manufacturer report number", None, ""),
    )
    items = tuple(Item(f"G{n}", *row) for n, row in enumerate(rows, start=1))
    return Section("G", "All manufacturers", items)


def _device(letter: str) -> Section:
    labels = ("Brand name", "Common device name", "Manufacturer name, city and state")
    labels += ("Model #, catalog #, serial #, lot #, expiration date", "Operator of device")
    return Section(
        letter,
        "Suspect medical device",
        tuple(Item(f"{letter}{n}", label, None) for n, label in enumerate(labels, start=1)),
        note="The record does not hold the device's details: the clinic fills them in.",
    )


def sheet(adverse_event: AdverseEvent) -> MedWatchSheet:
    """The data sheet for `adverse_event` (AftercareError for a sandbox partner's test)."""
    ae = adverse_event
    if ae.sandbox:
        raise AftercareError("This report came from a sandbox partner: it is a test and has no data sheet.")
    rows = _live_clocks(ae)
    form = form_for(ae)
    mandatory = form == clocks.FORM_3500A
    if mandatory:
        product = _product(ae, "C")
        sections = [
            Section("A", "Patient information", _patient(ae)),
            Section("B", "Adverse event or product problem", _event(ae)),
            Section("C", "Suspect product(s)", (*product, Item("C10", "Concomitant medical products", None))),
        ]
        if ae.device_involved:
            sections.append(_device("D"))
        reporter = (
            *_reporter(ae, ("E1", "E2", "E3")),
            Item("E4", "Initial reporter also sent report to FDA", None),
        )
        sections.append(Section("E", "Initial reporter", reporter))
        if ae.device_involved and getattr(settings, "DEVICE_USER_FACILITY", False):
            sections.append(_user_facility(ae))
        sections.append(_manufacturer(ae, rows))
    else:
        product = _product(ae, "D")
        sections = [
            Section("A", "Patient information", _patient(ae)),
            Section("B", "Adverse event, product problem or error", _event(ae)),
            Section("C", "Product availability", (Item("C1", "Product available for evaluation?", None),)),
            Section("D", "Suspect product(s)", product),
        ]
        if ae.device_involved:
            sections.append(_device("E"))
        sections.append(
            Section(
                "F",
                "Other (concomitant) medical products",
                (Item("F", "Product names and therapy dates", None),),
            )
        )
        reporter = (
            *_reporter(ae, ("G1", "G2", "G3")),
            Item("G4", "Also reported to", None),
            Item("G5", "If you do NOT want your identity disclosed to the manufacturer", None),
        )
        sections.append(Section("G", "Reporter", reporter))
    return MedWatchSheet(
        form=form,
        title=f"Form FDA {form} ({'mandatory' if mandatory else 'voluntary'} reporting): data sheet",
        mandatory=mandatory,
        adverse_event_id=str(ae.pk),
        case_reference=ae.case.reference,
        sections=tuple(sections),
        clocks=tuple(_clock_data(row) for row in rows),
        sources=SOURCES[form],
    )


def _user_facility(ae: AdverseEvent) -> Section:
    labels = (
        "Check one (user facility / importer)|UF/importer report number|User facility or importer "
        "name/address|Contact person|Phone number|Date user facility or importer became aware of event|"
        "Type of report|Date of this report|Approximate age of device|Event problem codes|Report sent to "
        "FDA?|Location where event occurred|Report sent to manufacturer?|Manufacturer name/address"
    ).split("|")
    known = {1: "User facility", 6: _day(ae.received_at), 7: "Initial"}
    return Section(
        "F",
        "For use by user facility/importer (devices only)",
        tuple(Item(f"F{n}", label, known.get(n)) for n, label in enumerate(labels, start=1)),
    )


CLOCK_FIELDS = (
    "rule recipient citation form starts_at due_at state submitted_at submitted_to submission_reference"
).split()
CHANGE_FIELDS = "chain_seq kind source actor_label external_id changes note received_at row_hash".split()


def _clock_data(row: ReportingClock) -> dict:
    data = {"id": str(row.pk)} | {name: plain(getattr(row, name)) for name in CLOCK_FIELDS}
    recorder = row.recorded_by.get_username() if row.recorded_by_id else None
    return data | {"note": rule_note(row.rule), "recorded_by": recorder}


RECORD_FIELDS = (
    "session administered_at performer_role route route_reason sites image_guidance protocol_id "
    "protocol_version basis product_kind product_source processing_facility lot distinct_code "
    "label_legends dose_tnc viability_percent volume_ml signed_name signed_credentials signed_at"
).split()


AE_FIELDS = (
    "source external_id reporter_name reporter_qualification relatedness_opinion triage onset description "
    "ctcae_grade serious seriousness_criteria communicable_disease device_involved relatedness_harvest "
    "relatedness_product relatedness_device expected outcome action_taken received_at serious_at "
    "qualified_at triaged_at sandbox version updated_at"
).split()


def export_json(adverse_event: AdverseEvent) -> dict:
    """The whole record, JSON-ready: the event, every change in chain order (with its hash), its
    clocks, and the treatment records' product identification. The patient as on the sheet: the
    case reference, age at onset and sex, never the name."""
    ae = adverse_event
    basis, role, irb_days = protocol_terms(ae.course)
    patient = ae.case.patient
    event = {"id": str(ae.pk)} | {name: plain(getattr(ae, name)) for name in AE_FIELDS}
    event["partner"] = ae.partner.name if ae.partner_id else None
    event["triaged_by"] = ae.triaged_by.get_username() if ae.triaged_by_id else None
    changes = [
        {"id": str(change.pk)} | {name: plain(getattr(change, name)) for name in CHANGE_FIELDS}
        for change in ae.changes.order_by("chain_seq")
    ]
    records = TreatmentRecord.objects.filter(course=ae.course).order_by("session")
    return {
        "exported_at": plain(timezone.now()),
        "case_reference": ae.case.reference,
        "patient": {"age_at_onset": _age_at(patient.birth_date, ae.onset), "sex": patient.sex},
        "course": {"id": str(ae.course_id), "state": ae.course.state, "route": ae.course.route},
        "protocol": (ae.course.protocol or {}) | {"clinic_role": role, "irb_report_days": irb_days}
        if basis
        else None,
        "adverse_event": event,
        "changes": changes,
        "clocks": [_clock_data(row) for row in ae.clocks.order_by("created_at")],
        "treatment_records": [
            {"id": str(record.pk)} | {name: plain(getattr(record, name)) for name in RECORD_FIELDS}
            for record in records
        ],
        "medwatch_form": None if ae.sandbox else form_for(ae),
    }
