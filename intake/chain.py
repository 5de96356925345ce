"""Appending to a case's tamper-evident chain (case events, drafts, decisions, addenda).

The rows and the case's chain head are written together, under the case row's
lock, in the caller's transaction: the lock orders the chain, one writer per
case at a time, and a failure rolls back both. The same UPDATE re-seals the case
(intake.models.records.seal) with the clinical fields and the patient's identity
read by the locking SELECT, so a change to them made before the append is sealed
in, and one made without an append shows in `verify_audit`.
"""

from collections.abc import Sequence
from typing import TypeVar

from django.conf import settings
from django.db import transaction

from intake.models import GENESIS, Case, ChainedRecord
from intake.models.records import seal, sealed_values_of

R = TypeVar("R", bound=ChainedRecord)


def append(record: R) -> R:
    """Insert `record` as the next link of its case's chain and move the head to it."""
    append_all([record])
    return record


def append_all(records: Sequence[ChainedRecord]) -> None:
    """Insert `records`, all of one case, as its next links in order: one locked read and one
    head UPDATE for all of them."""
    case_id = records[0].chain_case_id()
    key_id = settings.AUDIT_KEY_ID
    # No savepoint: a failure here fails the caller's whole transaction anyway.
    with transaction.atomic(savepoint=False):
        # The patient's row is locked too: a wait for a concurrent patient edit then re-reads
        # the patient's details it committed, so the seal never goes back to the old ones.
        # (intake.services.amend_patient locks the cases before the patient: one order.)
        case = (
            Case.objects.select_for_update(of=("self", "patient")).select_related("patient").get(pk=case_id)
        )
        head, length, values = case.audit_head, case.audit_length, sealed_values_of(case)
        for record in records:
            record.chain_seq, record.prev_hash, record.hash_key = length + 1, head or GENESIS, key_id
            record.row_hash = record.compute_hash()
            record.save()
            head, length = record.row_hash, record.chain_seq
        Case.objects.filter(pk=case_id).update(
            audit_head=head,
            audit_length=length,
            audit_seal=seal(key_id=key_id, case_id=case_id, head=head, length=length, values=values),
        )


def link_locked(records: Sequence[ChainedRecord], *, case: Case) -> dict[str, object]:
    """Make `records` the next links of `case`, a case the caller read under its lock (case and
    patient, select_for_update) in this transaction and has already given the values it is about
    to write. Nothing is written: the caller inserts the records and writes the returned head
    fields in its own UPDATE of the case (intake.workflow.move_locked: one statement for the
    status and the head)."""
    key_id = settings.AUDIT_KEY_ID
    head, length = case.audit_head, case.audit_length
    for record in records:
        record.chain_seq, record.prev_hash, record.hash_key = length + 1, head or GENESIS, key_id
        record.row_hash = record.compute_hash()
        head, length = record.row_hash, record.chain_seq
    values = sealed_values_of(case)
    return {
        "audit_head": head,
        "audit_length": length,
        "audit_seal": seal(key_id=key_id, case_id=case.pk, head=head, length=length, values=values),
    }


def first_link(record: R, *, case: Case) -> R:
    """Make `record` the first link of `case`, a case not yet saved.

    The head and the seal go on the case object, so the case's own INSERT writes them:
    no lock, no head read and no head update for a chain that cannot have another
    writer yet. The caller saves the case, then the record, in one transaction."""
    if not case._state.adding or case.audit_length:
        raise ValueError("first_link is for a case that is not saved yet; use append.")
    key_id = settings.AUDIT_KEY_ID
    record.chain_seq, record.prev_hash, record.hash_key = 1, GENESIS, key_id
    record.row_hash = record.compute_hash()
    case.audit_head, case.audit_length = record.row_hash, 1
    case.audit_seal = seal(
        key_id=key_id, case_id=case.pk, head=case.audit_head, length=1, values=sealed_values_of(case)
    )
    return record
