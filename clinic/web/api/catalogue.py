"""The event catalogue (DESIGN.md, "Partner API v1" and "Partners: events after the decision"): every
event type, the JSON Schema of the body it arrives in, and whether the caller receives it. The same
schemas are the OpenAPI document's `webhooks` (clinic.web.api.openapi), built by drf-spectacular from
the serializers below, so the catalogue, the document and the payloads cannot disagree.

A partner's subscriptions (Partner.event_types, intake.event_types) govern its webhooks and its events
feed alike: `feed_types` is what the feed may list, now."""

import copy
import functools
import re

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ComponentRegistry, process_webhooks
from drf_spectacular.settings import patched_settings
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    OpenApiWebhook,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from clinic.web.api.adverse_event_fields import (
    AdverseEventDataSerializer,
    CourseClosedDataSerializer,
    TreatedDataSerializer,
)
from clinic.web.api.auth import partner_of
from clinic.web.api.enums import OpenChoiceField, open_enum
from clinic.web.api.follow_ups import FollowUpDataSerializer
from clinic.web.api.problems import PROBLEM_JSON
from clinic.web.api.serializers import ProblemSerializer, ReferralOutSerializer
from intake import event_types
from intake.models import Partner, WebhookFormat

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class ConstField(serializers.CharField):
    """A member that always holds one value (an event's `type`, a Bundle's `resourceType`)."""

    def __init__(self, value: str, **kwargs):
        self.value = value
        super().__init__(**kwargs)


class ConstFieldSchema(OpenApiSerializerFieldExtension):
    target_class = ConstField

    def map_serializer_field(self, auto_schema, direction) -> dict:
        return {"type": "string", "const": self.target.value}


# --- What an event's body holds ------------------------------------------------------------------


class PingDataSerializer(serializers.Serializer):
    partner_id = serializers.UUIDField(help_text="Your partner id.")
    message = serializers.CharField()


class FhirBundleEntrySerializer(serializers.Serializer):
    fullUrl = serializers.CharField()  # noqa: N815  FHIR's member names
    resource = serializers.DictField(
        help_text="A FHIR R4 resource: ServiceRequest, Task or Provenance; after the decision, the event's "
        "Procedure, course Task, AdverseEvent or Observation."
    )


class FhirBundleSerializer(serializers.Serializer):
    """The referral as a FHIR R4 `collection` Bundle (as `GET /api/v1/referrals/{id}/fhir`): what `data`
    holds for a partner whose webhook format is FHIR. Its ServiceRequest carries your `external_id` as
    its placer identifier."""

    resourceType = ConstField("Bundle")  # noqa: N815
    type = ConstField("collection")
    timestamp = serializers.DateTimeField()
    entry = FhirBundleEntrySerializer(many=True)


REFERRAL_DATA = PolymorphicProxySerializer(
    component_name="ReferralEventData",
    serializers=[ReferralOutSerializer, FhirBundleSerializer],
    resource_type_field_name=None,
    help_text="The referral as `GET /api/v1/referrals/{id}/` showed it at the event (ReferralOut) for a "
    "partner whose webhook format is JSON; its FHIR R4 Bundle for a partner whose format is FHIR.",
)


# The events after the decision: `data` is the referral's ids and one member (never the referral's
# free text), or for a FHIR partner a Bundle with the event's resource and the ServiceRequest.
AFTERCARE_DATA: dict[str, type[serializers.Serializer]] = {
    event_types.TREATED: TreatedDataSerializer,
    event_types.COURSE_CLOSED: CourseClosedDataSerializer,
    event_types.ADVERSE_EVENT: AdverseEventDataSerializer,
    event_types.FOLLOW_UP: FollowUpDataSerializer,
}


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[._]", name))


def _data(name: str) -> serializers.Field:
    if name == event_types.PING:
        return PingDataSerializer()
    if name in AFTERCARE_DATA:
        return PolymorphicProxySerializer(
            component_name=f"{_camel(name)}EventData",
            serializers=[AFTERCARE_DATA[name], FhirBundleSerializer],
            resource_type_field_name=None,
            help_text="The referral's ids and the event's member for a partner whose webhook format is JSON; "
            "for a FHIR partner, a FHIR R4 `collection` Bundle with the event's resource and the "
            "ServiceRequest.",
        )
    return copy.deepcopy(REFERRAL_DATA)


def _json_branches() -> dict[str, str]:
    """Each `data` component that holds either format -> the component of its JSON format."""
    branches = {REFERRAL_DATA.component_name: "ReferralOut"}
    for name, serializer in AFTERCARE_DATA.items():
        branches[f"{_camel(name)}EventData"] = serializer.__name__.removesuffix("Serializer")
    return branches


@functools.cache
def event_serializer(name: str) -> type[serializers.Serializer]:
    """The body of one event type, `{"type", "timestamp", "data"}`, as a serializer (its component is
    named after the type: referral.decided is ReferralDecidedEvent)."""
    fields = {
        "__doc__": f"The body of a `{name}` event, sent when {event_types.sent_when(name)}.",
        "type": ConstField(name, help_text="The event type."),
        "timestamp": serializers.DateTimeField(help_text="When it happened."),
        "data": _data(name),
    }
    return type(f"{_camel(name)}Event", (serializers.Serializer,), fields)


def _header(name: str, schema: dict, description: str, required: bool = True) -> dict:
    return {"in": "header", "name": name, "required": required, "schema": schema, "description": description}


# What every webhook carries besides its body (Standard Webhooks); drf-spectacular's webhooks take no
# parameters, so clinic.web.api.openapi adds these.
WEBHOOK_HEADERS = [
    _header(
        "webhook-id",
        {"type": "string", "pattern": "^msg_[0-9a-f]{32}$"},
        "The event's id: the same on every retry and in the events feed. Deduplicate on it.",
    ),
    _header("webhook-timestamp", {"type": "integer"}, "When this attempt was signed, in Unix seconds."),
    _header(
        "webhook-signature",
        {"type": "string"},
        "Space-separated `v1,<base64 HMAC-SHA256>` of `<webhook-id>.<webhook-timestamp>.<body>`, keyed with "
        "your `whsec_` secret (two while a rotated secret overlaps: accept either).",
    ),
    _header(
        "X-Request-ID",
        {"type": "string"},
        "The id of the request that caused the event, for support.",
        required=False,
    ),
]


def webhooks() -> list[OpenApiWebhook]:
    """One webhook per event type, for drf-spectacular (clinic.web.api.openapi)."""
    return [
        OpenApiWebhook(
            name=name,
            decorator=extend_schema(
                summary=f"{name}: sent when {event_types.sent_when(name)}",
                description=_who_receives(name),
                request=event_serializer(name),
                responses={
                    "2XX": OpenApiResponse(description="Received. Answer within the timeout."),
                    "default": OpenApiResponse(
                        description="Anything else (a redirect too) is retried with backoff; `410 Gone` "
                        "stops your webhooks until the clinic turns them on again."
                    ),
                },
            ),
        )
        for name in event_types.ALL
    ]


def _who_receives(name: str) -> str:
    if name in event_types.ALWAYS_ON:
        return "Sent to every partner."
    return (
        "Sent only to partners subscribed to it: the clinic adds it on your written request (a sandbox "
        "partner receives it from the start). `GET /api/v1/event-types/` says whether you receive it."
    )


# --- The catalogue: GET /api/v1/event-types/ -------------------------------------------------------


COMPONENT = "#/components/schemas/"


def _refs(value) -> list[str]:
    """The component names a schema's `$ref`s point at."""
    if isinstance(value, dict):
        own = [value["$ref"].removeprefix(COMPONENT)] if isinstance(value.get("$ref"), str) else []
        return own + [name for item in value.values() for name in _refs(item)]
    if isinstance(value, list):
        return [name for item in value for name in _refs(item)]
    return []


# drf-spectacular's own bookkeeping, which its document drops too.
INTERNAL = frozenset({"x-spec-enum-id"})


def _moved_to_defs(value):
    if isinstance(value, dict):
        return {
            key: (item.replace(COMPONENT, "#/$defs/") if key == "$ref" else _moved_to_defs(item))
            for key, item in value.items()
            if key not in INTERNAL
        }
    if isinstance(value, list):
        return [_moved_to_defs(item) for item in value]
    return value


def _json_schema(schema: dict, components: dict) -> dict:
    """A webhook body's OpenAPI 3.1 schema as one self-contained JSON Schema (2020-12): the components
    it reaches move under `$defs`."""
    used: dict[str, dict] = {}
    todo = _refs(schema)
    while todo:
        name = todo.pop()
        if name not in used:
            used[name] = components[name]
            todo += _refs(components[name])
    return _moved_to_defs({"$schema": JSON_SCHEMA_DIALECT, **schema, "$defs": dict(sorted(used.items()))})


@functools.cache
def _webhook_bodies() -> tuple[dict[str, dict], dict[str, dict]]:
    """Each type's body schema, and the components they name, as the OpenAPI document's `webhooks`
    have them (OpenAPI 3.1 schemas are JSON Schema 2020-12). Built once per process."""
    registry = ComponentRegistry()
    # JSON Schema is what OpenAPI 3.1 writes, whatever the document's default version.
    with patched_settings({"OAS_VERSION": "3.1.0"}):
        items = process_webhooks(webhooks(), registry)
        components = registry.build({}).get("schemas", {})
    bodies = {
        name: item["post"]["requestBody"]["content"]["application/json"]["schema"]
        for name, item in items.items()
    }
    return bodies, components


def schema_for(name: str, webhook_format: str) -> dict:
    """The JSON Schema of a type's body as a partner of `webhook_format` receives it: `data` in JSON
    (the referral, ReferralOut, or an event's own `data`) or the FHIR Bundle for FHIR."""
    bodies, components = _webhook_bodies()
    chosen_formats = {}
    for component, json_branch in _json_branches().items():
        data = components.get(component)
        if data is not None:
            chosen = "FhirBundle" if webhook_format == WebhookFormat.FHIR else json_branch
            one_format = {key: value for key, value in data.items() if key != "oneOf"}
            chosen_formats[component] = one_format | {"allOf": [{"$ref": COMPONENT + chosen}]}
    return _json_schema(bodies[name], components | chosen_formats)


class EventTypeSerializer(serializers.Serializer):
    name = OpenChoiceField(
        choices=event_types.ALL, help_text="The type, as an event's `type` and the feed's `types=` name it."
    )
    description = serializers.CharField(help_text="When it is sent.")
    always_on = serializers.BooleanField(
        help_text="true: sent to every partner. false: sent only to partners subscribed to it, which the "
        "clinic adds on the partner's written request naming its care role."
    )
    receives = serializers.BooleanField(
        help_text="Whether you receive it now, by webhook and in the events feed."
    )
    payload_schema = serializers.JSONField(
        help_text="The JSON Schema (2020-12) of the body you receive: `{type, timestamp, data}`, with `data` "
        "in your webhook format. Ignore members you do not know: more may be added within v1."
    )


def catalogue(partner: Partner) -> list[dict]:
    return [
        {
            "name": name,
            "description": f"Sent when {event_types.sent_when(name)}.",
            "always_on": name in event_types.ALWAYS_ON,
            "receives": event_types.receives(partner.event_types, name),
            "payload_schema": schema_for(name, partner.webhook_format),
        }
        for name in event_types.ALL
    ]


class EventTypeListView(GenericAPIView):
    """Every event type the clinic sends, the JSON Schema of its body, and whether you receive it. An
    unpaginated array; more types may be added within v1 (a change to what an event's `data` means ships
    as a new type)."""

    serializer_class = EventTypeSerializer
    pagination_class = None

    @extend_schema(
        operation_id="listEventTypes",
        responses={
            200: EventTypeSerializer(many=True),
            **{(code, PROBLEM_JSON): ProblemSerializer for code in (401, 403, 429)},
        },
    )
    def get(self, request: Request) -> Response:
        return Response(catalogue(partner_of(request)))


# --- The events feed: `types=` and subscriptions -------------------------------------------------

TYPES_PARAMETER = OpenApiParameter(
    "types",
    {"type": "array", "minItems": 1, "items": open_enum(event_types.ALL)},
    style="form",
    explode=False,
    description="Only these event types, comma-separated (`types=referral.decided,referral.withdrawn`); "
    "each a name from `GET /api/v1/event-types/`. Absent: every type you receive. A type you do not "
    "receive lists nothing.",
)
SHOWN_UNKNOWN = 5


def parse_types(request: Request) -> list[str] | None:
    """The feed's `types=` (comma-separated, and may be repeated): the names asked for, in the
    catalogue's order, or None when absent. An unknown name, or none at all, is a field error."""
    given = request.query_params.getlist("types")
    if not given:
        return None
    names = {name.strip() for value in given for name in value.split(",") if name.strip()}
    if not names:
        raise ValidationError(
            {
                "types": [
                    "Name at least one event type, comma-separated (for example referral.decided), or "
                    "leave `types` out for every type."
                ]
            }
        )
    if unknown := sorted(event_types.unknown_types(names)):
        shown = ", ".join(name[:60] for name in unknown[:SHOWN_UNKNOWN])
        more = f" and {len(unknown) - SHOWN_UNKNOWN} more" if len(unknown) > SHOWN_UNKNOWN else ""
        raise ValidationError(
            {
                "types": [
                    f"Unknown event type {shown}{more}; use names from GET /api/v1/event-types/: "
                    f"{', '.join(event_types.ALL)}."
                ]
            }
        )
    return [name for name in event_types.ALL if name in names]


def visible_types(*, partner: Partner, asked: list[str] | None = None) -> list[str]:
    """The event types the feed lists for `partner` now: those asked for (every type when None) that
    it receives now. Subscriptions govern the feed as well as the webhooks, so an event of a type the
    partner has since unsubscribed from is no longer listed."""
    names = event_types.ALL if asked is None else asked
    return [name for name in names if event_types.receives(partner.event_types, name)]


def feed_types(request: Request) -> list[str]:
    """For the events feed: the types to list for the calling partner (`types=` and its subscriptions)."""
    return visible_types(partner=partner_of(request), asked=parse_types(request))
