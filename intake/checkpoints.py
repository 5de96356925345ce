"""Signed checkpoints of every case's chain head, in an append-only file outside the database.

The keyed chain (intake.models.records) stops anyone who can write the database from
recomputing rows; it cannot stop them from putting back an older, genuinely signed state
(cutting rows off a chain and restoring its earlier head and seal) or deleting a whole case.
The checkpoints can: every few minutes (`intake.write_audit_checkpoint`, or
`manage.py audit_checkpoint`) one JSON line records the cases whose (length, head) changed
since the line before, HMAC'd with the audit key and chained to that line's MAC, and
`verify_audit` reports any case that is shorter than, differs from, or is missing since
its newest checkpoint.

A line: {"at", "key", "prev", "total", "cases": {case id: [length, head]}, "mac"}.
"""

import fcntl
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from intake.audit import ChainProblem, Checkpointed
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


def _signed_text(entry: dict) -> str:
    body = {name: value for name, value in entry.items() if name != "mac"}
    return "audit-checkpoint|" + json.dumps(body, sort_keys=True, separators=(",", ":"))


def _problem(number: int, detail: str) -> ChainProblem:
    return ChainProblem("checkpoints", None, f"line {number}", detail)


def parse(text: str) -> Checkpoints:
    """Read the file's lines in order, up to the first that does not verify."""
    found = Checkpoints()
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            entry = json.loads(line)
            signed = _signed_text(entry)
            mac, key_id, cases = entry["mac"], entry["key"], entry["cases"]
        except (ValueError, KeyError, TypeError, AttributeError):
            found.problems.append(_problem(number, "it is not a checkpoint line: the file was edited"))
            return found
        try:
            valid = audit_mac(key_id, signed) == mac
        except UnknownAuditKeyError:
            found.problems.append(
                _problem(number, f"it is signed with audit key {key_id!r}, which AUDIT_KEYS does not hold")
            )
            return found
        if not valid:
            found.problems.append(_problem(number, "its content no longer matches its MAC: it was altered"))
            return found
        if entry.get("prev", "") != found.last_mac:
            found.problems.append(
                _problem(number, "it does not follow the line before it: lines were removed or reordered")
            )
            return found
        for case_id, (length, head) in cases.items():
            found.cases[case_id] = Checkpointed(length=length, head=head, at=entry["at"])
        found.last_mac, found.lines, found.last_at = mac, number, entry["at"]
    return found


def read(path: Path | None = None) -> Checkpoints | None:
    """The checkpoints in `path` (AUDIT_CHECKPOINT_FILE by default); None when there is no file yet."""
    path = Path(path or settings.AUDIT_CHECKPOINT_FILE)
    try:
        return parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def _read_fd(fd: int) -> str:
    chunks, offset = [], 0
    while chunk := os.pread(fd, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks).decode("utf-8", errors="replace")


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
        known = parse(_read_fd(fd))
        if known.problems:
            raise CheckpointError(
                f"{path}: {known.problems[0].row}: {known.problems[0].detail}. No checkpoint was written. "
                "Keep the file as evidence and find out who changed it; then move it aside, and the "
                "next checkpoint starts a new file."
            )
        changed, total, present = {}, 0, set()
        for case_id, length, head in Case.objects.values_list("id", "audit_length", "audit_head").iterator(
            chunk_size=2000
        ):
            total += 1
            present.add(str(case_id))
            before = known.cases.get(str(case_id))
            if before is None or (before.length, before.head) != (length, head):
                changed[str(case_id)] = [length, head]
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
        os.write(fd, (json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)  # also releases the lock
    log.info("audit checkpoint written: %d case(s) moved, %d in all", len(changed), total)
    return len(changed)
