"""Celery tasks of the partner face (webhook delivery), and the handlers this app registers on
status moves, addenda, signed treatments, course moves, confirmed adverse events and scored
follow-up answers (clinic.web.apps). Task names are unchanged from when they lived in intake.tasks,
so messages already queued by an earlier release still find them."""

import uuid

from celery import shared_task
from django.db import transaction

from clinic.aftercare.courses import CourseMoved
from clinic.aftercare.models import AdverseEvent, FormResponse, TreatmentRecord
from clinic.web import notifications, webhooks
from intake.workflow import Moved
from recommendations.models import Addendum


@shared_task(name="intake.deliver_notification", acks_late=True)
def deliver_notification(notification_id: str) -> str | None:
    # No Celery retries: a failed attempt reschedules itself in the database
    # (next_attempt_at) and the periodic task below picks it up.
    return webhooks.deliver(notification_id=notification_id)


@shared_task(name="intake.deliver_due_notifications", acks_late=True)
def deliver_due_notifications() -> int:
    due = webhooks.due_notifications()
    for notification_id in due:
        webhooks.deliver(notification_id=notification_id)
    return len(due)


def enqueue_delivery(notification_id: uuid.UUID | str) -> None:
    """Send once the surrounding transaction commits. robust: a broker outage must not
    fail the change; the periodic task above sends what is due."""

    def publish_delivery() -> None:
        deliver_notification.delay(str(notification_id))

    transaction.on_commit(publish_delivery, robust=True)


def tell_partner(moved: Moved) -> None:
    """Registered in the move's transaction (clinic.web.apps)."""
    notifications.tell_partner(moved=moved, queue_delivery=enqueue_delivery)


def tell_partner_of_addendum(addendum: Addendum) -> None:
    """Registered in the addendum's transaction (clinic.web.apps)."""
    notifications.tell_partner_of_correction(
        case_id=addendum.decision.case_id, queue_delivery=enqueue_delivery
    )


def tell_partner_treated(record: TreatmentRecord) -> None:
    """Registered in the signing's transaction (clinic.web.apps)."""
    notifications.tell_partner_treated(record=record, queue_delivery=enqueue_delivery)


def tell_partner_of_course(moved: CourseMoved) -> None:
    """Registered in the course move's transaction (clinic.web.apps): the course's end."""
    notifications.tell_partner_course_closed(moved=moved, queue_delivery=enqueue_delivery)


def tell_partner_adverse_event(adverse_event: AdverseEvent) -> None:
    """Registered in the transaction that confirms a serious adverse event (clinic.web.apps)."""
    notifications.tell_partner_adverse_event(adverse_event=adverse_event, queue_delivery=enqueue_delivery)


def tell_partner_follow_up(response: FormResponse) -> None:
    """Registered in the transaction that scores a follow-up answer (clinic.web.apps)."""
    notifications.tell_partner_follow_up(response=response, queue_delivery=enqueue_delivery)
