"""What partners are told: the outbox rows that the webhook sender delivers."""

import uuid

from django.utils import timezone

from intake.fhir.outbound import referral_bundle
from intake.models import Case, CaseStatus, PartnerNotification, WebhookFormat
from intake.webhooks import enqueue_delivery

PARTNER_EVENTS: dict[str, str] = {
    CaseStatus.DECIDED: "referral.decided",
    CaseStatus.NEEDS_INFORMATION: "referral.needs_information",
    CaseStatus.WITHDRAWN: "referral.withdrawn",
}


def referral_data(case: Case) -> dict:
    """A referral as a partner may see it: status, times, the open question and the
    decision once there is one. Never the draft."""
    data = {
        "id": str(case.id),
        "external_id": case.external_id,
        "status": case.status,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.status_changed_at.isoformat(),
        "question": case.open_question if case.status == CaseStatus.NEEDS_INFORMATION else None,
        "decision": None,
    }
    decision = getattr(case, "decision", None) if case.status == CaseStatus.DECIDED else None
    if decision is not None:
        data["decision"] = {
            "route": decision.route,
            "outcome": decision.outcome,
            "reason": decision.reason,
            "decided_at": decision.decided_at.isoformat(),
        }
    return data


def record_partner_event(*, case_id: uuid.UUID) -> PartnerNotification | None:
    """Called inside the transaction of a status change; a no-op for desk cases."""
    case = Case.objects.select_related("decision", "partner", "patient").get(pk=case_id)
    if case.partner is None:
        return None
    event_type = PARTNER_EVENTS[case.status]
    notification = PartnerNotification.objects.create(
        partner=case.partner,
        case=case,
        event_type=event_type,
        payload={
            "type": event_type,
            "timestamp": timezone.now().isoformat(),
            "data": referral_bundle(case)
            if case.partner.webhook_format == WebhookFormat.FHIR
            else referral_data(case),
        },
        state=(
            PartnerNotification.State.PENDING
            if case.partner.webhook_url
            else PartnerNotification.State.NO_URL
        ),
    )
    if notification.state == PartnerNotification.State.PENDING:
        enqueue_delivery(notification.pk)
    return notification
