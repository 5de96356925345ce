"""The OpenAPI document (issue #30, items 3, 4 and 6): OpenAPI 3.1 with every event type's body under
`webhooks`, the 3.0.3 document at `?oas=3.0` without them, open enums marked `x-extensible-enum`,
"How v1 grows" in the description, reads listing only the responses they can give, and partner
operations listing only the API-key scheme."""

import pytest
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

from clinic.aftercare.statuses import CourseState
from clinic.aftercare.vocabulary import AdverseEventOutcome, ReporterQualification
from intake import event_types
from intake.vocabulary.findings import FINDINGS
from recommendations.models import ProtocolBasis

SCHEMA = "/api/schema/"


@pytest.fixture
def schema(client) -> dict:
    return client.get(SCHEMA, {"format": "json"}).json()


def resolve(document: dict, schema: dict) -> dict:
    """A property's schema with its `$ref` (or drf-spectacular's one-item `allOf`) followed."""
    while True:
        if "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        elif len(schema.get("allOf", [])) == 1:
            schema = schema["allOf"][0]
        else:
            return schema


def prop(document: dict, component: str, name: str) -> dict:
    return resolve(document, document["components"]["schemas"][component]["properties"][name])


@pytest.mark.django_db
def test_the_schema_is_valid_openapi_31_with_a_webhook_per_event_type(schema):
    OpenAPIV31SpecValidator(schema).validate()  # raises with the first error

    assert schema["openapi"] == "3.1.0"
    assert list(schema["webhooks"]) == list(event_types.ALL)
    for name, item in schema["webhooks"].items():
        body = resolve(schema, item["post"]["requestBody"]["content"]["application/json"]["schema"])
        assert body["properties"]["type"] == {
            "type": "string",
            "const": name,
            "description": "The event type.",
        }
        assert set(body["required"]) == {"type", "timestamp", "data"}
        assert [p["name"] for p in item["post"]["parameters"]] == [
            "webhook-id",
            "webhook-timestamp",
            "webhook-signature",
            "X-Request-ID",
        ]
    data = resolve(
        schema,
        schema["webhooks"]["referral.decided"]["post"]["requestBody"]["content"]["application/json"][
            "schema"
        ],
    )["properties"]["data"]
    assert [ref["$ref"] for ref in resolve(schema, data)["oneOf"]] == [
        "#/components/schemas/ReferralOut",
        "#/components/schemas/FhirBundle",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("asked", ["3.0", "3.0.3", " 3.0 "])
def test_oas_3_0_serves_the_same_api_as_3_0_3_without_webhooks(client, schema, asked):
    legacy = client.get(SCHEMA, {"format": "json", "oas": asked}).json()

    OpenAPIV30SpecValidator(legacy).validate()
    assert legacy["openapi"] == "3.0.3" and "webhooks" not in legacy
    assert set(legacy["paths"]) == set(schema["paths"])
    assert "ReferralDecidedEvent" not in legacy["components"]["schemas"]
    # The version asked for does not stick: the next document is 3.1 again.
    assert client.get(SCHEMA, {"format": "json"}).json()["openapi"] == "3.1.0"


@pytest.mark.django_db
def test_partner_operations_list_only_the_api_key_scheme(schema):
    assert set(schema["components"]["securitySchemes"]) == {"PartnerApiKey"}
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in item.items()
    ]
    assert len(operations) > 15
    for path, method, operation in operations:
        assert operation["security"] == [{"PartnerApiKey": []}], (method, path)


@pytest.mark.django_db
def test_read_operations_list_only_the_responses_they_can_give(schema):
    reads = {path: item["get"] for path, item in schema["paths"].items() if "get" in item}
    for path, operation in reads.items():
        assert not set(operation["responses"]) & {"409", "413", "415", "422"}, path

    def statuses(path: str) -> set[str]:
        return set(reads[path]["responses"])

    assert statuses("/api/v1/body-sites/") == {"200", "401", "403", "429"}
    assert statuses("/api/v1/event-types/") == {"200", "401", "403", "429"}
    assert statuses("/api/v1/fhir/Questionnaire/referral-screening") == {"200", "401", "403", "429"}
    assert statuses("/api/v1/referrals/{id}/") == {"200", "400", "401", "403", "404", "429"}
    assert statuses("/api/v1/events/") == {"200", "400", "401", "403", "429"}
    # A page cursor that names no page is a 404 (the referral list pages by cursor).
    assert "404" in statuses("/api/v1/referrals/")
    # Writes keep theirs.
    assert {"409", "422"} <= set(schema["paths"]["/api/v1/referrals/"]["post"]["responses"])


OPEN = {
    ("EventType", "name"): list(event_types.ALL),
    ("Event", "type"): list(event_types.ALL),
    ("DecisionProtocol", "basis"): ProtocolBasis.values,
    ("Finding", "type"): sorted({finding.type for finding in FINDINGS}),
    ("ConsentRequest", "by"): ["patient", "guardian", "legal_representative"],
    # After the decision (DESIGN.md, "How v1 grows").
    ("Treatment", "state"): CourseState.values,
    ("PartnerAdverseEvent", "outcome"): AdverseEventOutcome.values,
    ("PartnerAdverseEvent", "source"): ["partner", "staff", "patient"],
    ("AdverseEventOut", "triage"): ["received"],
    ("ReporterRequest", "qualification"): ReporterQualification.values,
}
CLOSED = [
    ("ReferralOut", "status"),
    ("DecisionOut", "route"),
    ("DecisionOut", "outcome"),
    ("Delivery", "state"),
    ("AdverseEventReportRequest", "ctcae_grade"),
]


@pytest.mark.django_db
def test_open_enums_are_marked_extensible_and_closed_ones_stay_enums(schema):
    for (component, name), values in OPEN.items():
        field = prop(schema, component, name)
        assert "enum" not in field, (component, name)
        assert field["x-extensible-enum"], (component, name)
        assert set(values) <= set(field["x-extensible-enum"]), (component, name)
    for component, name in CLOSED:
        field = prop(schema, component, name)
        assert field["enum"] and "x-extensible-enum" not in field, (component, name)
    relatedness = schema["components"]["schemas"]["AdverseEventReportRequest"]["properties"][
        "relatedness_opinion"
    ]
    assert [resolve(schema, branch).get("enum") for branch in relatedness["oneOf"]] == [
        ["certain", "probable", "possible", "unlikely", "conditional", "unassessable"],
        [""],
    ]
    types = schema["paths"]["/api/v1/events/"]["get"]["parameters"]
    (param,) = [p for p in types if p["name"] == "types"]
    assert param["schema"]["items"]["x-extensible-enum"] == list(event_types.ALL)
    assert (param["style"], param["explode"]) == ("form", False)


@pytest.mark.django_db
def test_the_description_says_how_v1_grows_and_which_schema_versions_are_served(schema):
    description = schema["info"]["description"]
    growth = description.split("## How v1 grows", 1)[1]

    for said in (
        "ignore members they do not know",
        "without notice",
        "x-extensible-enum",
        "**Closed enums**",
        "referral `status`",
        "`decision.route`",
        "`decision.outcome`",
        "`businessStatus`",
        "**Never within v1:**",
        "`<type>.v2`",
        "/api/schema/?oas=3.0",
        "OpenAPI 3.0.3",
    ):
        assert said in growth, said
    for open_enum in ("event types", "`consent.by`", "`decision.protocol.basis`", "a finding's `type`"):
        assert open_enum in growth.split("**Closed enums**")[0], open_enum
