"""Follow-up scores as FHIR R4 Observations (DESIGN.md, "The treatment course" and "Partners: events
after the decision"): one per instrument scored at a time point, in the referral's Bundle of a
partner subscribed to `referral.follow_up` and in that event's Bundle.

An Observation carries what `referral.follow_up`'s `follow_up` carries (day, instrument, score,
baseline, improvement, responder, when answered) and nothing else: never a form's item answers
(the QuestionnaireResponse stays in the clinic), anything the patient wrote, who entered it, or the
patient's name (its subject is the referral's patient without one).

The instrument is coded in the clinic's own code system, with LOINC beside it where a published
source gives the code for that score:
- pain_nrs: LOINC 72514-3 "Pain severity - 0-10 verbal numeric rating [Score] - Reported" (HL7
  Belgium's patient-monitoring IG, ValueSet pain-scale, which cites https://loinc.org/72514-3; the
  CMS ACCESS Model IG codes its pain NRS with it too).
- koos_jr: LOINC 82324-5, the eCQM value set for the KOOS, JR. total interval score (VSAC OID
  2.16.840.1.113883.3.464.1003.118.12.1218, CMS66 "Functional Status Assessment for Total Knee
  Replacement", eCQM update 2020-05-07).
- hoos_jr: LOINC 82323-7, the eCQM value set for the HOOS, JR. total interval score (VSAC OID
  2.16.840.1.113883.3.464.1003.118.12.1210, CMS56, same update).
- sane and an instrument the clinic added: no LOINC code found for the score; the clinic's code only.
"""

import uuid

from django.db.models import QuerySet

from clinic.aftercare.follow_up import follow_up_data
from clinic.aftercare.instrument_library import get_instrument
from clinic.aftercare.models import FormResponse
from clinic.web.fhir import BASE, LOINC, UCUM
from clinic.web.fhir.aftercare import coding, patient_reference, urn

INSTRUMENT_SYSTEM = BASE + "CodeSystem/instrument"
# The Observation's components: day, baseline, improvement, responder.
FOLLOW_UP_SYSTEM = BASE + "CodeSystem/follow-up"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"

# instrument key -> (LOINC code, its display, or "" where no source we read gives the display).
INSTRUMENT_LOINC: dict[str, tuple[str, str]] = {
    "pain_nrs": ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported"),
    "koos_jr": ("82324-5", "Knee injury and osteoarthritis outcome score for joint replacement [KOOSJR]"),
    "hoos_jr": ("82323-7", ""),
}
COMPONENTS = {
    "day": "Days after the treatment (0: the baseline, before it)",
    "baseline": "Baseline score",
    "improvement": "Improvement from the baseline, in the better direction",
    "responder": "Improved by at least the MCID",
}


def _title(key: str) -> str:
    try:
        return get_instrument(key).title
    except LookupError:
        return key


def instrument_code(key: str) -> dict:
    title = _title(key)
    codings = [coding(INSTRUMENT_SYSTEM, key, title)]
    if key in INSTRUMENT_LOINC:
        code, display = INSTRUMENT_LOINC[key]
        codings.append(coding(LOINC, code, display))
    return {"coding": codings, "text": title}


def _score(value: float) -> dict:
    # UCUM's annotation for a unitless score.
    return {"value": value, "unit": "score", "system": UCUM, "code": "{score}"}


def _component(code: str, **value) -> dict:
    return {"code": {"coding": [coding(FOLLOW_UP_SYSTEM, code, COMPONENTS[code])]}, **value}


def _absent(code: str, display: str) -> dict:
    return {"dataAbsentReason": {"coding": [coding(DATA_ABSENT, code, display)]}}


def observation(response: FormResponse, *, case, baseline_id: uuid.UUID | None = None) -> dict:
    """One scored response. `baseline_id`: the baseline response of the same instrument, which the
    improvement is derived from (an Observation of the same Bundle, or of an earlier event's)."""
    # The same numbers as referral.follow_up's `follow_up`.
    data = follow_up_data(response)
    components = [
        _component("day", valueQuantity={"value": data["day"], "unit": "d", "system": UCUM, "code": "d"})
    ]
    if data["day"]:
        if data["baseline"] is not None:
            components.append(_component("baseline", valueQuantity=_score(data["baseline"])))
        if data["improvement"] is not None:
            components.append(_component("improvement", valueQuantity=_score(data["improvement"])))
        if data["responder"] is not None:
            components.append(_component("responder", valueBoolean=data["responder"]))
        elif data["baseline"] is None:
            components.append(_component("responder", **_absent("unknown", "Unknown")))
        else:
            # No MCID derived in a comparable population: no responder value (DESIGN.md, "Scoring").
            components.append(_component("responder", **_absent("not-applicable", "Not Applicable")))
    resource = {
        "resourceType": "Observation",
        "id": str(response.pk),
        "meta": {"lastUpdated": data["completed_at"]},
        "basedOn": [{"reference": urn(case.pk)}],
        "status": "final",
        "category": [{"coding": [coding(OBSERVATION_CATEGORY, "survey", "Survey")]}],
        "code": instrument_code(response.instrument),
        "subject": patient_reference(case),
        "effectiveDateTime": data["completed_at"],
        "issued": data["completed_at"],
        "valueQuantity": _score(data["score"]),
        "component": components,
    }
    if data["day"] and baseline_id is not None:
        resource["derivedFrom"] = [{"reference": urn(baseline_id)}]
    return resource


def scored_responses(case_id: uuid.UUID | str) -> QuerySet[FormResponse]:
    """The case's scored responses (submitted, with a score), by day then instrument."""
    return (
        FormResponse.objects.filter(case_id=case_id, submitted_at__isnull=False, score__isnull=False)
        .select_related("time_point")
        .order_by("time_point__day", "instrument")
    )


def _baselines(responses: list[FormResponse]) -> dict[str, uuid.UUID]:
    return {response.instrument: response.pk for response in responses if response.time_point.day == 0}


def observations(case) -> list[tuple[uuid.UUID, dict]]:
    """(id, Observation) for every scored time point of the case's follow-up."""
    responses = list(scored_responses(case.pk))
    baselines = _baselines(responses)
    return [
        (response.pk, observation(response, case=case, baseline_id=baselines.get(response.instrument)))
        for response in responses
    ]


def observation_of(response_id: uuid.UUID | str, *, case) -> tuple[uuid.UUID, dict]:
    """(id, Observation) of one scored response, for the event that announced it."""
    response = FormResponse.objects.select_related("time_point").get(pk=response_id, case_id=case.pk)
    baseline = (
        scored_responses(case.pk)
        .filter(time_point__day=0, instrument=response.instrument)
        .values_list("pk", flat=True)
        .first()
    )
    return response.pk, observation(response, case=case, baseline_id=baseline)
