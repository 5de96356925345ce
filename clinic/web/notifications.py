"""What partners are told: the referral as a partner may see it, and the outbox rows
that the webhook sender (clinic.web.webhooks) delivers.

The events after the decision (`referral.treated`, `referral.course_closed`,
`referral.adverse_event`, `referral.follow_up`) carry the referral's `id` and `external_id` and their
own member only: never the decision's reason, a product's code, lot or dose, a form's item answers,
a name, or any free text (DESIGN.md, "Partners: events after the decision")."""

import copy
import uuid
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from clinic.aftercare import reporting, selectors
from clinic.aftercare.courses import CourseMoved
from clinic.aftercare.follow_up import follow_up_data
from clinic.aftercare.models import AdverseEvent, FormResponse, TreatmentRecord
from clinic.aftercare.statuses import COURSE
from intake import event_types, tracing
from intake.models import Case, CaseStatus, PartnerNotification
from intake.statuses import PARTNER_EVENTS, STATUS
from intake.vocabulary.needs import NOT_ASKED
from intake.workflow import Moved
from recommendations.decision_protocols import TREATMENT_ROUTES
from recommendations.selectors import current_draft, decision_of, with_decision

# Queues one notification's delivery once the surrounding transaction commits (clinic.web.tasks).
QueueDelivery = Callable[[uuid.UUID | str], None]


def needs_of(case: Case) -> dict:
    """What the current draft asks for, member by member; all empty when no draft asked (the
    specialist's own question). Only the contract's members: nothing else of the draft."""
    draft = current_draft(case)
    asked = (getattr(draft, "needs", None) or {}) if draft is not None else {}
    return {
        name: copy.deepcopy(empty if asked.get(name) is None else asked[name])
        for name, empty in NOT_ASKED.items()
    }


def referral_data(case: Case) -> dict:
    """A referral as a partner may see it: status, times, the open question (and, from rule
    set v3, what it needs) and the decision once there is one. Never the draft."""
    data = {
        "id": str(case.id),
        "external_id": case.external_id,
        "status": case.status,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.status_changed_at.isoformat(),
        "question": case.open_question if case.status == CaseStatus.NEEDS_INFORMATION else None,
        "decision": None,
    }
    if case.status == CaseStatus.NEEDS_INFORMATION:
        data["needs"] = needs_of(case)
    decision = decision_of(case)
    if decision is not None:
        data["decision"] = {
            "route": decision.route,
            "outcome": decision.outcome,
            "reason": decision.reason,
            "decided_at": decision.decided_at.isoformat(),
            # The snapshot the decision stored when signed (null: not_recommended, declined, or a
            # decision on a draft made without protocols).
            "protocol": copy.deepcopy(decision.protocol),
        }
    data["treatment"] = _treatment(case, decision)
    return data


def _treatment(case: Case, decision) -> dict | None:
    """The referral's `treatment`: null until a treatment decision opens a course (clinic.aftercare).
    Looked for only after such a decision, so a referral's path costs what it did before."""
    if decision is None or decision.route not in TREATMENT_ROUTES:
        return None
    return _jsonable(selectors.treatment_summary(case))


def _jsonable(value):
    """Times and ids as the API writes them, so a snapshot stored in the outbox reads as the GET."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def record_partner_event(*, case_id: uuid.UUID) -> PartnerNotification | None:
    """Inside the transaction of a status move that partners are told of (the status
    table's `partner_event`): the outbox row, so the webhook is sent even if the broker
    was down then. Its `data` is the referral as it stands at this move; a partner that
    takes FHIR gets it as a Bundle, rendered from this snapshot when first sent.
    A no-op for desk cases and for statuses partners are not told of."""
    case = with_decision(Case.objects.select_related("partner")).get(pk=case_id)
    event_type = STATUS[case.status].partner_event
    if event_type is None:
        return None
    return _record(case, event_type)


def record_decision_corrected(*, case_id: uuid.UUID) -> PartnerNotification | None:
    """Inside an addendum's transaction: `referral.decision_corrected`, whose `data` is the
    referral as in `referral.decided` (the addendum's text is the clinic's free text and is never
    sent). Written only for a partner subscribed to it now (intake.event_types)."""
    case = with_decision(Case.objects.select_related("partner")).get(pk=case_id)
    return _record(case, event_types.DECISION_CORRECTED)


def record_treated(*, record: TreatmentRecord) -> PartnerNotification | None:
    """Inside the signing's transaction: `referral.treated`, once per signed session."""
    case = Case.objects.select_related("partner").get(pk=record.case_id)
    # The course as it now stands (read in this transaction) over the record's own view of it.
    treatment = selectors.treated_data(record) | (selectors.treatment_summary(case) or {})
    return _record(case, event_types.TREATED, member=("treatment", treatment))


def record_course_closed(*, moved: CourseMoved) -> PartnerNotification | None:
    """Inside the course move's transaction: `referral.course_closed` when the course enters a state
    that tells partners (the course table's `partner_event`)."""
    if COURSE[moved.to_state].partner_event != event_types.COURSE_CLOSED:
        return None
    case = Case.objects.select_related("partner").get(pk=moved.case_id)
    course = selectors.course_of(case.pk)
    treatment = selectors.closed_data(course) | (selectors.treatment_summary(case) or {})
    return _record(case, event_types.COURSE_CLOSED, member=("treatment", treatment))


def record_adverse_event(*, adverse_event: AdverseEvent) -> PartnerNotification | None:
    """Inside the transaction that confirmed a serious adverse event (or an update made it serious)."""
    case = Case.objects.select_related("partner").get(pk=adverse_event.case_id)
    data = reporting.partner_adverse_event_data(adverse_event)
    return _record(case, event_types.ADVERSE_EVENT, member=("adverse_event", data))


def record_follow_up(*, response: FormResponse) -> PartnerNotification | None:
    """Inside the scoring transaction: `referral.follow_up`, one per instrument scored at a time point
    (the baseline's too). Its scores only: never the item answers or anything the patient wrote."""
    case = Case.objects.select_related("partner").get(pk=response.case_id)
    return _record(case, event_types.FOLLOW_UP, member=("follow_up", follow_up_data(response)))


def _record(
    case: Case, event_type: str, *, member: tuple[str, dict] | None = None
) -> PartnerNotification | None:
    """The outbox row of `event_type` about `case`, for its partner if it receives that type; None
    for a desk case or a partner not subscribed. Without `member`, `data` is the referral; with
    one, the referral's ids and that member alone."""
    partner = case.partner
    if partner is None or not event_types.receives(partner.event_types, event_type):
        return None
    if member is None:
        data = referral_data(case)
    else:
        name, value = member
        data = {"id": str(case.id), "external_id": case.external_id, name: _jsonable(value)}
    return PartnerNotification.objects.create(
        partner=partner,
        case=case,
        event_type=event_type,
        payload={"type": event_type, "timestamp": timezone.now().isoformat(), "data": data},
        request_id=tracing.current(),
        state=PartnerNotification.State.PENDING if partner.webhook_url else PartnerNotification.State.NO_URL,
    )


def _queue(notification: PartnerNotification | None, queue_delivery: QueueDelivery) -> None:
    if notification is not None and notification.state == PartnerNotification.State.PENDING:
        queue_delivery(notification.pk)


def tell_partner(*, moved: Moved, queue_delivery: QueueDelivery) -> None:
    """In the move's transaction: the outbox row commits with the move, and its delivery is
    queued for after the commit."""
    if moved.to_status not in PARTNER_EVENTS:
        return
    _queue(record_partner_event(case_id=moved.case_id), queue_delivery)


def tell_partner_of_correction(*, case_id: uuid.UUID, queue_delivery: QueueDelivery) -> None:
    """In an addendum's transaction, as tell_partner in a move's."""
    _queue(record_decision_corrected(case_id=case_id), queue_delivery)


def tell_partner_treated(*, record: TreatmentRecord, queue_delivery: QueueDelivery) -> None:
    """In the signing's transaction, as tell_partner in a move's."""
    _queue(record_treated(record=record), queue_delivery)


def tell_partner_course_closed(*, moved: CourseMoved, queue_delivery: QueueDelivery) -> None:
    """In the course move's transaction, as tell_partner in a move's."""
    _queue(record_course_closed(moved=moved), queue_delivery)


def tell_partner_adverse_event(*, adverse_event: AdverseEvent, queue_delivery: QueueDelivery) -> None:
    """In the confirming transaction, as tell_partner in a move's."""
    _queue(record_adverse_event(adverse_event=adverse_event), queue_delivery)


def tell_partner_follow_up(*, response: FormResponse, queue_delivery: QueueDelivery) -> None:
    """In the scoring transaction, as tell_partner in a move's."""
    _queue(record_follow_up(response=response), queue_delivery)


def resend(*, notification_id: uuid.UUID | str, queue_delivery: QueueDelivery) -> bool:
    """A person asked to send it again now, whatever happened before (an event written while
    the partner had no URL too, once it has one). False when the partner has no webhook URL, or
    its webhooks are disabled (its endpoint answered 410 Gone): they wait for re-enabling."""
    with transaction.atomic():
        due = bool(
            PartnerNotification.objects.filter(pk=notification_id, partner__webhook_disabled_at=None)
            .exclude(partner__webhook_url="")
            .update(state=PartnerNotification.State.PENDING, next_attempt_at=timezone.now())
        )
        if due:
            queue_delivery(notification_id)
    return due
