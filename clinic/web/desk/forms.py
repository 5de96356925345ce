"""Front-desk forms. They check the shape of what was typed; the services decide."""

import uuid
from datetime import date

from django import forms
from django.core.exceptions import ValidationError

from clinic.web.desk.clinical_fields import (
    CONSENT_BY_MISSING,
    ClinicalDetailsMixin,
    CodeSearchField,
    IsoDateField,
    LimitedTextField,
    initial_from_case,
    required_when,
)
from intake.models import CONTRAINDICATION_LABELS, Priority, Sex
from intake.validators import no_invisible_characters
from intake.vocabulary.body_sites import BODY_SITES

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


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label="Find a patient or a case",
        required=False,
        help_text=(
            "Search by name (accents optional: Nguyen finds Nguyễn), birth date (1961-04-02 or "
            "04/02/1961), MRN, a partner's referral reference, or a case reference such as C-2026-000123."
        ),
        max_length=200,
        error_messages={
            "max_length": "Search with at most %(limit_value)d characters; a name or a number is enough."
        },
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


class IntakeForm(ClinicalDetailsMixin, OneTimeKeyForm):
    condition_code = CodeSearchField(
        label="Condition (ICD-10 code)",
        help_text="Type the code, or words to search and pick the code, for example M17.11 or "
        "“osteoarthritis of right knee”.",
        search="main",
    )
    condition_text = LimitedTextField(
        label="Condition description", required=False, max_length=500, widget=forms.TextInput
    )
    affected_sites = forms.MultipleChoiceField(
        label="Affected sites",
        choices=list(BODY_SITES.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    consent_obtained = yes_no_field("Consent obtained")
    consent_form_version = forms.CharField(
        label="Consent form version",
        required=False,
        max_length=32,
        help_text="As printed on the signed form, for example 2026-01.",
    )
    priority = forms.TypedChoiceField(
        label="Priority",
        choices=Priority.choices,
        coerce=int,
        initial=Priority.ROUTINE,
        widget=forms.RadioSelect,
    )
    goals = LimitedTextField(
        label="Goals", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    notes = LimitedTextField(
        label="Notes", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in CONTRAINDICATION_LABELS.items():
            self.fields[name] = yes_no_field(label)
        self.add_clinical_fields()
        required_when(self, "consent_obtained", "yes", "if consent was obtained")
        # The error summary lists the fields in the order the page shows them.
        others = [name for name in self.fields if name.startswith("condition_") and name[10].isdigit()]
        findings = [name for name in self.fields if name.startswith("finding_")]
        self.order_fields(
            ["submission_key", "condition_code", "condition_text", "affected_sites", *others, *findings]
            + [*CONTRAINDICATION_LABELS, "breastfeeding", "consent_obtained", "consent_by"]
            + ["consent_form_version", "assent", "priority", "goals", "notes"]
        )

    def clean(self):
        data = super().clean()
        obtained = bool(data.get("consent_obtained"))
        if obtained and not (data.get("consent_form_version") or "").strip():
            self.add_error("consent_form_version", "Enter the version of the consent form signed.")
        self.check_clinical(
            condition_code=data.get("condition_code") or "",
            consent_obtained=obtained,
            anticoagulant=data.get("anticoagulant_therapy"),
        )
        if not obtained:
            data["consent_by"] = ""  # nobody gave a consent that was not obtained
        return data

    def contraindications(self) -> dict[str, bool]:
        return {name: self.cleaned_data[name] for name in CONTRAINDICATION_LABELS}

    @property
    def contraindication_fields(self):
        return [self[name] for name in CONTRAINDICATION_LABELS]


class AnswerForm(ClinicalDetailsMixin, forms.Form):
    """The desk's answer to a specialist's question; it may also correct or complete the intake.
    Findings merge into those recorded (an empty input changes nothing); the additional
    conditions shown replace the case's list; consent is recorded, never withdrawn."""

    consent_by_required = False

    answer = LimitedTextField(
        label="Your answer",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": "Write the answer to the specialist's question."},
    )
    condition_code = CodeSearchField(
        label="Condition (ICD-10 code)",
        required=False,
        help_text="Type the code, or words to search and pick the code.",
        search="answer",
    )
    affected_sites = forms.MultipleChoiceField(
        label="Affected sites",
        choices=list(BODY_SITES.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    consent_obtained = forms.BooleanField(label="Consent has now been given", required=False)
    consent_form_version = forms.CharField(label="Consent form version", max_length=32, required=False)

    def __init__(self, *args, case=None, **kwargs):
        if case is not None and not kwargs.get("data") and not args:
            kwargs["initial"] = initial_from_case(case)
        super().__init__(*args, **kwargs)
        self.add_clinical_fields()
        self.fields["breastfeeding"].help_text = "Optional; “Not asked” keeps what is recorded."
        self.fields["assent"].help_text = "For a patient under 18; “Not recorded” keeps what is recorded."
        self.fields[
            "consent_by"
        ].help_text = "A minor's consent comes from a parent, guardian or legal representative."
        required_when(self, "consent_obtained", "on", "if you record consent now")
        self.case = case

    def clean(self):
        data = super().clean()
        consenting = bool(data.get("consent_obtained"))
        if consenting and not (data.get("consent_form_version") or "").strip():
            self.add_error("consent_form_version", "Enter the version of the consent form signed.")
        if consenting and not data.get("consent_by"):
            self.add_error("consent_by", CONSENT_BY_MISSING)
        code = data.get("condition_code") or (self.case.condition_code if self.case else "")
        self.check_clinical(
            condition_code=code,
            consent_obtained=consenting or bool(self.case and self.case.consent_obtained),
            anticoagulant=self.case.anticoagulant_therapy if self.case else None,
        )
        return data

    def consent(self) -> dict | None:
        """The answer's consent object, or None when it records none."""
        data = self.cleaned_data
        if not data.get("consent_obtained") and data.get("assent") is None:
            return None
        return {
            "obtained": bool(data.get("consent_obtained")),
            "by": data.get("consent_by") if data.get("consent_obtained") else "",
            "form_version": data.get("consent_form_version") or "",
            "assent": data.get("assent"),
        }

    def answers(self) -> dict[str, bool]:
        """Breastfeeding, when answered now (the other contraindications are not asked again)."""
        value = self.cleaned_data.get("breastfeeding")
        return {} if value is None else {"breastfeeding": value}


class WithdrawForm(forms.Form):
    reason = LimitedTextField(
        label="Reason for withdrawing",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="Kept in the case's permanent record.",
        error_messages={"required": "Say why the case is withdrawn."},
    )
    # Sent by the confirmation page only: the first post shows what withdrawing does.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class DismissContactForm(forms.Form):
    reason = LimitedTextField(
        label="Why not (optional)",
        required=False,
        max_length=500,
        widget=forms.TextInput,
    )
