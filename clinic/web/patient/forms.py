"""The form's last question, "anything unexpected?": yes or no, and on yes what happened."""

from django import forms

from clinic.web.patient.questions import UNEXPECTED_TEXT_MAX

YES_OR_NO = "Answer yes or no."


class LastQuestionForm(forms.Form):
    unexpected = forms.ChoiceField(
        choices=[("yes", "Yes"), ("no", "No")],
        error_messages={"required": YES_OR_NO, "invalid_choice": YES_OR_NO},
    )
    # CharField also refuses NUL characters, which PostgreSQL cannot store in the staff's report.
    unexpected_text = forms.CharField(
        required=False,
        max_length=UNEXPECTED_TEXT_MAX,
        error_messages={
            "max_length": f"Please keep this under {UNEXPECTED_TEXT_MAX} characters; we will call you.",
            "null_characters_not_allowed": "Something in this text cannot be saved; please type it again.",
        },
    )

    def clean(self) -> dict:
        data = super().clean()
        if (
            data.get("unexpected") == "yes"
            and not data.get("unexpected_text")
            and not self.has_error("unexpected_text")
        ):
            self.add_error("unexpected_text", "Tell us briefly what happened, or answer no.")
        return data

    def problems(self) -> dict[str, str]:
        """The errors as the last page shows them: on the question, or on its text box."""
        shown = {}
        if self.has_error("unexpected"):
            shown["error"] = " ".join(self.errors["unexpected"])
        if self.has_error("unexpected_text"):
            shown["text_error"] = " ".join(self.errors["unexpected_text"])
        return shown
