"""Front-desk forms. They check the shape of what was typed; the services decide."""

import uuid
from datetime import date

from django import forms
from django.core.exceptions import ValidationError

from intake.models import CONTRAINDICATION_LABELS, Priority, Sex
from intake.text import NotADate, iso_date
from intake.validators import no_invisible_characters
from intake.vocabulary.body_sites import BODY_SITES
from intake.vocabulary.codes import CodeError, clean_icd10

YES_NO = [("yes", "Yes"), ("no", "No")]


def yes_no_field(label: str) -> forms.TypedChoiceField:
    """An explicit yes/no with no default: a missing answer is an error, never a silent no."""
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Answer yes or no."},
    )


class OneTimeKeyForm(forms.Form):
    """Carries a token minted when the page was drawn, so a double click, a resubmit
    or the back button cannot save the same thing twice."""

    submission_key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": "This form is out of date: reload the page and enter it again.",
            "invalid": "This form is out of date: reload the page and enter it again.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4())


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


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label="Find a patient or a case",
        required=False,
        help_text="Name, birth date (YYYY-MM-DD), MRN, or a case reference such as C-2026-000123",
        max_length=100,
    )


class NewPatientForm(OneTimeKeyForm):
    given_name = forms.CharField(label="Given name", max_length=100, validators=[no_invisible_characters])
    family_name = forms.CharField(label="Family name", max_length=100, validators=[no_invisible_characters])
    birth_date = IsoDateField(
        label="Birth date",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter the date as YYYY-MM-DD, for example 1961-04-02."},
    )
    sex = forms.ChoiceField(label="Sex", choices=Sex.choices, widget=forms.RadioSelect)
    phone = forms.CharField(
        label="Phone",
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(label="Email", required=False)
    mrn = forms.CharField(
        label="MRN",
        required=False,
        max_length=32,
        help_text="Leave empty and one is issued.",
        validators=[no_invisible_characters],
    )
    confirm_new = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_birth_date(self) -> date:
        value = self.cleaned_data["birth_date"]
        if value > date.today():
            raise ValidationError("The birth date is in the future.")
        if value.year < 1900:
            raise ValidationError("The birth date is before 1900; check the year.")
        return value

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        digits = sum(ch.isdigit() for ch in value)
        if value and (digits < 6 or any(ch not in "+0123456789 ()-" for ch in value)):
            raise ValidationError("Enter digits with an optional leading +, for example +15551234567.")
        return value


class IntakeForm(OneTimeKeyForm):
    condition_code = forms.CharField(
        label="Condition (ICD-10 code)",
        max_length=16,
        help_text="Type a code or words to search, for example M17.11 or knee.",
        widget=forms.TextInput(attrs={"list": "condition-options", "autocomplete": "off"}),
    )
    condition_text = forms.CharField(label="Condition description", required=False, max_length=500)
    affected_sites = forms.MultipleChoiceField(
        label="Affected sites",
        choices=list(BODY_SITES.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    consent_obtained = yes_no_field("Consent obtained")
    consent_form_version = forms.CharField(label="Consent form version", required=False, max_length=32)
    priority = forms.TypedChoiceField(
        label="Priority",
        choices=Priority.choices,
        coerce=int,
        initial=Priority.ROUTINE,
        widget=forms.RadioSelect,
    )
    goals = forms.CharField(
        label="Goals", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    notes = forms.CharField(
        label="Notes", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in CONTRAINDICATION_LABELS.items():
            self.fields[name] = yes_no_field(label)

    def clean_condition_code(self) -> str:
        try:
            return clean_icd10(self.cleaned_data["condition_code"])
        except CodeError as exc:
            raise ValidationError(f"{exc} Type words to search.") from None

    def clean(self):
        data = super().clean()
        if data.get("consent_obtained") and not (data.get("consent_form_version") or "").strip():
            self.add_error("consent_form_version", "Enter the version of the consent form signed.")
        return data

    def contraindications(self) -> dict[str, bool]:
        return {name: self.cleaned_data[name] for name in CONTRAINDICATION_LABELS}

    @property
    def contraindication_fields(self):
        return [self[name] for name in CONTRAINDICATION_LABELS]


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label="Your answer",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": "Write the answer to the specialist's question."},
    )
    condition_code = forms.CharField(label="Condition (ICD-10 code)", max_length=16, required=False)
    affected_sites = forms.MultipleChoiceField(
        label="Affected sites",
        choices=list(BODY_SITES.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    consent_obtained = forms.BooleanField(label="The patient has now signed the consent form", required=False)
    consent_form_version = forms.CharField(label="Consent form version", max_length=32, required=False)

    def clean(self):
        data = super().clean()
        if data.get("consent_obtained") and not (data.get("consent_form_version") or "").strip():
            self.add_error("consent_form_version", "Enter the version of the consent form signed.")
        return data


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Reason for withdrawing",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={"required": "Say why the case is withdrawn."},
    )
