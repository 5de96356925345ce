"""FHIR R4 in and out of the partner API: a ServiceRequest becomes a referral, and a
referral is read back as a Bundle (ServiceRequest, Task, Provenance).

Resources are validated with `fhir.resources` (its R4B models read R4 ServiceRequest,
Patient, Condition, QuestionnaireResponse, Task and Provenance)."""

FHIR_JSON = "application/fhir+json"
# Our own code systems and the screening questionnaire live under one canonical base.
BASE = "https://clinic.example.org/fhir/"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED_CT = "http://snomed.info/sct"
BODY_SITE_SYSTEM = BASE + "CodeSystem/body-site"
STATUS_SYSTEM = BASE + "CodeSystem/referral-status"
DECISION_SYSTEM = BASE + "CodeSystem/decision"
SCREENING_QUESTIONNAIRE = BASE + "Questionnaire/referral-screening"
# Rule set v3 (DESIGN.md rules 3, 4 and 6): findings, who consented, and the role of a Condition.
FINDING_SYSTEM = BASE + "CodeSystem/finding"
CONSENT_BY_SYSTEM = BASE + "CodeSystem/consent-by"
CONDITION_ROLE_SYSTEM = BASE + "CodeSystem/condition-role"
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
