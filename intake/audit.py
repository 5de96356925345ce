"""The audit: reads of patients' cases, the tamper-evident chains (keyed, sealed and compared with
the signed checkpoints of intake.checkpoints), and their export."""

import hmac
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
from intake.models.records import SEALED_LOOKUPS, UnknownAuditKeyError, seal


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
    # "altered", "inserted", "deleted", "unkeyed", "unsealed", "unknown key", "rewound" or "checkpoints"
    kind: str
    case_id: uuid.UUID | None  # None for a problem of the checkpoint file itself
    row: str
    detail: str

    def __str__(self) -> str:
        where = f"case {self.case_id}" if self.case_id else "checkpoint file"
        return f"{self.kind}: {where}, {self.row}: {self.detail}"


@dataclass(frozen=True)
class Checkpointed:
    """A case's chain as the newest signed checkpoint recorded it (intake.checkpoints)."""

    length: int
    head: str
    at: str


def _same(stored: str | None, expected: str) -> bool:
    # Bytes: compare_digest refuses str with non-ASCII, which anyone writing the database can put there.
    return hmac.compare_digest((stored or "").encode(), expected.encode())


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


def _walk(case_id, rows: list[ChainedRecord]) -> ChainProblem | None:
    previous = GENESIS
    for expected, row in enumerate(rows, start=1):
        name = f"{row._meta.object_name} {row.pk} (#{row.chain_seq})"
        if row.chain_seq is None or row.chain_seq < expected:
            return ChainProblem("inserted", case_id, name, "a second row claims this place in the chain")
        if row.chain_seq > expected:
            return ChainProblem("deleted", case_id, name, f"row #{expected} before it is missing")
        if row.prev_hash != previous:
            return ChainProblem("inserted", case_id, name, "it does not follow the row before it")
        if not row.hash_key:
            return ChainProblem(
                "unkeyed",
                case_id,
                name,
                "it carries no audit key: anyone who can write the database could "
                "have written it (the unkeyed scheme, or a chain that did not verify when it was re-keyed)",
            )
        try:
            if not _same(row.row_hash, row.compute_hash()):
                return ChainProblem("altered", case_id, name, "its content no longer matches its hash")
        except UnknownAuditKeyError:
            return ChainProblem(
                "unknown key",
                case_id,
                name,
                f"it was signed with audit key {row.hash_key!r}, which "
                "AUDIT_KEYS does not hold: list every key that ever signed rows",
            )
        previous = row.row_hash
    return None


def _in_chain_order(rows: list[ChainedRecord]) -> list[ChainedRecord]:
    # Rows without a place (never chained) last, so the walk names the chain's own first problem.
    return sorted(rows, key=lambda r: (r.chain_seq is None, r.chain_seq or 0, r._meta.label, str(r.pk)))


def _holds(rows: list[ChainedRecord], length: int, head: str) -> bool:
    """Whether a chain (its rows in chain order) holds `length` rows ending in `head`, whatever follows."""
    if length <= 0:
        return (head or GENESIS) == GENESIS
    return len(rows) >= length and rows[length - 1].chain_seq == length and rows[length - 1].row_hash == head


def extending(moved: dict[uuid.UUID, tuple[Checkpointed, int, str]], *, batch: int = 500) -> set[uuid.UUID]:
    """Of the cases whose (length, head) moved since their checkpoint, given as (that checkpoint,
    length, head) now, those whose chain grew from the checkpointed state: it still holds that
    state and reaches the new head. The others were cut back or recomputed."""
    grown: set[uuid.UUID] = set()
    case_ids = list(moved)
    for start in range(0, len(case_ids), batch):
        for case_id, rows in _rows_of(case_ids[start : start + batch]).items():
            before, length, head = moved[case_id]
            rows = _in_chain_order(rows)
            if (
                length >= before.length
                and _holds(rows, before.length, before.head)
                and _holds(rows, length, head)
            ):
                grown.add(case_id)
    return grown


def _check_case(case, rows: list[ChainedRecord], checkpoint: Checkpointed | None) -> ChainProblem | None:
    case_id, head, length, sealed, *values = case
    rows = _in_chain_order(rows)
    problem = _walk(case_id, rows)
    if problem:
        return problem
    previous = rows[-1].row_hash if rows else GENESIS
    if len(rows) < length or previous != (head or GENESIS):
        return ChainProblem(
            "deleted", case_id, f"row #{len(rows) + 1}", f"the case records {length} rows, {len(rows)} remain"
        )
    if len(rows) > length:
        return ChainProblem("inserted", case_id, f"row #{len(rows)}", f"the case records only {length} rows")
    if checkpoint and not _holds(rows, checkpoint.length, checkpoint.head):
        return ChainProblem(
            "rewound",
            case_id,
            f"row #{checkpoint.length}",
            f"the checkpoint of {checkpoint.at} recorded "
            f"{checkpoint.length} rows ending in {checkpoint.head[:12]}; the chain now has {len(rows)} rows "
            "and does not hold that one: it was cut back or recomputed",
        )
    if length == 0:
        return ChainProblem(
            "deleted",
            case_id,
            "the case",
            "it has no chained rows, yet the application opens every case with one: its rows were "
            "removed, or the case was written outside the application",
        )
    key_id, colon, _ = sealed.partition(":")
    if not (key_id and colon):
        return ChainProblem(
            "unsealed",
            case_id,
            "the case row",
            "it carries no seal, so nothing vouches for its status, clinical fields or its patient's "
            "identity: the seal was removed outside the application",
        )
    try:
        expected = seal(key_id=key_id, case_id=case_id, head=head, length=length, values=values)
    except UnknownAuditKeyError:
        return ChainProblem(
            "unknown key",
            case_id,
            "the case row",
            f"its seal names audit key {key_id!r}, which AUDIT_KEYS does not hold: list every key "
            "that ever signed rows (or the seal was rewritten)",
        )
    if not _same(sealed, expected):
        return ChainProblem(
            "altered",
            case_id,
            "the case row",
            "its status, clinical fields or its patient's name, birth "
            "date or contact details changed without an entry in its chain (or its seal was rewritten)",
        )
    return None


def verify_chains(
    *, batch: int = 500, checkpointed: dict[str, Checkpointed] | None = None
) -> Iterator[ChainProblem]:
    """Every problem in every case's chain, the first of each case; with `checkpointed` (the
    signed checkpoints, intake.checkpoints.read), also every case cut back or deleted since."""
    checkpointed = checkpointed or {}
    seen: set[str] = set()
    cases = Case.objects.order_by("created_at", "id").values_list(
        "id", "audit_head", "audit_length", "audit_seal", *SEALED_LOOKUPS
    )
    chunk: list[tuple] = []
    for item in cases.iterator(chunk_size=batch):
        chunk.append(item)
        if len(chunk) == batch:
            yield from _check_chunk(chunk, checkpointed, seen)
            chunk = []
    if chunk:
        yield from _check_chunk(chunk, checkpointed, seen)
    for case_id, checkpoint in checkpointed.items():
        if case_id not in seen:
            yield ChainProblem(
                "deleted",
                uuid.UUID(case_id),
                "the case",
                f"the checkpoint of {checkpoint.at} recorded it "
                f"with {checkpoint.length} rows; it is no longer in the database",
            )


def _check_chunk(
    chunk: list[tuple], checkpointed: dict[str, Checkpointed], seen: set[str]
) -> Iterator[ChainProblem]:
    rows = _rows_of([case[0] for case in chunk])
    for case in chunk:
        seen.add(str(case[0]))
        problem = _check_case(case, rows[case[0]], checkpointed.get(str(case[0])))
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
