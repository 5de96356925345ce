"""Referrals composed from HL7's official R4 examples (hl7/README.md), as a FHIR partner
would send them. Each builder says what it adds to HL7's text, and nothing else changes."""

import json
from pathlib import Path

from hypothesis import strategies as st

from clinic.web.fhir import BODY_SITE_SYSTEM, ICD10_CM, SCREENING_QUESTIONNAIRE
from intake.models import CONTRAINDICATIONS

HL7 = Path(__file__).parent / "hl7"


def hl7(name: str) -> dict:
    """A fresh copy of one of HL7's example resources."""
    return json.loads((HL7 / f"{name}.json").read_text())


def screening(id_: str = "screening", *, consent: bool = True, **answers: bool) -> dict:
    """The clinic's screening answers: no contraindication unless named (pregnant=True)."""
    items = [
        {"linkId": name, "answer": [{"valueBoolean": answers.get(name, False)}]} for name in CONTRAINDICATIONS
    ]
    items.append({"linkId": "consent_obtained", "answer": [{"valueBoolean": consent}]})
    return {
        "resourceType": "QuestionnaireResponse",
        "id": id_,
        "questionnaire": SCREENING_QUESTIONNAIRE,
        "status": "completed",
        "item": items,
    }


def body_site(code: str) -> dict:
    return {"system": BODY_SITE_SYSTEM, "code": code}


def physiotherapy_referral() -> dict:
    """HL7's ServiceRequest "physiotherapy" (placer id 20170201-0001, contained Condition
    coded ICD-10-CM E84.0), with HL7's Patient "example" contained as its subject and
    the screening answers attached."""
    request = hl7("ServiceRequest-physiotherapy")
    request["contained"] += [hl7("Patient-example"), screening()]
    request["subject"] = {"reference": "#example"}
    request["supportingInfo"] = [{"reference": "#screening"}]
    return request


def knee_referral_bundle(*, icd10: str = "M17.0") -> dict:
    """A transaction Bundle: HL7's ServiceRequest "physical-therapy" (osteoarthritis, both
    knees, SNOMED CT), given the ICD-10-CM code and our codes for the two knees beside
    HL7's codings, whose subject is the first Patient entry of HL7's "bundle-transaction"
    (Peter James Chalmers), with the screening answers as a third entry."""
    bundle = hl7("Bundle-bundle-transaction")
    patient_entry = bundle["entry"][0]
    request = hl7("ServiceRequest-physical-therapy")
    request["identifier"] = [{"system": "urn:example:partner-referrals", "value": "PT-2016-0920"}]
    request["subject"] = {"reference": patient_entry["fullUrl"]}
    request["reasonCode"][0]["coding"] = [{"system": ICD10_CM, "code": icd10}]
    request["bodySite"][0]["coding"] += [body_site("left_knee"), body_site("right_knee")]
    request["supportingInfo"] = [{"reference": "urn:uuid:0c7c6f7e-3a51-4a8e-9d43-5b0f2f6c9a11"}]
    bundle["entry"] = [
        {
            "fullUrl": "urn:uuid:2b5f5c9e-0a8a-4d7c-8f43-2a6f1b1e7d20",
            "resource": request,
            "request": {"method": "POST", "url": "ServiceRequest"},
        },
        patient_entry,
        {
            "fullUrl": "urn:uuid:0c7c6f7e-3a51-4a8e-9d43-5b0f2f6c9a11",
            "resource": screening(id_="knee-screening"),
            "request": {"method": "POST", "url": "QuestionnaireResponse"},
        },
    ]
    return bundle


ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _places(node, prefix=()):
    """Every place in a JSON document, as a tuple of keys and indexes."""
    yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in children:
        yield from _places(child, (*prefix, key))


def damaged(data, body: dict) -> dict:
    """`body` with one to three places deleted or replaced by arbitrary JSON (Hypothesis draws)."""
    for _ in range(data.draw(st.integers(1, 3))):
        place = data.draw(st.sampled_from(list(_places(body))[1:]))
        parent = body
        for key in place[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()):
            del parent[place[-1]]
        else:
            parent[place[-1]] = data.draw(ANY_JSON)
    return body
