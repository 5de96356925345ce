"""Webhook signing secret rotation, self-service: a new secret, the old one kept for an overlap."""

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from clinic.web.api.auth import partner_of
from clinic.web.api.once import idempotent
from clinic.web.api.problems import PROBLEM_JSON
from clinic.web.api.serializers import ProblemSerializer
from intake.partner_webhooks import MAX_OVERLAP_HOURS, rotate_webhook_secret

PROBLEMS = {(code, PROBLEM_JSON): ProblemSerializer for code in (400, 401, 403, 409, 422, 429)}
OVERLAP_MESSAGE = (
    f"Give a whole number of hours from 0 (the old secret stops at once) to {MAX_OVERLAP_HOURS}."
)


class RotateSecretSerializer(serializers.Serializer):
    overlap_hours = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_OVERLAP_HOURS,
        error_messages={
            key: OVERLAP_MESSAGE for key in ("invalid", "null", "min_value", "max_value", "max_string_length")
        },
        help_text="How long the current secret keeps signing beside the new one, in hours "
        f"(default {settings.WEBHOOK_SECRET_OVERLAP_HOURS}). 0 stops it at once: use it if it leaked.",
    )


class RotatedSecretSerializer(serializers.Serializer):
    webhook_secret = serializers.CharField(
        help_text="The new signing secret (`whsec_…`). Shown this once: store it now."
    )
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True,
        help_text="Until then every webhook carries two signatures in `webhook-signature`, one with the "
        "new secret and one with the previous one, so your receiver may switch at any moment; after it, "
        "only the new secret signs. Null when the previous secret stopped at once.",
    )


class WebhookSecretRotateView(GenericAPIView):
    """Rotate your webhook signing secret without a gap.

    The new secret is returned once. The previous one keeps signing beside it until
    `previous_secret_expires_at`: each webhook's `webhook-signature` header then holds
    `v1,<signature with the new secret> v1,<signature with the previous one>`, and a Standard
    Webhooks library accepts the webhook with either secret. Deploy the new secret before the
    overlap ends. Rotating again during an overlap ends the older secret's at once (the two
    newest sign), so send an `Idempotency-Key`: a retry after a lost response then returns the
    same secret instead of rotating twice."""

    serializer_class = RotateSecretSerializer
    http_method_names = ["post", "options"]

    @extend_schema(
        operation_id="rotateWebhookSecret",
        request=RotateSecretSerializer,
        responses={200: RotatedSecretSerializer, **PROBLEMS},
        examples=[
            OpenApiExample(
                "Rotated, with the default overlap",
                # A made-up secret for the docs' example: it signs nothing.
                value={
                    "webhook_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  # noqa: S105  # nosec B105
                    "previous_secret_expires_at": "2026-11-26T10:00:00+00:00",  # nosec B105
                },
                response_only=True,
            )
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        partner = partner_of(request)
        serializer = RotateSecretSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rotation = rotate_webhook_secret(
            partner_id=partner.pk,
            by=f"the partner's API key {request.auth.prefix}",
            overlap_hours=serializer.validated_data.get("overlap_hours"),
        )
        body = RotatedSecretSerializer(
            {"webhook_secret": rotation.secret, "previous_secret_expires_at": rotation.previous_expires_at}
        ).data
        return Response(body)

    def finalize_response(self, request: Request, response: Response, *args, **kwargs) -> Response:
        # A secret: no cache on the way may keep it (the first answer and its replay alike).
        response["Cache-Control"] = "no-store"
        return super().finalize_response(request, response, *args, **kwargs)
