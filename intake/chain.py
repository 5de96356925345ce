"""Appending to a case's tamper-evident chain (case events, decisions, addenda).

The row and the case's chain head are written together, under the case row's
lock, in the caller's transaction: the lock orders the chain, one writer per
case at a time, and a failure rolls back both.
"""

from typing import TypeVar

from django.db import transaction

from intake.models import GENESIS, Case, ChainedRecord

R = TypeVar("R", bound=ChainedRecord)


def append(record: R) -> R:
    """Insert `record` as the next link of its case's chain and move the head to it."""
    case_id = record.chain_case_id()
    # No savepoint: a failure here fails the caller's whole transaction anyway.
    with transaction.atomic(savepoint=False):
        head, length = (
            Case.objects.select_for_update()
            .filter(pk=case_id)
            .values_list("audit_head", "audit_length")
            .get()
        )
        record.chain_seq, record.prev_hash = length + 1, head or GENESIS
        record.row_hash = record.compute_hash()
        record.save()
        Case.objects.filter(pk=case_id).update(audit_head=record.row_hash, audit_length=record.chain_seq)
    return record


def first_link(record: R, *, case: Case) -> R:
    """Make `record` the first link of `case`, a case not yet saved.

    The head goes on the case object, so the case's own INSERT writes it: no
    lock, no head read and no head update for a chain that cannot have another
    writer yet. The caller saves the case, then the record, in one transaction."""
    if not case._state.adding or case.audit_length:
        raise ValueError("first_link is for a case that is not saved yet; use append.")
    record.chain_seq, record.prev_hash = 1, GENESIS
    record.row_hash = record.compute_hash()
    case.audit_head, case.audit_length = record.row_hash, 1
    return record
