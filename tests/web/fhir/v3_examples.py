"""Rule set v3's FHIR elements as a partner would send them: findings as Observations, further
conditions as Conditions, the screening items on consent and breastfeeding."""

from clinic.web.fhir import CONDITION_ROLE_SYSTEM, CONSENT_BY_SYSTEM, FINDING_SYSTEM, ICD10_CM, UCUM

LOINC = "http://loinc.org"


def observation(id_: str, key: str, status: str = "final", **value) -> dict:
    """A finding: our code for `key`, and value[x] as given (valueInteger=2, ...)."""
    return {
        "resourceType": "Observation",
        "id": id_,
        "status": status,
        "code": {"coding": [{"system": FINDING_SYSTEM, "code": key}]},
        **value,
    }


def quantity(value, unit: str) -> dict:
    return {"valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}


def condition(id_: str, code: str, text: str = "", *, additional: bool = False) -> dict:
    resource = {
        "resourceType": "Condition",
        "id": id_,
        "subject": {"display": "the patient"},
        "code": {"coding": [{"system": ICD10_CM, "code": code}]} | ({"text": text} if text else {}),
    }
    if additional:
        resource["category"] = [{"coding": [{"system": CONDITION_ROLE_SYSTEM, "code": "additional"}]}]
    return resource


def answer(link_id: str, **value) -> dict:
    return {"linkId": link_id, "answer": [value]}


def consent_by(code: str, system: str = CONSENT_BY_SYSTEM) -> dict:
    return answer("consent_by", valueCoding={"system": system, "code": code})


def knee_findings() -> list[dict]:
    """Four findings, one of each FHIR value type; pain with its LOINC coding beside ours."""
    pain = observation("pain", "pain_nrs", **quantity(7, "{score}"))
    pain["code"]["coding"].append({"system": LOINC, "code": "72514-3"})
    return [
        observation("kl", "kl_grade", valueInteger=2),
        observation("care", "conservative_care_months", **quantity(6, "mo")),
        observation("imaging", "imaging_date", status="amended", valueDateTime="2025-11-03"),
        pain,
    ]


def supported(request: dict, *resources: dict) -> dict:
    """`request` with `resources` contained and referenced from supportingInfo."""
    request.setdefault("contained", []).extend(resources)
    request.setdefault("supportingInfo", []).extend({"reference": f"#{r['id']}"} for r in resources)
    return request
