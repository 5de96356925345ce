"""Celery tasks of the intake side: webhook delivery and housekeeping."""

from celery import shared_task

from intake import idempotency, webhooks


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


@shared_task(name="intake.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    return idempotency.purge_expired()
