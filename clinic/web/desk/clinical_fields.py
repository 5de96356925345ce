"""Rule set v3's intake on the desk's forms: findings, additional conditions, consent by whom, the
minor's assent and breastfeeding (DESIGN.md, rules 3 to 6), with the field types they need."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django import forms
from django.core import validators
from django.core.exceptions import ValidationError
from django.utils import timezone

from intake.clinical import validate_v3_intake
from intake.models import ConsentBy
from intake.text import NotADate, iso_date
from intake.vocabulary.codes import CodeError, clean_icd10, normalize_icd10, not_icd10_message
from intake.vocabulary.conditions import find_codes
from intake.vocabulary.findings import FINDINGS, MAX_STRING, Finding
from intake.vocabulary.findings_display import allowed_text, error_text, label_text, unit_text

MAX_ADDITIONAL = 5
CONSENT_BY_MISSING = "Say who gave consent: the patient, a parent or guardian, or a legal representative."


class IsoDateField(forms.DateField):
    """YYYY-MM-DD in ASCII digits, as the label says: the browser's date input sends it so, and a
    typed 02/04/1961 (February or April?) is refused rather than read one way (intake.text.iso_date)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, date):
            return value
        try:
            return iso_date(str(value).strip())
        except NotADate as exc:
            if exc.calendar:
                raise ValidationError(str(exc), code="invalid") from None
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


YES_NO_UNKNOWN = {True: "yes", False: "no", None: "unknown"}


class LimitedTextField(forms.CharField):
    """Free text with a limit a person sees: the line under the box names it and desk.js turns that
    line into a live count. No maxlength attribute: a browser cuts a paste at it without a word, and counts an
    emoji as two, so a 5,000-character note arrived with 4,875. The server counts characters
    (a line break is one, as the counter counts it) and says by how many the text is too long."""

    def __init__(self, *, max_length: int, **kwargs):
        self.limit = max_length
        super().__init__(max_length=max_length, **kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, validators.MaxLengthValidator)]
        # Shown under the box (desk/_field.html); desk.js turns it into the live count.
        self.limit_text = f"Up to {max_length:,} characters."

    def to_python(self, value):
        # Browsers send line breaks as CR LF: one character each, as the person counted them.
        return super().to_python(value).replace("\r\n", "\n")

    def validate(self, value):
        super().validate(value)
        if len(value) > self.limit:
            over = len(value) - self.limit
            raise ValidationError(
                f"This is {len(value):,} characters; the limit is {self.limit:,}. "
                f"Shorten it by {over:,} character{'s' if over != 1 else ''}: nothing was cut.",
                code="max_length",
            )

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        attrs["data-limit"] = str(self.max_length)
        return attrs


def code_search_message(text: str, error: CodeError) -> str:
    """What is wrong with a condition code box's text: a search that was never turned into a code
    gets the codes it matches, so that the person can pick one without a second search."""
    if normalize_icd10(text) is not None:
        return str(error)  # a code's form, but not in the code set
    shown = text if len(text) <= 60 else f"{text[:57]}…"
    matches = find_codes(text, limit=3)
    if not matches:
        return f"{not_icd10_message(shown)} No code matches these words either: try other words."
    offered = "; ".join(f"{code.code} ({code.descriptor})" for code, _ in matches)
    return f"“{shown}” is not an ICD-10 code but a search. Codes that match it: {offered}. Type or pick one."


class CodeSearchField(forms.CharField):
    """An ICD-10-CM code, typed or picked from a search as the person types words. The box takes
    text of any length (a search such as "osteoarthritis of right knee" is longer than any code);
    what is kept is the code, in canonical form, checked against the code set."""

    def __init__(self, *, search: str | int, **kwargs):
        attrs = {"autocomplete": "off", "spellcheck": "false", "data-code-search": str(search)}
        kwargs.setdefault("widget", forms.TextInput(attrs=attrs))
        super().__init__(**kwargs)
        self.code_search = str(search)
        # The line under the box that names the code typed or picked (its id is what tests find).
        self.match_id = f"condition-match-{search}" if isinstance(search, int) else "condition-match"

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return ""
        try:
            return clean_icd10(text)
        except CodeError as exc:
            raise ValidationError(code_search_message(text, exc), code="invalid") from None


def required_when(form: forms.Form, control: str, value: str, condition: str) -> None:
    """Mark the fields that a choice makes required: their labels say so, and desk.js shows the
    required marker while the choice holds."""
    for name in ("consent_form_version", "consent_by"):
        if name in form.fields:
            form.fields[name].required_when = {"control": control, "value": value, "text": condition}


def three_way_field(label: str, unknown: str, help_text: str = "") -> forms.TypedChoiceField:
    """Yes, no, or a third answer that records nothing (a radio, once clicked, cannot be cleared)."""
    return forms.TypedChoiceField(
        label=label,
        choices=[("yes", "Yes"), ("no", "No"), ("unknown", unknown)],
        coerce=lambda value: {"yes": True, "no": False}.get(value),
        empty_value=None,
        required=False,
        initial="unknown",
        help_text=help_text,
        widget=forms.RadioSelect,
    )


def finding_field(finding: Finding) -> forms.Field:
    """One published finding: typed as text (a number input drops what it cannot read, so a
    mistyped value would vanish instead of being pointed out); the range is checked in clean()."""
    common = dict(label=label_text(finding), required=False, help_text=allowed_text(finding))
    if finding.values is not None:
        choices = [("", "Not given")] + [(f"{v:g}", f"{v:g}") for v in finding.values]
        field = forms.ChoiceField(choices=choices, **common)
    elif finding.type == "date":
        field = IsoDateField(
            widget=forms.DateInput(attrs={"type": "date"}),
            error_messages={"invalid": "Enter the date as YYYY-MM-DD, for example 2026-01-15."},
            **common,
        )
    elif finding.type == "string":
        field = forms.CharField(max_length=MAX_STRING, **common)
    else:
        mode = "numeric" if finding.type == "integer" else "decimal"
        field = forms.CharField(
            max_length=32, widget=forms.TextInput(attrs={"inputmode": mode, "class": "short"}), **common
        )
    field.unit = unit_text(finding)
    field.finding = finding
    return field


def _number(text: str) -> int | float | None:
    try:
        value = Decimal(text.replace(",", ".").strip())
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return int(value) if value == value.to_integral_value() else float(value)


class ClinicalDetailsMixin:
    """Rule set v3's intake on a desk form: findings, additional conditions, consent by whom,
    the minor's assent and breastfeeding. Field names are the desk's; `field_for` maps the
    service's error keys (findings.kl_grade, additional_conditions.0.icd10) onto them."""

    consent_by_required = True

    def add_clinical_fields(self) -> None:
        for finding in FINDINGS:
            if not finding.deprecated:
                self.fields[f"finding_{finding.key}"] = finding_field(finding)
        for n in range(1, MAX_ADDITIONAL + 1):
            self.fields[f"condition_{n}_code"] = CodeSearchField(
                label=f"Additional condition {n} (ICD-10 code)",
                required=False,
                help_text="Type the code, or words to search and pick the code.",
                search=n,
            )
            self.fields[f"condition_{n}_description"] = LimitedTextField(
                label=f"Additional condition {n}: description",
                max_length=500,
                required=False,
                widget=forms.TextInput,
            )
        self.fields["consent_by"] = forms.ChoiceField(
            label="Consent given by",
            choices=ConsentBy.choices,
            required=False,
            widget=forms.RadioSelect,
            help_text="For a minor: a parent, guardian or legal representative.",
        )
        self.fields["assent"] = three_way_field(
            "The minor's own agreement (assent)",
            "Not recorded",
            "Did the minor agree too? “Not recorded” when it was not asked.",
        )
        self.fields["breastfeeding"] = three_way_field("Breastfeeding", "Not asked", "Optional.")
        self._condition_rows: list[int] = []

    @property
    def finding_fields(self):
        return [self[name] for name in self.fields if name.startswith("finding_")]

    @property
    def condition_fields(self):
        return [
            (n, self[f"condition_{n}_code"], self[f"condition_{n}_description"])
            for n in range(1, MAX_ADDITIONAL + 1)
        ]

    def findings(self) -> dict[str, object]:
        """The findings typed, as the contract's JSON values; nothing for an empty input."""
        values: dict[str, object] = {}
        for name, field in self.fields.items():
            if not name.startswith("finding_") or name in self.errors:
                continue
            raw = self.cleaned_data.get(name)
            if raw in (None, ""):
                continue
            finding: Finding = field.finding
            if finding.type == "date":
                values[finding.key] = raw.isoformat()
            elif finding.type == "string":
                values[finding.key] = raw.strip()
            else:
                number = _number(raw)
                if number is None:
                    self.add_error(name, "Enter a number, for example 2 or 2.5.")
                else:
                    values[finding.key] = number
        return values

    def additional_conditions(self) -> list[dict]:
        """The conditions typed, in row order; empty rows are skipped (and remembered, so that an
        error on the n-th condition the service saw lands on its own row)."""
        conditions, self._condition_rows = [], []
        for n in range(1, MAX_ADDITIONAL + 1):
            code_name, text_name = f"condition_{n}_code", f"condition_{n}_description"
            if code_name in self.errors:
                continue  # its field already says what is wrong with the code
            code = self.cleaned_data.get(code_name) or ""  # canonical and in the code set (CodeSearchField)
            text = (self.cleaned_data.get(text_name) or "").strip()
            if not code:
                if text:
                    self.add_error(code_name, "Give this condition's ICD-10 code, or clear its description.")
                continue
            self._condition_rows.append(n)
            conditions.append({"icd10": code, "description": text})
        return conditions

    def field_for(self, key: str) -> str | None:
        """The form field a service error key belongs to, or None for the form as a whole."""
        parts = key.split(".")
        if parts[0] == "findings" and len(parts) == 2:
            name = f"finding_{parts[1]}"
        elif parts[0] == "additional_conditions" and len(parts) == 3 and parts[1].isdigit():
            index = int(parts[1])
            row = self._condition_rows[index] if index < len(self._condition_rows) else index + 1
            name = f"condition_{row}_{'code' if parts[2] == 'icd10' else 'description'}"
        else:
            name = key
        return name if name in self.fields else None

    def add_service_errors(self, exc: ValidationError) -> None:
        for key, errors in exc.message_dict.items():
            name = self.field_for(key)
            if key.startswith("findings."):
                errors = [error_text(key.split(".", 1)[1], error) for error in errors]
            if name is None or name not in self.errors:
                self.add_error(name, errors)

    def check_clinical(self, *, condition_code: str, consent_obtained: bool, anticoagulant: bool | None):
        """The service's own checks of findings, conditions and consent (intake.clinical), run with
        the form's so that every error shows at once; the service checks again when it saves."""
        findings, conditions = self.findings(), self.additional_conditions()
        by = self.cleaned_data.get("consent_by") or ""
        if consent_obtained and not by and self.consent_by_required:
            self.add_error("consent_by", CONSENT_BY_MISSING)
        try:
            validate_v3_intake(
                condition_code=condition_code,
                findings=findings,
                additional_conditions=conditions,
                consent_obtained=consent_obtained,
                consent_by=by if consent_obtained else "",
                anticoagulant_therapy=anticoagulant,
                today=timezone.localdate(),
            )
        except ValidationError as exc:
            self.add_service_errors(exc)
        self.cleaned_data["findings"] = findings
        self.cleaned_data["additional_conditions"] = conditions


def initial_from_case(case) -> dict:
    """The answer form drawn with what the case records, so that the desk corrects rather than retypes."""
    initial: dict[str, object] = {
        "condition_code": case.condition_code,
        "affected_sites": case.affected_sites,
        "consent_form_version": case.consent_form_version,
    }
    for key, value in (case.findings or {}).items():
        initial[f"finding_{key}"] = f"{value:g}" if isinstance(value, float) else value
    for n, item in enumerate(case.additional_conditions or [], start=1):
        initial[f"condition_{n}_code"] = item.get("icd10", "")
        initial[f"condition_{n}_description"] = item.get("description", "")
    return initial
