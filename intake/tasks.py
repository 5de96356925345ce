"""Celery tasks of the intake side: the audit's housekeeping."""

from celery import shared_task

from intake import checkpoints, idempotency


@shared_task(name="intake.write_audit_checkpoint")
def write_audit_checkpoint() -> int:
    # A file that does not verify raises CheckpointError: the task fails loudly and writes nothing.
    return checkpoints.write()


@shared_task(name="intake.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    return idempotency.purge_expired()
