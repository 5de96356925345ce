"""The desk's forms for the treatment course itself: booking the appointment, and the confirmation
pages that move the course (cancel, start follow-up, lost to follow-up, complete). A confirmation
form's fields are its service's arguments (clinic.aftercare.courses); the service decides."""

from datetime import date, datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.web.desk.aftercare_forms import aware, date_field, time_field
from clinic.web.desk.clinical_fields import LimitedTextField
from clinic.web.desk.forms import OneTimeKeyForm

# The reason a course closes early is the partner's business only as a state, never in words.
KEPT = "Kept in the case's permanent record; the referring partner is not sent it."


class ScheduleForm(OneTimeKeyForm):
    appointment_date = date_field("Appointment date", help_text="The day of the treatment session.")
    appointment_time = time_field("Appointment time", help_text="24-hour clock, for example 09:30.")

    def clean_appointment_date(self) -> date:
        day = self.cleaned_data["appointment_date"]
        today = timezone.localdate()
        if day < today:
            raise ValidationError(f"The date has passed: book from today ({today:%Y-%m-%d}) on.")
        if day > today + timedelta(days=730):
            raise ValidationError("That is more than two years ahead: check the year.")
        return day

    def appointment_at(self) -> datetime:
        data = self.cleaned_data
        return aware(data["appointment_date"], data["appointment_time"])


class CancelCourseForm(forms.Form):
    reason = LimitedTextField(
        label="Reason for cancelling",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=KEPT,
        error_messages={"required": "Say why the course is cancelled: the record keeps the reason."},
    )


class StartFollowUpForm(forms.Form):
    """Nothing to type: the page says what starting the follow-up does, the button confirms it."""


class LostToFollowUpForm(forms.Form):
    reason = LimitedTextField(
        label="Why the patient is lost to follow-up",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=f"For example the calls and letters that went unanswered. {KEPT}",
        error_messages={"required": "Say why the patient is lost to follow-up: the record keeps the reason."},
    )


class CompleteCourseForm(forms.Form):
    note = LimitedTextField(
        label="Note (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="For example why the course ends now. Kept in the case's permanent record.",
    )
