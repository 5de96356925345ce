"""A patient's submitted answers as a FHIR R4 QuestionnaireResponse (DESIGN.md, "Follow-up"):
rendered from the stored answers against the instrument's Questionnaire
(clinic.aftercare.instruments.fhir), for the clinic's own record and export. Item answers never
go to a partner (the partner gets the score only, as an Observation)."""

from clinic.aftercare.instrument_library import UnknownInstrument, get_instrument
from clinic.aftercare.instruments.fhir import BASE, resource_id
from clinic.web.fhir.aftercare import patient_reference

SCORE = f"{BASE}StructureDefinition/instrument-score"


def questionnaire_response(response, *, case) -> dict:
    """A submitted FormResponse as a QuestionnaireResponse: each answer as the option's coding
    (code = its score, display = its words) or, on a scale, as an integer."""
    try:
        items = {item.link_id: item for item in get_instrument(response.instrument).items}
    except UnknownInstrument:
        items = {}
    answered = []
    for link_id, value in response.answers.items():
        item = items.get(link_id)
        if item is not None and item.options:
            label = next((o.label for o in item.options if o.value == value), "")
            answer = {"valueCoding": {"code": f"{value:g}", "display": label}}
        else:
            answer = {"valueInteger": int(value)} if float(value).is_integer() else {"valueDecimal": value}
        answered.append({"linkId": link_id, **({"text": item.text} if item else {}), "answer": [answer]})
    resource = {
        "resourceType": "QuestionnaireResponse",
        "id": str(response.pk),
        "questionnaire": f"{BASE}Questionnaire/{resource_id(response.instrument)}",
        "status": "completed" if response.submitted_at else "in-progress",
        "subject": patient_reference(case),
        "authored": (response.submitted_at or response.updated_at).isoformat(),
        "source": {"display": response.get_source_display()},
        "item": answered,
    }
    if response.score is not None:
        resource["extension"] = [{"url": SCORE, "valueDecimal": response.score}]
    return resource
