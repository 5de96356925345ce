"""For a partner's developer: the events feed (for partners that cannot receive webhooks) and
webhook self-service (what was sent, resend, a signed test ping). Partner keys only; every
id is the partner's own, another partner's is 404."""

import base64
import binascii
import uuid

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from clinic.web import notifications, tasks, webhooks
from clinic.web.api import catalogue
from clinic.web.api.auth import partner_of
from clinic.web.api.once import idempotent
from clinic.web.api.problems import PROBLEM_JSON, problem_response
from clinic.web.api.serializers import OpenChoiceField, ProblemSerializer
from clinic.web.api.throttle import PartnerPingThrottle, PartnerRateThrottle
from clinic.web.api.views import ReferralPagination
from intake import event_types
from intake.models import Partner, PartnerNotification
from intake.selectors import UnknownEventCursor, partner_deliveries, partner_delivery, partner_events

PROBLEMS = {(code, PROBLEM_JSON): ProblemSerializer for code in (400, 401, 403, 404, 409, 422, 429)}
EVENTS_PER_PAGE = 100


def event_id(notification: PartnerNotification) -> str:
    """The id a webhook carries in its `webhook-id` header; the feed lists the same."""
    return f"msg_{notification.pk.hex}"


class EventSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The event's id: the `webhook-id` its webhook carries.")
    type = OpenChoiceField(
        choices=event_types.ALL,
        help_text="The event type (GET /api/v1/event-types/); more may be added within v1.",
    )
    timestamp = serializers.DateTimeField()
    data = serializers.JSONField(
        help_text="As in the webhook: the referral (schema ReferralOut), or its FHIR Bundle for a partner "
        "whose webhook format is FHIR."
    )


class EventPageSerializer(serializers.Serializer):
    events = EventSerializer(many=True)
    next = serializers.CharField(help_text="Send it as `after` to read on; the same when nothing is new.")
    has_more = serializers.BooleanField(help_text="True when more events wait now: ask again at once.")


def encode_cursor(notification: PartnerNotification) -> str:
    """Opaque to partners: the last event read. (Cursors of the earlier form, "time|id", still
    work: only the id after the bar is read.)"""
    return base64.urlsafe_b64encode(str(notification.pk).encode()).decode().rstrip("=")


BAD_CURSOR = "Not a cursor of this feed: send the `next` of an earlier page, or leave it out."


def decode_cursor(cursor: str) -> uuid.UUID:
    """The event a cursor names; any other text is the partner's 400, never our 500."""
    try:
        if len(cursor) > 200 or not cursor.isascii():
            raise ValueError(cursor[:20])
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        return uuid.UUID(raw.rpartition("|")[2])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValidationError({"after": [BAD_CURSOR]}) from None


class EventFeedView(GenericAPIView):
    """Your events, oldest first: the same payloads as the webhooks, kept at least 30 days.

    Start without `after`, then send each page's `next`. An event is listed once no
    transaction that could come before it is still open, so none is ever skipped, however
    late it commits."""

    serializer_class = EventPageSerializer
    pagination_class = None

    @extend_schema(
        operation_id="listEvents",
        parameters=[
            OpenApiParameter("after", str, description="The `next` of the page before."),
            catalogue.TYPES_PARAMETER,
        ],
        responses={200: EventPageSerializer, **PROBLEMS},
    )
    def get(self, request: Request) -> Response:
        after = request.query_params.get("after")
        position = decode_cursor(after) if after else None
        # `types=` (an unknown name is a 400 on field `types`) among the types the partner receives now:
        # subscriptions govern the feed as well as the webhooks (DESIGN.md).
        types = catalogue.feed_types(request)
        try:
            rows = partner_events(
                partner=partner_of(request), after=position, limit=EVENTS_PER_PAGE + 1, types=types
            )
        except UnknownEventCursor:
            raise ValidationError({"after": [BAD_CURSOR]}) from None
        page = rows[:EVENTS_PER_PAGE]
        events = [{"id": event_id(row), **webhooks.payload_as_sent(row)} for row in page]
        return Response(
            {
                "events": events,
                "next": encode_cursor(page[-1]) if page else (after or ""),
                "has_more": len(rows) > EVENTS_PER_PAGE,
            }
        )


class AttemptSerializer(serializers.Serializer):
    attempted_at = serializers.DateTimeField()
    url = serializers.CharField()
    status_code = serializers.IntegerField(
        allow_null=True, help_text="Your endpoint's HTTP status; null if none."
    )
    duration_ms = serializers.IntegerField()
    error = serializers.CharField(help_text="Why it failed (empty when it was delivered).")


REENABLE = (
    "Nothing is sent until your webhooks are re-enabled: ask the clinic, or have it set your new webhook "
    "URL. Your events wait and are sent then; /api/v1/events/ lists them meanwhile."
)


class EndpointDisabledSerializer(serializers.Serializer):
    disabled_at = serializers.DateTimeField()
    reason = serializers.CharField(help_text="Which delivery your endpoint answered 410 Gone, and what now.")


class DeliverySerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The delivery's id, for resend.")
    event_id = serializers.CharField(help_text="The `webhook-id` header.")
    event_type = OpenChoiceField(choices=event_types.ALL, help_text="The event type.")
    referral_id = serializers.UUIDField(allow_null=True, help_text="Null for a ping.")
    state = serializers.ChoiceField(choices=PartnerNotification.State.values)
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    next_retry_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When it is tried again, if it will be (null while your webhooks are disabled).",
    )
    endpoint_disabled = EndpointDisabledSerializer(
        allow_null=True,
        help_text="Set on a pending delivery while your webhooks are disabled (your endpoint answered "
        "410 Gone): it waits, and is sent when they are re-enabled. Null otherwise.",
    )
    attempts = AttemptSerializer(many=True)


def endpoint_disabled(partner: Partner) -> dict | None:
    if partner.webhook_disabled_at is None:
        return None
    return {
        "disabled_at": partner.webhook_disabled_at,
        "reason": f"{partner.webhook_disabled_reason} {REENABLE}",
    }


def delivery_data(notification: PartnerNotification, *, partner: Partner) -> dict:
    waits = notification.state == PartnerNotification.State.PENDING and partner.webhook_disabled_at
    pending = notification.state == PartnerNotification.State.PENDING and not waits
    return {
        "id": notification.pk,
        "event_id": event_id(notification),
        "event_type": notification.event_type,
        "referral_id": notification.case_id,
        "state": notification.state,
        "created_at": notification.created_at,
        "delivered_at": notification.delivered_at,
        "next_retry_at": notification.next_attempt_at if pending else None,
        "endpoint_disabled": endpoint_disabled(partner) if waits else None,
        "attempts": [
            {
                "attempted_at": a.attempted_at,
                "url": a.url,
                "status_code": a.status_code,
                "duration_ms": a.duration_ms,
                "error": a.error,
            }
            for a in notification.attempt_log.all()
        ],
    }


class WebhookDeliveryListView(GenericAPIView):
    """Your webhook deliveries, newest first: each event's attempts (time, HTTP status,
    duration, error) and when it is tried next."""

    serializer_class = DeliverySerializer
    pagination_class = ReferralPagination  # the referral list's pages: newest first, 50 (up to 200)

    @extend_schema(
        operation_id="listWebhookDeliveries",
        parameters=[
            OpenApiParameter(
                "state", str, enum=PartnerNotification.State.values, description="Only this state."
            )
        ],
        responses={200: DeliverySerializer(many=True), **PROBLEMS},
    )
    def get(self, request: Request) -> Response:
        state = request.query_params.get("state")
        if state is not None and state not in PartnerNotification.State.values:
            raise ValidationError({"state": [f"Use one of: {', '.join(PartnerNotification.State.values)}."]})
        deliveries = partner_deliveries(partner=partner_of(request), state=state)
        page = self.paginate_queryset(deliveries)
        partner = partner_of(request)
        return self.get_paginated_response(
            [DeliverySerializer(delivery_data(n, partner=partner)).data for n in page]
        )


def _disabled(request: Request, partner: Partner) -> Response:
    return problem_response(
        409,
        f"Your webhooks are disabled: {partner.webhook_disabled_reason} {REENABLE}",
        instance=request.path,
        kind="webhooks-disabled",
        disabled_at=partner.webhook_disabled_at.isoformat(),
    )


def _no_url(request: Request) -> Response:
    return problem_response(
        409,
        "You have no webhook URL: ask the clinic to set one, or read your events at /api/v1/events/.",
        instance=request.path,
        kind="no-webhook-url",
    )


class WebhookDeliveryResendView(GenericAPIView):
    """Send a delivery again now, whatever happened before (its id stays the same)."""

    serializer_class = DeliverySerializer
    http_method_names = ["post", "options"]

    @extend_schema(
        operation_id="resendWebhookDelivery", request=None, responses={202: DeliverySerializer, **PROBLEMS}
    )
    @idempotent
    def post(self, request: Request, pk) -> Response:
        partner = partner_of(request)
        try:
            delivery = partner_delivery(partner=partner, delivery_id=pk)
        except PartnerNotification.DoesNotExist:
            raise NotFound() from None
        if delivery.event_type == PartnerNotification.PING:
            return problem_response(
                409,
                "A ping is sent once: send a new one with POST /api/v1/webhooks/test.",
                instance=request.path,
            )
        if partner.webhook_disabled_at is not None:
            return _disabled(request, partner)
        if not partner.webhook_url or not notifications.resend(
            notification_id=pk, queue_delivery=tasks.enqueue_delivery
        ):
            return _no_url(request)
        delivery = partner_delivery(partner=partner, delivery_id=pk)
        return Response(DeliverySerializer(delivery_data(delivery, partner=partner)).data, status=202)


class WebhookTestView(GenericAPIView):
    """Send a signed `ping` event to your webhook URL now and see what your endpoint answered.
    A ping is tried once, never retried, and is not listed in the events feed; six a minute."""

    # The ping is an HTTP call to the partner: no transaction stays open while it waits.
    idempotent_atomic = False

    serializer_class = DeliverySerializer
    http_method_names = ["post", "options"]
    throttle_classes = [PartnerRateThrottle, PartnerPingThrottle]

    @extend_schema(operation_id="testWebhook", request=None, responses={200: DeliverySerializer, **PROBLEMS})
    @idempotent
    def post(self, request: Request) -> Response:
        partner = partner_of(request)
        if not partner.webhook_url:
            return _no_url(request)
        if partner.webhook_disabled_at is not None:
            return _disabled(request, partner)
        ping = webhooks.send_ping(partner=partner)
        partner.refresh_from_db()  # a ping answered 410 Gone disables webhooks too
        delivery = partner_delivery(partner=partner, delivery_id=ping.pk)
        return Response(DeliverySerializer(delivery_data(delivery, partner=partner)).data)
