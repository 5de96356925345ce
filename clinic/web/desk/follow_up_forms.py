"""The desk's follow-up forms: a time point's questionnaires answered at the desk or read out on a
phone call, and "unreachable" with what was tried. A question is asked in its instrument's published
words with its published answers (KOOS, JR. and HOOS, JR. may not be altered); each answer is
checked by the follow-up's own rules (clinic.aftercare.follow_up_scores.clean_answers), so the
desk refuses what a patient's link would refuse, and says so on the question."""

from django import forms
from django.core.exceptions import ValidationError

from clinic.aftercare.follow_up_scores import clean_answers
from clinic.aftercare.instruments import InstrumentSpec, Item
from clinic.web.desk.clinical_fields import LimitedTextField
from clinic.web.desk.forms import OneTimeKeyForm

SOURCES = [
    ("desk", "At the desk: the patient answered here"),
    ("phone", "By phone: read to the patient, their answers as they gave them"),
]
# Where the page goes back to after saving: the case page, or the follow-up call list.
BACKS = [("case", "The case"), ("calls", "The follow-up call list")]
# A scale longer than this (SANE's 0-100) is a number box rather than a row of radio buttons.
MOST_RADIOS = 11
CHOOSE = "Choose an answer to this question."


def field_name(spec: InstrumentSpec, item: Item) -> str:
    # "__", not ".": the name is also the id the error summary links to (#field-<name>).
    return f"{spec.key}__{item.link_id}"


def _scale_label(item: Item, value: int) -> str:
    anchor = item.min_label if value == item.minimum else item.max_label if value == item.maximum else ""
    return f"{value} ({anchor})" if anchor else str(value)


def question_field(item: Item) -> forms.Field:
    """One question: its published answers as radio buttons, or a whole-number box for a long scale."""
    if item.options:
        choices = [(f"{option.value:g}", option.label) for option in item.options]
    elif item.maximum - item.minimum < MOST_RADIOS:
        choices = [(str(value), _scale_label(item, value)) for value in range(item.minimum, item.maximum + 1)]
    else:
        anchors = [
            f"{edge} means {label.lower()}"
            for edge, label in ((item.minimum, item.min_label), (item.maximum, item.max_label))
            if label
        ]
        return forms.CharField(
            label=item.text,
            max_length=10,
            help_text=f"A whole number from {item.minimum} to {item.maximum}"
            + (f"; {', '.join(anchors)}." if anchors else "."),
            widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "short", "autocomplete": "off"}),
            error_messages={"required": "Write the patient's answer, a whole number."},
        )
    return forms.ChoiceField(
        label=item.text,
        choices=choices,
        widget=forms.RadioSelect,
        error_messages={"required": CHOOSE, "invalid_choice": "Choose one of the answers offered."},
    )


class FollowUpAnswersForm(OneTimeKeyForm):
    """Every question of every instrument the time point asks, and how the answers were given."""

    source = forms.ChoiceField(
        label="How were the answers given?",
        choices=SOURCES,
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the patient answered at the desk or by phone."},
    )
    back = forms.ChoiceField(choices=BACKS, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, specs: list[InstrumentSpec], **kwargs):
        super().__init__(*args, **kwargs)
        self.specs = specs
        for spec in specs:
            for item in spec.items:
                self.fields[field_name(spec, item)] = question_field(item)

    def instruments(self) -> list[dict]:
        """For the page: each instrument with its questions, numbered, each with the instruction its
        developer put before it."""
        groups, number = [], 0
        for spec in self.specs:
            questions = []
            for item in spec.items:
                number += 1
                questions.append(
                    {"number": number, "section": item.section, "field": self[field_name(spec, item)]}
                )
            groups.append({"spec": spec, "questions": questions})
        return groups

    def clean(self) -> dict:
        data = super().clean()
        for spec in self.specs:
            given = {item.link_id: data.get(field_name(spec, item)) for item in spec.items}
            try:
                clean_answers(spec, {link_id: value for link_id, value in given.items() if value is not None})
            except ValidationError as refused:
                for link_id, messages in refused.message_dict.items():
                    name = f"{spec.key}__{link_id}"
                    if name in self.fields and not self.has_error(name):
                        self.add_error(name, messages)
        return data

    def answers_by_instrument(self) -> dict[str, dict]:
        data = self.cleaned_data
        return {
            spec.key: {item.link_id: data[field_name(spec, item)] for item in spec.items}
            for spec in self.specs
        }

    def add_service_errors(self, exc: ValidationError) -> None:
        """The service's refusal, per instrument ({key: [message]}) or per form field."""
        for name, messages in exc.message_dict.items():
            field = name if name in self.fields else None
            self.add_error(field, messages)


class UnreachableForm(OneTimeKeyForm):
    note = LimitedTextField(
        label="What was tried",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="For example: called 3 times on different days, no answer, voicemail left. Kept in the "
        "case's permanent timeline.",
        error_messages={
            "required": "Say what was tried, for example: called twice, no answer, voicemail full."
        },
    )
    back = forms.ChoiceField(choices=BACKS, required=False, widget=forms.HiddenInput)
