"""What the patient's page asks, in order (DESIGN.md, "Follow-up"): each instrument of the time
point is one short page of its items, word for word as the instrument's data gives them, and the
last page asks the question every form ends with. Question numbers run across the pages, for
"Question 3 of 9". Pure presentation: the instruments and the saved answers come in."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from clinic.aftercare.adverse_event_values import TEXT_LIMIT
from clinic.aftercare.instruments import InstrumentSpec, Item

UNEXPECTED = "Anything unexpected since your treatment?"
# Before treatment (the baseline) there is no treatment to ask about yet.
UNEXPECTED_BEFORE = "Anything unexpected with your health since the clinic last saw you?"
UNEXPECTED_TEXT_MAX = TEXT_LIMIT  # what an adverse-event description may hold
# A 0-10 scale drawn as a grid of numbers; anything longer as a list, one answer to a line.
SCALE_LAYOUT_MAX = 11


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    checked: bool
    # Said by a screen reader after the label, where the page shows it beside the scale instead.
    aside: str = ""


@dataclass(frozen=True)
class Question:
    number: int
    instrument: str
    link_id: str
    text: str
    # The instrument's instruction that applies (word for word), and whether it starts here; a
    # question shown on its own screen repeats the one still in force.
    stem: str
    stem_starts: bool
    choices: tuple[Choice, ...]
    answer: object  # the saved value, None when unanswered
    answer_label: str
    error: str = ""
    layout: str = "list"
    low_label: str = ""
    high_label: str = ""
    minimum: int | None = None
    maximum: int | None = None

    @property
    def field(self) -> str:
        return f"{self.instrument}.{self.link_id}"

    @property
    def answered(self) -> bool:
        return self.answer is not None

    @property
    def value(self) -> str:
        return "" if self.answer is None else f"{self.answer:g}"


@dataclass(frozen=True)
class Page:
    number: int
    instrument: str | None  # None: the last page, "anything unexpected?"
    title: str
    questions: tuple[Question, ...]
    first: int
    last: int
    total: int

    @property
    def is_last(self) -> bool:
        return self.instrument is None

    @property
    def missing(self) -> list[Question]:
        return [q for q in self.questions if not q.answered]

    @property
    def done_percent(self) -> int:
        return round((self.first - 1) * 100 / self.total)


def _label(item: Item, answer: object) -> str:
    if answer is None:
        return "Not answered"
    if item.options:
        return item.label_for(answer)
    return f"{item.label_for(answer)} out of {item.maximum}"


def _question(
    number: int, spec: InstrumentSpec, item: Item, stem: str, answer: object, error: str
) -> Question:
    if answer is not None and not item.accepts(answer):
        answer = None  # a value the instrument no longer offers counts as unanswered
    choices = tuple(
        Choice(value=f"{option.value:g}", label=option.label, checked=answer == option.value)
        for option in item.options
    )
    if item.options:
        labels_are_numbers = all(choice.label.strip().lstrip("-").isdigit() for choice in choices)
        layout = "scale" if labels_are_numbers and len(choices) <= SCALE_LAYOUT_MAX else "list"
    elif (
        item.maximum is not None
        and item.minimum is not None
        and item.maximum - item.minimum < SCALE_LAYOUT_MAX
    ):
        # A short numeric scale (0-10) offered as its numbers, as on paper.
        anchors = {item.minimum: item.min_label, item.maximum: item.max_label}
        choices = tuple(
            Choice(value=str(n), label=str(n), checked=answer == n, aside=anchors.get(n, ""))
            for n in range(item.minimum, item.maximum + 1)
        )
        layout = "scale"
    else:
        layout = "number"
    return Question(
        number=number,
        instrument=spec.key,
        link_id=item.link_id,
        text=item.text,
        stem=item.section or stem,
        stem_starts=bool(item.section),
        choices=choices,
        answer=answer,
        answer_label=_label(item, answer),
        error=error,
        layout=layout,
        low_label=item.min_label,
        high_label=item.max_label,
        minimum=item.minimum,
        maximum=item.maximum,
    )


def build_pages(
    specs: Sequence[InstrumentSpec],
    saved: Mapping[str, Mapping[str, object]],
    errors: Mapping[str, str] | None = None,
) -> list[Page]:
    """One page per instrument, then the last page. `saved`: {instrument: {linkId: value}};
    `errors`: {field: message} for the questions to mark."""
    errors = errors or {}
    total = sum(len(spec.items) for spec in specs) + 1
    pages: list[Page] = []
    number = 0
    for spec in specs:
        answers = saved.get(spec.key, {})
        questions: list[Question] = []
        for item in spec.items:
            number += 1
            field = f"{spec.key}.{item.link_id}"
            stem = questions[-1].stem if questions else ""
            questions.append(
                _question(number, spec, item, stem, answers.get(item.link_id), errors.get(field, ""))
            )
        pages.append(
            Page(
                number=len(pages) + 1,
                instrument=spec.key,
                title=spec.title,
                questions=tuple(questions),
                first=questions[0].number,
                last=number,
                total=total,
            )
        )
    pages.append(
        Page(
            number=len(pages) + 1,
            instrument=None,
            title="One last question",
            questions=(),
            first=total,
            last=total,
            total=total,
        )
    )
    return pages


def page_answers(page: Page, posted: Mapping[str, str]) -> dict[str, str]:
    """The answers a page posted, {linkId: raw value}; the instrument checks each one."""
    return {
        q.link_id: posted[q.field].strip()
        for q in page.questions
        if isinstance(posted.get(q.field), str) and posted[q.field].strip()
    }


def first_open_page(pages: Sequence[Page]) -> Page:
    """Where a reopened link starts: the first page with a question unanswered, else the last."""
    return next((page for page in pages if page.missing), pages[-1])


def when(day: int) -> str:
    """The time point in a patient's words."""
    if day == 0:
        return "before your treatment"
    if day < 56:
        amount = (day, "day") if day % 7 else (day // 7, "week")
    elif day < 330:
        amount = (round(day / 30.44), "month")
    else:
        amount = (round(day / 365.25), "year")
    count, unit = amount
    return f"{count} {unit}{'' if count == 1 else 's'} after your treatment"


def unexpected_question(day: int) -> str:
    return UNEXPECTED_BEFORE if day == 0 else UNEXPECTED
