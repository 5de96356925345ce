"""The desk's forms after the decision: the treatment record entered for its performer, a staff
report of an adverse event, a recorded submission (the course's own: clinic.web.desk.course_forms).
They check the shape of what was typed, in words a person can act on; the services decide
(clinic.aftercare), and the views put their errors on the fields."""

import re
from datetime import date, datetime, time

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.aftercare.vocabulary import (
    AdverseEventOutcome,
    ImageGuidance,
    PerformerRole,
    ProductSource,
    Relatedness,
    SeriousnessCriterion,
)
from clinic.web.desk.aftercare_display import CTCAE_GRADES, LABEL_LEGENDS, ROUTE_LABELS
from clinic.web.desk.clinical_fields import IsoDateField, LimitedTextField, three_way_field
from clinic.web.desk.forms import OneTimeKeyForm, yes_no_field
from intake.roles import SPECIALISTS
from intake.validators import no_invisible_characters
from intake.vocabulary.body_sites import BODY_SITES

ROUTES = list(ROUTE_LABELS.items())
DATE_INVALID = "Enter the date as YYYY-MM-DD, for example 2026-11-05."
TIME_INVALID = "Enter the time as HH:MM on a 24-hour clock, for example 09:30."


def date_field(label: str, **kwargs) -> IsoDateField:
    return IsoDateField(
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": DATE_INVALID, "required": f"Enter the {label.lower()}."},
        **kwargs,
    )


def time_field(label: str, **kwargs) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        input_formats=["%H:%M", "%H:%M:%S"],
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": TIME_INVALID, "required": f"Enter the {label.lower()}."},
        **kwargs,
    )


def text_field(label: str, max_length: int, **kwargs) -> forms.CharField:
    kwargs.setdefault("error_messages", {"required": f"Enter the {label[0].lower()}{label[1:]}."})
    return forms.CharField(label=label, max_length=max_length, validators=[no_invisible_characters], **kwargs)


def aware(day: date, at: time) -> datetime:
    """The clinic's local date and time as an aware datetime (TIME_ZONE)."""
    return timezone.make_aware(datetime.combine(day, at))


def local_parts(moment: datetime | None) -> tuple[date | None, str]:
    if moment is None:
        return None, ""
    local = timezone.localtime(moment)
    return local.date(), local.strftime("%H:%M")


class NumberField(forms.CharField):
    """A number typed as text (a number input silently drops what it cannot read), its unit beside
    the box. Thousands separators go (1,200,000,000), a decimal comma becomes a point (92,5); the
    service checks the number and its range and says what to type."""

    def __init__(self, *, unit: str, integer: bool, **kwargs):
        attrs = {"inputmode": "numeric" if integer else "decimal", "class": "short", "autocomplete": "off"}
        kwargs.setdefault("required", False)
        super().__init__(max_length=40, widget=forms.TextInput(attrs=attrs), **kwargs)
        self.unit, self.integer = unit, integer

    def clean(self, value):
        text = super().clean(value).replace("\u00a0", "").replace(" ", "")
        if self.integer:
            text = text.replace(",", "")
        elif re.fullmatch(r"\d+,\d+", text):
            text = text.replace(",", ".")
        return text or None


def performers():
    """Who may sign a treatment record: active specialists with a signing profile."""
    users = get_user_model().objects.filter(
        is_active=True, groups__name=SPECIALISTS, specialist_profile__isnull=False
    )
    return users.exclude(specialist_profile__full_name="").exclude(specialist_profile__credentials="")


class PerformerField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return str(obj.specialist_profile)


class TreatmentEntryForm(OneTimeKeyForm):
    session = forms.IntegerField(
        label="Session number",
        min_value=1,
        max_value=50,
        help_text="1 for the first session; a staged plan has one record per session.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "short"}),
        error_messages={
            "required": "Enter the session number, 1 for the first.",
            "invalid": "Enter the session as a whole number, for example 1.",
            "min_value": "Sessions count from 1.",
            "max_value": "Enter a session number up to 50.",
        },
    )
    performer = PerformerField(
        label="Performed by",
        queryset=get_user_model().objects.none(),
        empty_label="Choose the clinician",
        help_text="The clinician who gave the treatment; only they can sign the record.",
        error_messages={
            "required": "Choose the clinician who gave the treatment.",
            "invalid_choice": "Choose a clinician from the list; they need a signing profile.",
        },
    )
    performer_role = forms.ChoiceField(
        label="Performer's role",
        choices=PerformerRole.choices,
        initial=PerformerRole.PHYSICIAN,
        widget=forms.RadioSelect,
        help_text="Partners see the role, never the name.",
    )
    administered_date = date_field("Date given")
    administered_time = time_field("Time given", help_text="24-hour clock, for example 09:30.")
    route = forms.ChoiceField(label="Route", choices=ROUTES, widget=forms.RadioSelect)
    route_reason = LimitedTextField(
        label="Why another route than the decision's",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    sites = forms.MultipleChoiceField(
        label="Sites treated",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Tick only sites the decision names."},
    )
    image_guidance = forms.ChoiceField(
        label="Image guidance", choices=ImageGuidance.choices, widget=forms.RadioSelect
    )
    product_kind = text_field(
        "Product given", 200, help_text="What was given, for example “Bone marrow aspirate concentrate”."
    )
    product_source = forms.ChoiceField(
        label="Whose cells", choices=ProductSource.choices, widget=forms.RadioSelect
    )
    processing_facility = text_field(
        "Processing facility", 200, help_text="Where the product was processed, as on its label."
    )
    lot = text_field("Lot number", 100, help_text="As printed on the product label.")
    distinct_code = text_field(
        "Distinct identification code",
        100,
        help_text="The code on the product label; never the patient's name, MRN or birth date.",
    )
    label_legends = forms.MultipleChoiceField(
        label="Label legends on the product",
        required=False,
        choices=LABEL_LEGENDS,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick each legend printed on the label (21 CFR 1271.90(c)).",
    )
    dose_tnc = NumberField(
        label="Total nucleated cells",
        unit="cells",
        integer=True,
        help_text="Optional. For example 1200000000 or 1.2e9.",
    )
    viability_percent = NumberField(label="Viability", unit="%", integer=False, help_text="Optional.")
    volume_ml = NumberField(
        label="Volume given",
        unit="mL",
        integer=False,
        required=True,
        error_messages={"required": "Enter the volume given in mL, for example 6."},
    )
    notes = LimitedTextField(
        label="Notes", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, course=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.course = course
        self.fields["performer"].queryset = performers().select_related("specialist_profile")
        decision_sites = list(course.decision.sites) if course is not None else []
        self.fields["sites"].choices = [(code, BODY_SITES.get(code, code)) for code in decision_sites]
        self.fields["sites"].help_text = "Among the sites named in the decision."
        route = course.route if course is not None else ""
        other = next((code for code, _ in ROUTES if code != route), "")
        self.fields[
            "route"
        ].help_text = f"The decision's route is preselected: {dict(ROUTES).get(route, route)}."
        self.fields["route_reason"].required_when = {
            "control": "route",
            "value": other,
            "text": "if the route differs from the decision's",
        }
        if not self.is_bound:
            self.initial.setdefault("route", route)
            self.initial.setdefault("sites", decision_sites)
            self.initial.setdefault("session", 1)

    @property
    def has_sites(self) -> bool:
        return bool(self.fields["sites"].choices)

    def clean(self):
        data = super().clean()
        if data.get("administered_date") and data.get("administered_date") > timezone.localdate():
            self.add_error(
                "administered_date", "The treatment cannot be given in the future: check the date."
            )
        return data

    def values(self) -> dict:
        """The service's values (TREATMENT_FIELDS) from the valid form."""
        data = self.cleaned_data
        names = ("session", "performer_role", "route", "route_reason", "sites", "image_guidance")
        names += ("product_kind", "product_source", "processing_facility", "lot", "distinct_code")
        names += ("label_legends", "dose_tnc", "viability_percent", "volume_ml", "notes")
        values = {name: data[name] for name in names}
        values["performer"] = data["performer"].pk
        values["administered_at"] = aware(data["administered_date"], data["administered_time"])
        return values

    @classmethod
    def initial_of(cls, entry) -> dict:
        """A saved, unsigned entry as the form's initial values."""
        day, at = local_parts(entry.administered_at)
        names = [name for name in cls.base_fields if hasattr(entry, name)]
        initial = {name: getattr(entry, name) for name in names if name != "performer"}
        initial.update(performer=entry.performer_id, administered_date=day, administered_time=at)
        return initial


def relatedness_field(label: str) -> forms.ChoiceField:
    help_text = "WHO-UMC: certain, probable and possible count as a reasonable possibility."
    choices = [("", "Not assessed yet"), *Relatedness.choices]
    return forms.ChoiceField(label=label, choices=choices, required=False, help_text=help_text)


class AdverseEventForm(OneTimeKeyForm):
    onset = date_field(
        "Onset date", help_text="The day it began: from the decision's date on, not in the future."
    )

    description = LimitedTextField(
        label="What happened",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Signs, symptoms, tests and treatment given, in plain words.",
        error_messages={"required": "Describe what happened."},
    )
    ctcae_grade = forms.TypedChoiceField(
        label="Severity (CTCAE v5.0 grade)",
        choices=CTCAE_GRADES,
        coerce=int,
        widget=forms.RadioSelect,
        help_text="How severe it is, not whether it is serious: seriousness is asked below.",
        error_messages={"required": "Choose the grade, 1 to 5."},
    )
    serious = yes_no_field("Serious")
    seriousness_criteria = forms.MultipleChoiceField(
        label="What makes it serious",
        required=False,
        choices=SeriousnessCriterion.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick each that applies when it is serious; leave all unticked when it is not.",
    )
    communicable_disease = three_way_field(
        "Involves a communicable disease",
        "Not known yet",
        "For example an infection passed on by the product.",
    )
    device_involved = yes_no_field("A medical device was involved")
    outcome = forms.ChoiceField(
        label="Outcome so far",
        choices=AdverseEventOutcome.choices,
        initial=AdverseEventOutcome.UNKNOWN,
        widget=forms.RadioSelect,
    )
    action_taken = LimitedTextField(
        label="Action taken",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional. For example “admitted for observation; antibiotics started”.",
    )
    # A clinician's assessment, when one is made with the report (else in the review desk): what
    # makes an IND safety report due (21 CFR 312.32(c)) counts from it.
    expected = three_way_field(
        "Expected",
        "Not assessed yet",
        "Listed in the protocol's reference (brochure, label or consent risks)?",
    )
    relatedness_product = relatedness_field("Caused by the product?")
    relatedness_harvest = relatedness_field("Caused by the harvest?")

    def clean(self):
        # The service says the same in the contract's words; here they are the form's.
        data = super().clean()
        if data.get("onset") and data["onset"] > timezone.localdate():
            self.add_error("onset", "The onset cannot be in the future: give the day it began.")
        serious, criteria = data.get("serious"), data.get("seriousness_criteria") or []
        if serious is True and not criteria:
            self.add_error("seriousness_criteria", "Tick what makes it serious, or answer No to “Serious”.")
        elif serious is False and criteria:
            self.add_error("seriousness_criteria", "Untick these, or answer Yes to “Serious”.")
        fatal = data.get("outcome") == AdverseEventOutcome.FATAL
        if data.get("ctcae_grade") == 5 and not (fatal and "death" in criteria):
            self.add_error(
                "ctcae_grade",
                "Grade 5 is a death related to the event: choose outcome Fatal and tick Death, "
                "or choose grade 1 to 4.",
            )
        elif fatal != ("death" in criteria):
            self.add_error(
                "outcome", "A fatal outcome goes with the criterion Death: choose both, or neither."
            )
        return data

    def values(self) -> dict:
        data = self.cleaned_data
        names = ("onset", "description", "ctcae_grade", "serious", "seriousness_criteria")
        names += ("communicable_disease", "device_involved", "outcome", "action_taken", "expected")
        names += ("relatedness_product", "relatedness_harvest")
        return {name: data[name] for name in names}


class SubmissionForm(OneTimeKeyForm):
    clock = forms.UUIDField(widget=forms.HiddenInput)
    submitted_on = date_field("Date submitted", help_text="The day the report was sent.")
    recipient = text_field("Sent to", 200, help_text="For example “FDA (MedWatch)” or the sponsor's name.")
    reference = text_field(
        "Reference",
        200,
        help_text="The recipient's acknowledgement or case number, or your own reference for the report.",
    )

    def clean_submitted_on(self) -> date:
        day = self.cleaned_data["submitted_on"]
        if day > timezone.localdate():
            raise ValidationError("A submission cannot be recorded in the future: check the date.")
        return day

    def submitted_at(self, *, not_before: datetime) -> datetime:
        """The day given, at noon when it is not today (the time was not asked), else now; on the day
        the event arrived, not before it arrived (`not_before`), which noon may be."""
        day = self.cleaned_data["submitted_on"]
        at = timezone.now() if day == timezone.localdate() else aware(day, time(12, 0))
        return max(at, not_before) if day == timezone.localdate(not_before) else at
