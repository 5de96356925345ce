"""The adverse-event page's forms: the specialist's assessment, triage, and a recorded submission.
They only read what was typed; the rules are the services' (clinic.aftercare.adverse_events)."""

from django import forms
from django.utils import timezone

from clinic.aftercare.models import AdverseEvent
from clinic.aftercare.vocabulary import AdverseEventOutcome, Relatedness, SeriousnessCriterion

# CTCAE v5.0's general description of each grade (severity, never seriousness).
CTCAE_GRADES = [
    (
        1,
        "Grade 1: mild; asymptomatic or mild symptoms; clinical or diagnostic observations only; "
        "intervention not indicated",
    ),
    (
        2,
        "Grade 2: moderate; minimal, local or noninvasive intervention indicated; limiting "
        "age-appropriate instrumental activities of daily living",
    ),
    (
        3,
        "Grade 3: severe or medically significant but not immediately life-threatening; "
        "hospitalization or prolongation of hospitalization indicated; disabling; limiting self-care",
    ),
    (4, "Grade 4: life-threatening consequences; urgent intervention indicated"),
    (5, "Grade 5: death related to the adverse event"),
]
NOT_ASSESSED = ("", "Not assessed yet")
YES_NO = [NOT_ASSESSED, ("yes", "Yes"), ("no", "No")]
WHO_UMC = [("", "Not assessed yet"), *Relatedness.choices]

# What "serious" means under each basis (DESIGN.md, "Adverse events").
SERIOUS_DEFINITION = {
    "ind": "21 CFR 312.32(a)",
    "approved_product": "21 CFR 600.80(a)",
    "minimal_manipulation_homologous": "21 CFR 1271.350(a): fatal, life-threatening, permanent "
    "impairment or damage, or medical or surgical intervention (hospitalization included)",
}
CLINIC_STANDARD = "21 CFR 312.32(a), the clinic's standard (this basis has no regulatory definition)"
# What "expected" is judged against (DESIGN.md).
EXPECTEDNESS_REFERENCE = {
    "ind": "the investigator's brochure",
    "approved_product": "the US prescribing information",
}
CONSENT_RISKS = "the protocol's consent risk list"


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _yes_no_field(label: str, help_text: str = "") -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        empty_value=None,
        required=False,
        help_text=help_text,
    )


class AssessmentForm(forms.Form):
    """The clinic's assessment, submitted with the version of the event it was made on."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    ctcae_grade = forms.TypedChoiceField(
        label="CTCAE v5.0 grade (severity)",
        choices=[("", "Not graded yet"), *CTCAE_GRADES],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        help_text="Severity only: whether it is serious is answered below, never derived from the grade.",
    )
    serious = _yes_no_field("Serious")
    seriousness_criteria = forms.MultipleChoiceField(
        label="Seriousness criteria",
        choices=SeriousnessCriterion.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    communicable_disease = _yes_no_field("Involves a communicable disease")
    device_involved = forms.BooleanField(label="A medical device was involved", required=False)
    # Under the heading "Relatedness (WHO-UMC), per suspect".
    relatedness_harvest = forms.ChoiceField(label="The harvest procedure", choices=WHO_UMC, required=False)
    relatedness_product = forms.ChoiceField(label="The product", choices=WHO_UMC, required=False)
    relatedness_device = forms.ChoiceField(label="The device", choices=WHO_UMC, required=False)
    expected = _yes_no_field("Expected")
    outcome = forms.ChoiceField(label="Outcome", choices=AdverseEventOutcome.choices)
    action_taken = forms.CharField(
        label="Action taken", widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000
    )

    FIELDS = (
        "ctcae_grade",
        "serious",
        "seriousness_criteria",
        "communicable_disease",
        "device_involved",
        "relatedness_harvest",
        "relatedness_product",
        "relatedness_device",
        "expected",
        "outcome",
        "action_taken",
    )

    @classmethod
    def of(cls, event: AdverseEvent) -> "AssessmentForm":
        """The form filled with the event as it stands now."""
        initial = {name: getattr(event, name) for name in cls.FIELDS}
        for name in ("serious", "communicable_disease", "expected"):
            initial[name] = _yes_no(initial[name])
        return cls(initial={**initial, "version": event.version}, basis=_basis(event))

    def __init__(self, *args, basis: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        definition = SERIOUS_DEFINITION.get(basis, CLINIC_STANDARD)
        self.fields["serious"].help_text = f"As defined by {definition}."
        reference = EXPECTEDNESS_REFERENCE.get(basis, CONSENT_RISKS)
        self.fields["expected"].help_text = f"Against {reference}."

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


def _basis(event: AdverseEvent) -> str:
    return (event.course.protocol or {}).get("basis", "")


def assessment_form(event: AdverseEvent, data=None) -> AssessmentForm:
    return AssessmentForm(data, basis=_basis(event)) if data is not None else AssessmentForm.of(event)


class TriageForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        choices=[("confirm", "Confirm: an adverse event"), ("dismiss", "Dismiss: not an adverse event")],
        error_messages={"required": "Choose whether to confirm or dismiss the report."},
    )
    note = forms.CharField(
        label="Note (why)", widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=5000
    )


class SubmissionForm(forms.Form):
    """A report the clinic made outside this software (the software submits nothing)."""

    submitted_at = forms.DateTimeField(
        label="Submitted on",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        error_messages={"required": "Give the date and time the report was submitted."},
    )
    recipient = forms.CharField(
        label="Submitted to",
        max_length=200,
        error_messages={"required": "Name who the report was submitted to (FDA, the sponsor, the IRB...)."},
    )
    reference = forms.CharField(
        label="Their reference",
        max_length=200,
        error_messages={"required": "Give the reference the recipient gave (a case or receipt number)."},
    )

    @staticmethod
    def prefix_of(clock_id) -> str:
        # One form per clock on the page: each its own field ids.
        return f"clock-{clock_id}"

    @classmethod
    def of(cls, clock, data=None) -> "SubmissionForm":
        if data is not None:
            return cls(data, prefix=cls.prefix_of(clock.pk))
        now = timezone.localtime().replace(second=0, microsecond=0)
        initial = {"recipient": clock.recipient, "submitted_at": now}
        return cls(initial=initial, prefix=cls.prefix_of(clock.pk))
