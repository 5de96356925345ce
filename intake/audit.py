"""The audit: reads of patients' cases, the tamper-evident chains, and their export."""

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.db.models import F
from django.http import HttpRequest

from intake import exports
from intake.models import GENESIS, Case, CaseEvent, ChainedRecord, Partner, ReadAccess


def record_reads(
    *, request: HttpRequest, cases: Iterable[Case], channel: str, partner: Partner | None = None
) -> None:
    """One INSERT for any number of cases read by one request."""
    user = getattr(request, "user", AnonymousUser())
    user = user if getattr(user, "pk", None) and not partner else None
    label = f"partner: {partner.name}" if partner else (user.get_username() if user else "anonymous")
    ReadAccess.objects.bulk_create(
        ReadAccess(
            channel=channel,
            user=user,
            partner=partner,
            actor_label=label,
            case_id=case.pk,
            patient_id=case.patient_id,
            path=request.path[:300],
        )
        for case in cases
    )


# --- the chains --------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    kind: str  # "altered", "inserted" or "deleted"
    case_id: uuid.UUID
    row: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: case {self.case_id}, {self.row}: {self.detail}"


def _chained_models() -> list[type[ChainedRecord]]:
    """Every installed model that is part of a case's chain, whichever app defines it."""
    return [model for model in apps.get_models() if issubclass(model, ChainedRecord)]


def _rows_of(case_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ChainedRecord]]:
    rows: dict[uuid.UUID, list[ChainedRecord]] = {case_id: [] for case_id in case_ids}
    for model in _chained_models():
        lookup = model.chain_case_lookup
        queryset = model.objects.filter(**{f"{lookup}__in": case_ids}).annotate(chain_case_ref=F(lookup))
        for row in queryset:
            rows[row.chain_case_ref].append(row)
    return rows


def _check_case(case_id, head: str, length: int, rows: list[ChainedRecord]) -> ChainProblem | None:
    rows = sorted(rows, key=lambda r: (r.chain_seq or 0, r._meta.label, str(r.pk)))
    previous = GENESIS
    for expected, row in enumerate(rows, start=1):
        name = f"{row._meta.object_name} {row.pk} (#{row.chain_seq})"
        if row.chain_seq is None or row.chain_seq < expected:
            return ChainProblem("inserted", case_id, name, "a second row claims this place in the chain")
        if row.chain_seq > expected:
            return ChainProblem("deleted", case_id, name, f"row #{expected} before it is missing")
        if row.prev_hash != previous:
            return ChainProblem("inserted", case_id, name, "it does not follow the row before it")
        if row.compute_hash() != row.row_hash:
            return ChainProblem("altered", case_id, name, "its content no longer matches its hash")
        previous = row.row_hash
    if len(rows) < length or previous != (head or GENESIS):
        return ChainProblem(
            "deleted", case_id, f"row #{len(rows) + 1}", f"the case records {length} rows, {len(rows)} remain"
        )
    if len(rows) > length:
        return ChainProblem("inserted", case_id, f"row #{len(rows)}", f"the case records only {length} rows")
    return None


def verify_chains(*, batch: int = 500) -> Iterator[ChainProblem]:
    """Every problem in every case's chain, the first of each case."""
    cases = Case.objects.order_by("created_at", "id").values_list("id", "audit_head", "audit_length")
    chunk: list[tuple] = []
    for item in cases.iterator(chunk_size=batch):
        chunk.append(item)
        if len(chunk) == batch:
            yield from _check_chunk(chunk)
            chunk = []
    if chunk:
        yield from _check_chunk(chunk)


def _check_chunk(chunk: list[tuple]) -> Iterator[ChainProblem]:
    rows = _rows_of([case_id for case_id, _, _ in chunk])
    for case_id, head, length in chunk:
        problem = _check_case(case_id, head, length, rows[case_id])
        if problem:
            yield problem


# --- export ------------------------------------------------------------------------------

COLUMNS = ["time", "kind", "channel", "actor", "patient_mrn", "case_id", "detail"]


def export_csv(
    out: TextIO, *, mrn: str | None = None, since: datetime | None = None, until: datetime | None = None
) -> int:
    """Reads and changes, oldest first, for one patient and/or a time range."""
    reads = ReadAccess.objects.select_related("patient")
    events = CaseEvent.objects.select_related("case__patient")
    if mrn:
        reads, events = reads.filter(patient__mrn=mrn), events.filter(case__patient__mrn=mrn)
    if since:
        reads, events = reads.filter(at__gte=since), events.filter(created_at__gte=since)
    if until:
        reads, events = reads.filter(at__lt=until), events.filter(created_at__lt=until)
    rows = [
        (r.at, "read", r.channel, r.actor_label, r.patient.mrn, str(r.case_id), r.path) for r in reads
    ] + [
        (
            e.created_at,
            "change",
            "",
            e.actor_label,
            e.case.patient.mrn,
            str(e.case_id),
            f"{e.from_status or '-'} -> {e.to_status}: {e.note}" if e.to_status else e.note,
        )
        for e in events
    ]
    rows.sort(key=lambda row: row[0])
    writer = exports.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row[0].isoformat(), *row[1:]])
    return len(rows)
