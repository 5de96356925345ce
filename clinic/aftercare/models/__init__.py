"""The aftercare app's models: the treatment course, its signed treatment records, adverse events
and their reporting clocks. One module per concern; everything is importable from here."""

from clinic.aftercare.models.adverse_events import (
    AdverseEvent,
    AdverseEventChange,
    ClockEscalation,
    ReportingClock,
)
from clinic.aftercare.models.courses import CourseEvent, TreatmentCourse
from clinic.aftercare.models.follow_up import (
    ContactOptOut,
    FollowUpEvent,
    FormResponse,
    Instrument,
    Invitation,
    TimePoint,
)
from clinic.aftercare.models.treatments import TreatmentAddendum, TreatmentEntry, TreatmentRecord

__all__ = [
    "AdverseEvent",
    "AdverseEventChange",
    "ClockEscalation",
    "ContactOptOut",
    "CourseEvent",
    "FollowUpEvent",
    "FormResponse",
    "Instrument",
    "Invitation",
    "ReportingClock",
    "TimePoint",
    "TreatmentAddendum",
    "TreatmentCourse",
    "TreatmentEntry",
    "TreatmentRecord",
]
