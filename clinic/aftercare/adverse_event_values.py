"""What an adverse-event report, a partner's update and the clinic's assessment may hold: each value
checked, with a message a person can act on, keyed by the contract's field names (DESIGN.md,
"Adverse events" and "Partner reports"). Seriousness is never derived from the grade; the checks
across fields only say what is inconsistent and how to make it consistent."""

from datetime import UTC, date, datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.aftercare.vocabulary import (
    AdverseEventOutcome,
    AdverseEventSource,
    Relatedness,
    ReporterQualification,
    SeriousnessCriterion,
)
from intake.text import NotADate, invisible_characters_message, iso_date

TEXT_LIMIT = 5000
ID_LIMIT = 100
NAME_LIMIT = 200  # reporter.name, as the contract and the serializer allow
HEALTH_PROFESSIONALS = ("physician", "pharmacist", "other_health_professional")
# The clinic's own assessment: never sent by a partner; staff may give it with their report.
ASSESSMENT_ONLY = (
    "communicable_disease",
    "device_involved",
    "relatedness_harvest",
    "relatedness_product",
    "relatedness_device",
    "expected",
)


class _Bad(Exception):
    pass


def _listing(values) -> str:
    return ", ".join(str(value) for value in values)


def plain(value):
    """A value as the change row's JSON holds it (the same before and after it is read back)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _text(value, *, required: bool, limit: int, what: str, field: str) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _Bad(f"Give {field} as text: {what}.")
    value = value.strip()
    if "\x00" in value:
        # PostgreSQL cannot store it: without this a patient's flag or a desk form would end in a 500.
        raise _Bad(f"{field} holds a NUL character, which cannot be stored; remove it and send it again.")
    if required and not value:
        raise _Bad(f"Fill in {field}: {what} (up to {limit} characters).")
    if len(value) > limit:
        raise _Bad(f"{field} is {len(value)} characters long; shorten it to at most {limit}.")
    return value


def text(value, field: str, *, required: bool, limit: int, what: str) -> str:
    """A free-text value, stripped; ValidationError({field: [...]}) when missing or too long."""
    try:
        return _text(value, required=required, limit=limit, what=what, field=field)
    except _Bad as bad:
        raise ValidationError({field: [str(bad)]}) from None


def _identifier(value, *, field: str, what: str, limit: int = ID_LIMIT) -> str:
    value = _text(value, required=True, limit=limit, what=what, field=field)
    if message := invisible_characters_message(value):
        raise _Bad(message)
    return value


def _onset(value, *, decided_on: date) -> date:
    if value is None or value == "":
        raise _Bad("Give the onset, the date the event began, as YYYY-MM-DD (for example 2026-11-03).")
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    elif not isinstance(value, date):
        try:
            value = iso_date(value)
        except NotADate as error:
            raise _Bad(f"Write the onset as YYYY-MM-DD, for example 2026-11-03 ({error}).") from None
    today = timezone.localdate()
    if value < decided_on or value > today:
        raise _Bad(
            f"Give the onset as a date on or after the decision ({decided_on:%Y-%m-%d}), not in the future "
            f"(today is {today:%Y-%m-%d})."
        )
    return value


def _grade(value) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise _Bad(
            "Give ctcae_grade, the CTCAE v5.0 grade, as a whole number from 1 to 5 (1 mild, 2 moderate, "
            "3 severe, 4 life-threatening, 5 death related to the event)."
        )
    return value


def _boolean(value, *, field: str, what: str) -> bool:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        value = value.strip().lower() == "true"
    if not isinstance(value, bool):
        raise _Bad(f"Give {field} as true or false: {what}.")
    return value


def _maybe_boolean(value, *, field: str, what: str) -> bool | None:
    return None if value is None or value == "" else _boolean(value, field=field, what=what)


def _criteria(value) -> list[str]:
    codes = SeriousnessCriterion.values
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(code, str) for code in value):
        raise _Bad(
            'Give seriousness_criteria as a list of codes, for example ["hospitalization"], and an empty '
            f"list when the event is not serious. The codes: {_listing(codes)}."
        )
    unknown = [code for code in value if code not in codes]
    if unknown:
        raise _Bad(f"Unknown seriousness criterion {_listing(unknown)}: use {_listing(codes)}.")
    return list(dict.fromkeys(value))


def _choice(value, *, field: str, choices, default: str | None) -> str:
    if (value is None or value == "") and default is not None:
        return default
    if value not in choices.values:
        raise _Bad(f"Choose {field} from {_listing(choices.values)}.")
    return str(value)


class _Collector:
    """Runs each check, keeps the value, and gathers every field's message before raising."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def take(self, key: str, check, /, *args, **kwargs):
        try:
            return check(*args, **kwargs)
        except _Bad as bad:
            self.errors.setdefault(key, []).append(str(bad))
            return None

    def raise_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def coherence_errors(state: dict) -> dict[str, list[str]]:
    """What contradicts itself across fields: criteria exactly when serious; grade 5 and death."""
    serious, criteria = state.get("serious"), list(state.get("seriousness_criteria") or [])
    grade, outcome = state.get("ctcae_grade"), state.get("outcome")
    errors: dict[str, list[str]] = {}
    if serious is True and not criteria:
        errors["seriousness_criteria"] = [
            "A serious event needs at least one seriousness criterion: choose from "
            f"{_listing(SeriousnessCriterion.values)}, or set serious to false."
        ]
    elif serious is not True and criteria:
        errors["seriousness_criteria"] = [
            "Seriousness criteria belong to a serious event: set serious to true, or send an empty list."
        ]
    if grade == 5 and (outcome != AdverseEventOutcome.FATAL or "death" not in criteria):
        errors["ctcae_grade"] = [
            "Grade 5 is death related to the event: set outcome to fatal and serious to true with the "
            "criterion death, or choose a grade from 1 to 4."
        ]
    elif outcome == AdverseEventOutcome.FATAL and "death" not in criteria:
        errors["outcome"] = [
            "A fatal outcome makes the event serious with the criterion death: add death to "
            "seriousness_criteria (serious true), or choose another outcome."
        ]
    elif "death" in criteria and outcome != AdverseEventOutcome.FATAL:
        errors["outcome"] = [
            "The criterion death needs outcome fatal: set outcome to fatal, or remove death."
        ]
    return errors


def _reporter(values: dict, got: _Collector, *, source: str) -> tuple[str, str]:
    reporter = values.get("reporter")
    reporter = reporter if isinstance(reporter, dict) else {}
    name = reporter.get("name", values.get("reporter.name"))
    qualification = reporter.get("qualification", values.get("reporter.qualification"))
    if source == AdverseEventSource.PATIENT:
        return "", ReporterQualification.PATIENT
    partner = source == AdverseEventSource.PARTNER
    if partner or name:
        name = got.take(
            "reporter.name",
            _identifier,
            name,
            field="reporter.name",
            what="who reported it to you",
            limit=NAME_LIMIT,
        )
    if partner or qualification:
        qualification = got.take(
            "reporter.qualification",
            _choice,
            qualification,
            field="reporter.qualification",
            choices=ReporterQualification,
            default=None,
        )
    return name or "", qualification or ""


def clean_report_values(values: dict, *, source: str, decided_on: date) -> dict:
    """A report's values under the model's names. A partner sends external_id, the grade, seriousness,
    outcome and reporter; staff need not name a reporter; a patient gives a description and onset."""
    got = _Collector()
    out: dict = {}
    if source == AdverseEventSource.PARTNER:
        what = "your own id for this report (unique among your reports), so a retry is recognised"
        out["external_id"] = got.take(
            "external_id", _identifier, values.get("external_id"), field="external_id", what=what
        )
    out["onset"] = got.take("onset", _onset, values.get("onset"), decided_on=decided_on)
    out["description"] = got.take(
        "description",
        _text,
        values.get("description"),
        required=True,
        limit=TEXT_LIMIT,
        what="what happened",
        field="description",
    )
    if source != AdverseEventSource.PATIENT:
        out["ctcae_grade"] = got.take("ctcae_grade", _grade, values.get("ctcae_grade"))
        out["serious"] = got.take(
            "serious",
            _boolean,
            values.get("serious"),
            field="serious",
            what="whether a seriousness criterion applies (the grade never decides it)",
        )
        out["seriousness_criteria"] = got.take(
            "seriousness_criteria", _criteria, values.get("seriousness_criteria")
        )
        required_outcome = source == AdverseEventSource.PARTNER
        out["outcome"] = got.take(
            "outcome",
            _choice,
            values.get("outcome"),
            field="outcome",
            choices=AdverseEventOutcome,
            default=None if required_outcome else AdverseEventOutcome.UNKNOWN,
        )
        out["action_taken"] = got.take(
            "action_taken",
            _text,
            values.get("action_taken"),
            required=False,
            limit=TEXT_LIMIT,
            what="what was done about it",
            field="action_taken",
        )
        out["relatedness_opinion"] = got.take(
            "relatedness_opinion",
            _choice,
            values.get("relatedness_opinion"),
            field="relatedness_opinion (WHO-UMC, optional)",
            choices=Relatedness,
            default="",
        )
    out["reporter_name"], out["reporter_qualification"] = _reporter(values, got, source=source)
    if source == AdverseEventSource.STAFF:
        given = {name: values[name] for name in ASSESSMENT_ONLY if name in values}
        try:
            out |= clean_assessment(given)
        except ValidationError as error:
            got.errors.update(error.message_dict)
    got.raise_any()
    if source != AdverseEventSource.PATIENT and (errors := coherence_errors(out)):
        raise ValidationError(errors)
    return out


def clean_assessment(values: dict) -> dict:
    """The clinic's assessment: only the fields given, each checked (an unknown name is refused)."""
    got = _Collector()
    out: dict = {}
    for name, value in values.items():
        if name == "ctcae_grade":
            out[name] = got.take(name, _grade, value)
        elif name == "serious":
            out[name] = got.take(
                name, _boolean, value, field=name, what="whether a seriousness criterion applies"
            )
        elif name == "seriousness_criteria":
            out[name] = got.take(name, _criteria, value)
        elif name in ("communicable_disease", "expected"):
            what = "leave it empty while not assessed"
            out[name] = got.take(name, _maybe_boolean, value, field=name, what=what)
        elif name == "device_involved":
            out[name] = got.take(
                name, _boolean, value, field=name, what="whether a medical device was involved"
            )
        elif name in ("relatedness_harvest", "relatedness_product", "relatedness_device"):
            out[name] = got.take(name, _choice, value, field=name, choices=Relatedness, default="")
        elif name == "outcome":
            out[name] = got.take(name, _choice, value, field=name, choices=AdverseEventOutcome, default=None)
        elif name == "action_taken":
            what = "what was done about it"
            out[name] = got.take(name, _text, value, required=False, limit=TEXT_LIMIT, what=what, field=name)
        else:
            got.errors[name] = [f"{name} is not part of an adverse event's assessment; leave it out."]
    got.raise_any()
    return out


def clean_update_values(values: dict, *, current) -> tuple[dict, str]:
    """A partner's update, checked as on the report and against the event as it stands: (the fields
    that change, with external_id; the note)."""
    got = _Collector()
    out: dict = {}
    what = "your own id for this update (unique on this report), so a retry is recognised"
    out["external_id"] = got.take(
        "external_id", _identifier, values.get("external_id"), field="external_id", what=what
    )
    given = [name for name in ("outcome", "ctcae_grade", "serious", "seriousness_criteria") if name in values]
    if "ctcae_grade" in given:
        out["ctcae_grade"] = got.take("ctcae_grade", _grade, values["ctcae_grade"])
    if "serious" in given:
        what = "whether a seriousness criterion applies"
        out["serious"] = got.take("serious", _boolean, values["serious"], field="serious", what=what)
        if out["serious"] is False and current.serious is True:
            got.errors["serious"] = [
                "This event is recorded as serious; only the clinic's staff can decide it no longer is. "
                "Send your reasons in note instead."
            ]
    if "seriousness_criteria" in given:
        out["seriousness_criteria"] = got.take(
            "seriousness_criteria", _criteria, values["seriousness_criteria"]
        )
    if "outcome" in given:
        out["outcome"] = got.take(
            "outcome", _choice, values["outcome"], field="outcome", choices=AdverseEventOutcome, default=None
        )
    note = got.take(
        "note",
        _text,
        values.get("note"),
        required=False,
        limit=TEXT_LIMIT,
        what="the new information",
        field="note",
    )
    if not given and not note and "note" not in got.errors:
        got.errors["note"] = [
            "Send at least one of outcome, ctcae_grade, serious, seriousness_criteria or note."
        ]
    got.raise_any()
    state = {
        name: getattr(current, name) for name in ("serious", "seriousness_criteria", "ctcae_grade", "outcome")
    }
    if errors := coherence_errors(state | out):
        raise ValidationError(errors)
    changed = {
        name: value for name, value in out.items() if name == "external_id" or getattr(current, name) != value
    }
    return changed, note or ""
