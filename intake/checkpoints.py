"""Signed checkpoints of every case's chain head, in an append-only file outside the database.

The keyed chain (intake.models.records) stops anyone who can write the database from
recomputing rows; it cannot stop them from putting back an older, genuinely signed state
(cutting rows off a chain and restoring its earlier head and seal) or deleting a whole case.
The checkpoints can: every few minutes (`intake.write_audit_checkpoint`, or
`manage.py audit_checkpoint`) one JSON line records the cases whose (length, head) changed
since the line before, HMAC'd with the audit key and chained to that line's MAC, and
`verify_audit` reports any case that is shorter than, differs from, or is missing since
its newest checkpoint. A checkpoint only ever moves a case forward: the writer does not record
a chain that no longer grows from its last checkpoint, and a reader never lowers a case's
checkpointed length.

A line: {"at", "key", "prev", "total", "cases": {case id: [length, head]}, "mac"}.
"""

import errno
import fcntl
import hmac
import json
import logging
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from intake.audit import ChainProblem, Checkpointed, extending
from intake.models import Case
from intake.models.records import UnknownAuditKeyError, audit_mac

log = logging.getLogger(__name__)


class CheckpointError(Exception):
    """The checkpoint file cannot be trusted, so no checkpoint is added to it."""


@dataclass
class Checkpoints:
    """What a checkpoint file says: each case's newest checkpoint, and what is wrong with the file."""

    cases: dict[str, Checkpointed] = field(default_factory=dict)
    problems: list[ChainProblem] = field(default_factory=list)
    last_mac: str = ""
    lines: int = 0
    last_at: str = ""
    # Bytes of the file up to its last whole line (a torn last line is left out).
    whole: int = 0


def _signed_text(entry: dict) -> str:
    body = {name: value for name, value in entry.items() if name != "mac"}
    return "audit-checkpoint|" + json.dumps(body, sort_keys=True, separators=(",", ":"))


def _problem(number: int, detail: str) -> ChainProblem:
    return ChainProblem("checkpoints", None, f"line {number}", detail)


def _well_formed(entry) -> bool:
    if not (isinstance(entry, dict) and isinstance(entry.get("cases"), dict)):
        return False
    if not all(isinstance(entry.get(name), str) for name in ("mac", "key", "at", "prev")):
        return False
    for case_id, state in entry["cases"].items():
        try:
            uuid.UUID(case_id)
        except ValueError:
            return False
        if not (isinstance(state, list) and len(state) == 2 and isinstance(state[1], str)):
            return False
        if type(state[0]) is not int or state[0] < 0:
            return False
    return True


def parse(data: bytes | str) -> Checkpoints:
    """Read the file's lines in order, up to the first that does not verify."""
    data = data.encode() if isinstance(data, str) else data
    found = Checkpoints()
    *lines, torn = data.split(b"\n")
    found.whole = len(data) - len(torn)
    if torn:
        # Writers append whole lines under a lock; a torn one is a writer that died mid-line.
        log.warning("audit checkpoints: the last line is incomplete (%d bytes); it is left out", len(torn))
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line.decode("utf-8"))
            signed = _signed_text(entry) if _well_formed(entry) else None
        except (UnicodeDecodeError, ValueError, TypeError, RecursionError):
            signed = None
        if signed is None:
            found.problems.append(_problem(number, "it is not a checkpoint line: the file was edited"))
            return found
        mac, key_id = entry["mac"], entry["key"]
        try:
            valid = hmac.compare_digest(audit_mac(key_id, signed).encode(), mac.encode())
        except UnknownAuditKeyError:
            found.problems.append(
                _problem(number, f"it is signed with audit key {key_id!r}, which AUDIT_KEYS does not hold")
            )
            return found
        if not valid:
            found.problems.append(_problem(number, "its content no longer matches its MAC: it was altered"))
            return found
        if entry["prev"] != found.last_mac:
            found.problems.append(
                _problem(number, "it does not follow the line before it: lines were removed or reordered")
            )
            return found
        for case_id, (length, head) in entry["cases"].items():
            before = found.cases.get(case_id)
            # Chains only grow: a later line with a shorter chain (an older writer recorded a
            # rewind) never replaces what was checkpointed before.
            if before is None or length > before.length:
                found.cases[case_id] = Checkpointed(length=length, head=head, at=entry["at"])
        found.last_mac, found.lines, found.last_at = mac, number, entry["at"]
    return found


def read(path: Path | None = None) -> Checkpoints | None:
    """The checkpoints in `path` (AUDIT_CHECKPOINT_FILE by default); None when there is no file yet."""
    path = Path(path or settings.AUDIT_CHECKPOINT_FILE)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # never a line the writer is still appending
        return parse(_read_fd(fd))
    finally:
        os.close(fd)


def _read_fd(fd: int) -> bytes:
    chunks, offset = [], 0
    while chunk := os.pread(fd, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _append(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if not written:
            raise OSError(errno.EIO, "the checkpoint line could not be written whole")
        view = view[written:]


def write(path: Path | None = None) -> int:
    """Append one signed checkpoint of the cases whose chain moved since the last one; return
    how many it records (0: nothing moved, nothing written). Refuses a file that does not verify."""
    path = Path(path or settings.AUDIT_CHECKPOINT_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: every write lands at the end, whatever anyone else did to the offset.
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        # One writer at a time (a second beat, the command beside the task): both would sign
        # the same previous line and break the file's chain.
        fcntl.flock(fd, fcntl.LOCK_EX)
        data = _read_fd(fd)
        known = parse(data)
        if known.problems:
            raise CheckpointError(
                f"{path}: {known.problems[0].row}: {known.problems[0].detail}. No checkpoint was written. "
                "Keep the file as evidence and find out who changed it; then move it aside, and the "
                "next checkpoint starts a new file."
            )
        if known.whole < len(data):
            # We hold the lock, so no one is writing it: a writer died mid-line. The next line
            # must start on a line of its own.
            os.ftruncate(fd, known.whole)
        changed, moved, total, present = {}, {}, 0, set()
        for case_id, length, head in Case.objects.values_list("id", "audit_length", "audit_head").iterator(
            chunk_size=2000
        ):
            total += 1
            present.add(str(case_id))
            before = known.cases.get(str(case_id))
            if before is None:
                changed[str(case_id)] = [length, head]
            elif (before.length, before.head) != (length, head):
                moved[case_id] = (before, length, head)
        grown = extending(moved)
        changed.update({str(case_id): [moved[case_id][1], moved[case_id][2]] for case_id in grown})
        if len(grown) < len(moved):
            # Their checkpoint stays as it was, so verify_audit keeps reporting them.
            log.error(
                "audit checkpoint: %d case(s) no longer extend their last checkpoint (cut back or "
                "recomputed) and were not recorded; run verify_audit",
                len(moved) - len(grown),
            )
        missing = len(set(known.cases) - present)
        if missing:
            log.error("audit checkpoint: %d checkpointed case(s) are missing; run verify_audit", missing)
        if not changed:
            return 0
        key_id = settings.AUDIT_KEY_ID
        entry = {
            "at": timezone.now().isoformat(),
            "key": key_id,
            "prev": known.last_mac,
            "total": total,
            "cases": changed,
        }
        entry["mac"] = audit_mac(key_id, _signed_text(entry))
        _append(fd, (json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)  # also releases the lock
    log.info("audit checkpoint written: %d case(s) moved, %d in all", len(changed), total)
    return len(changed)
