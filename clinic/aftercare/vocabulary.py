"""The closed and open lists the treatment record and adverse events use, with their sources.

DESIGN.md, "After the decision" governs the codes; the labels are what a person reads."""

from django.db import models


class ProductSource(models.TextChoices):
    AUTOLOGOUS = "autologous", "Autologous (the patient's own cells)"
    ALLOGENEIC = "allogeneic", "Allogeneic (a donor's cells)"


class ImageGuidance(models.TextChoices):
    NONE = "none", "None (landmark-guided)"
    ULTRASOUND = "ultrasound", "Ultrasound"
    FLUOROSCOPY = "fluoroscopy", "Fluoroscopy"
    OTHER = "other", "Other"


class PerformerRole(models.TextChoices):
    # What a partner may read about the performer: the role, never the name (DESIGN.md).
    PHYSICIAN = "physician", "Physician"
    NURSE_PRACTITIONER = "nurse_practitioner", "Nurse practitioner"
    PHYSICIAN_ASSISTANT = "physician_assistant", "Physician assistant"
    REGISTERED_NURSE = "registered_nurse", "Registered nurse"


class ClinicRole(models.TextChoices):
    # Who reports what, by when: DESIGN.md, "Adverse events" (the protocol's clinic_role).
    INVESTIGATOR = "investigator", "Investigator"
    SPONSOR_INVESTIGATOR = "sponsor_investigator", "Sponsor-investigator"
    MANUFACTURER_361 = "manufacturer_361", "361 HCT/P manufacturer"
    USER = "user", "User"


# The default clinic role by protocol basis (DESIGN.md, "Who reports what, by when").
DEFAULT_CLINIC_ROLE: dict[str, str] = {
    "ind": ClinicRole.INVESTIGATOR,
    "irb_trial": ClinicRole.INVESTIGATOR,
    "minimal_manipulation_homologous": ClinicRole.MANUFACTURER_361,
}


class AdverseEventSource(models.TextChoices):
    PARTNER = "partner", "Partner clinic"
    STAFF = "staff", "Clinic staff"
    PATIENT = "patient", "Patient (follow-up form)"


class Triage(models.TextChoices):
    # An open enum of the contract ("triage"): received until staff look at it.
    RECEIVED = "received", "Received, awaiting triage"
    CONFIRMED = "confirmed", "Confirmed by staff"
    DISMISSED = "dismissed", "Not an adverse event"


class SeriousnessCriterion(models.TextChoices):
    DEATH = "death", "Death"
    LIFE_THREATENING = "life_threatening", "Life-threatening"
    HOSPITALIZATION = "hospitalization", "Hospitalization (initial or prolonged)"
    DISABILITY = "disability", "Persistent or significant disability or incapacity"
    CONGENITAL_ANOMALY = "congenital_anomaly", "Congenital anomaly or birth defect"
    IMPORTANT_MEDICAL_EVENT = "important_medical_event", "Important medical event"
    MEDICAL_INTERVENTION = "medical_intervention", "Required intervention to prevent impairment or damage"


class Relatedness(models.TextChoices):
    # WHO-UMC causality categories; the first three mean "reasonable possibility" (21 CFR 312.32(a)).
    CERTAIN = "certain", "Certain"
    PROBABLE = "probable", "Probable / likely"
    POSSIBLE = "possible", "Possible"
    UNLIKELY = "unlikely", "Unlikely"
    CONDITIONAL = "conditional", "Conditional / unclassified"
    UNASSESSABLE = "unassessable", "Unassessable / unclassifiable"


REASONABLE_POSSIBILITY = frozenset({Relatedness.CERTAIN, Relatedness.PROBABLE, Relatedness.POSSIBLE})


class AdverseEventOutcome(models.TextChoices):
    RESOLVED = "resolved", "Resolved"
    RECOVERING = "recovering", "Recovering"
    ONGOING = "ongoing", "Ongoing"
    RESOLVED_WITH_SEQUELAE = "resolved_with_sequelae", "Resolved with sequelae"
    FATAL = "fatal", "Fatal"
    UNKNOWN = "unknown", "Unknown"


class ReporterQualification(models.TextChoices):
    PHYSICIAN = "physician", "Physician"
    PHARMACIST = "pharmacist", "Pharmacist"
    OTHER_HEALTH_PROFESSIONAL = "other_health_professional", "Other health professional"
    PATIENT = "patient", "Patient"
    OTHER = "other", "Other"


class ClockState(models.TextChoices):
    OPEN = "open", "Open"
    SUBMITTED = "submitted", "Submission recorded"
    # A later assessment made the row not apply (say, the event is no longer serious).
    NOT_REQUIRED = "not_required", "No longer required"
