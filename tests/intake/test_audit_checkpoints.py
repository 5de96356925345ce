"""Signed checkpoints of the chain heads: what the keyed chain alone cannot catch (a case cut
back to an earlier, genuinely signed state, or deleted whole) is caught against the file."""

import json
import logging
from io import StringIO

import pytest
import redis
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from clinic.celery import app
from intake.models import Case, CaseEvent
from intake.models.records import GENESIS, audit_mac
from recommendations import review
from recommendations.models import Decision
from recommendations.services import make_draft
from tests.factories import make_case, make_user
from tests.support import WorkerProcess, committed_db, wait_for


@pytest.fixture(autouse=True)
def _infusion_covered(knee_infusion_protocol):
    """Specialists here amend knee drafts to an infusion, which rule set v3 takes under a protocol."""


@pytest.fixture(autouse=True)
def checkpoint_file(tmp_path):
    path = tmp_path / "checkpoints" / "audit-checkpoints.jsonl"
    with override_settings(AUDIT_CHECKPOINT_FILE=path):
        yield path


def raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def verify(*, every: bool = True) -> str:
    out = StringIO()
    try:
        call_command("verify_audit", *(["--all"] if every else []), stdout=out)
    except CommandError:
        return "BROKEN: " + out.getvalue()
    return out.getvalue()


def checkpoint() -> str:
    out = StringIO()
    call_command("audit_checkpoint", stdout=out)
    return out.getvalue()


def decided_case():
    case = make_case()
    make_draft(case_id=case.pk)
    doctor = make_user(group="Specialists")
    review.amend_draft(case_id=case.pk, user=doctor, route="intravenous", reason="Two joints")
    return Case.objects.get(pk=case.pk), doctor


def signed_line(previous: str, cases: dict) -> str:
    """A checkpoint line as a writer holding the audit key signs it."""
    entry = {"at": "2025-01-01T00:00:00+00:00", "key": "test1", "prev": previous, "total": 9, "cases": cases}
    text = "audit-checkpoint|" + json.dumps(entry, sort_keys=True, separators=(",", ":"))
    return json.dumps(entry | {"mac": audit_mac("test1", text)}) + "\n"


def last_mac(path) -> str:
    return json.loads(path.read_text().splitlines()[-1])["mac"]


def rewind(case: Case, earlier: tuple) -> None:
    # The admin removes the addendum and its note and puts back the head and seal they saw before:
    # every row and the seal are genuinely signed, so the chain alone looks whole.
    raw(
        "DELETE FROM recommendations_addendum WHERE decision_id IN "
        "(SELECT id FROM recommendations_decision WHERE case_id = %s)",
        [case.pk],
    )
    raw("DELETE FROM intake_caseevent WHERE case_id = %s AND chain_seq > %s", [case.pk, earlier[1]])
    raw(
        "UPDATE intake_case SET audit_head = %s, audit_length = %s, audit_seal = %s WHERE id = %s",
        [*earlier, case.pk],
    )


@pytest.mark.django_db
def test_a_case_cut_back_to_an_earlier_signed_state_is_caught_after_a_checkpoint():
    case, doctor = decided_case()
    earlier = (case.audit_head, case.audit_length, case.audit_seal)
    review.add_addendum(decision_id=Decision.objects.get(case=case).pk, user=doctor, reason="Wrong knee")
    assert "1 case(s) moved" in checkpoint()

    rewind(case, earlier)
    with override_settings(AUDIT_CHECKPOINT_FILE="/nonexistent/none.jsonl"):
        assert "Audit chains intact" in verify()  # what the chain alone can tell

    report = verify()
    assert report.startswith(f"BROKEN: rewound: case {case.pk}, row #{earlier[1] + 2}"), report
    assert f"the chain now has {earlier[1]} rows" in report


@pytest.mark.django_db
def test_a_rewind_stays_reported_after_the_next_checkpoints(checkpoint_file, caplog):
    case, doctor = decided_case()
    earlier = (case.audit_head, case.audit_length, case.audit_seal)
    review.add_addendum(decision_id=Decision.objects.get(case=case).pk, user=doctor, reason="Wrong knee")
    checkpoint()
    rewind(case, earlier)
    other = make_case()  # work goes on meanwhile

    with caplog.at_level(logging.ERROR, logger="intake.checkpoints"):
        assert "1 case(s) moved" in checkpoint()  # the new case, not the rewound one
    assert "1 case(s) no longer extend their last checkpoint" in caplog.text
    assert case.patient.family_name not in caplog.text and str(case.pk) not in caplog.text
    assert str(case.pk) not in checkpoint_file.read_text().splitlines()[-1]

    # A line an older writer signed with the rewound state does not lower the checkpoint either.
    with checkpoint_file.open("a") as file:
        file.write(signed_line(last_mac(checkpoint_file), {str(case.pk): [earlier[1], earlier[0]]}))
    report = verify()
    assert report.startswith(f"BROKEN: rewound: case {case.pk}, row #{earlier[1] + 2}"), report
    assert str(other.pk) not in report


@pytest.mark.django_db
def test_a_line_caught_half_written_is_left_out_and_the_next_checkpoint_follows(checkpoint_file, caplog):
    case = make_case()
    checkpoint()
    with checkpoint_file.open("a") as file:
        file.write('{"at":"2025-')  # a writer that died mid-line, or one a reader catches mid-write

    with caplog.at_level(logging.WARNING, logger="intake.checkpoints"):
        assert "Checkpoints intact: 1 lines" in verify()
    assert "incomplete" in caplog.text
    make_draft(case_id=case.pk)
    assert "1 case(s) moved" in checkpoint()
    assert "Checkpoints intact: 2 lines" in verify()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "damage",
    [
        lambda case, mac: b"\xff\xfe not text\n",
        lambda case, mac: signed_line(mac, {str(case.pk): 5}).encode(),
    ],
    ids=["not-utf8", "signed-but-malformed"],
)
def test_a_damaged_checkpoint_file_is_reported_beside_the_chains_problems(checkpoint_file, damage):
    case = make_case()
    checkpoint()
    with checkpoint_file.open("ab") as file:
        file.write(damage(case, last_mac(checkpoint_file)))
    raw("UPDATE intake_case SET pregnant = true WHERE id = %s", [case.pk])

    report = verify(every=False)  # the first problem of each, even without --all
    assert "checkpoints: checkpoint file, line 2: it is not a checkpoint line" in report, report
    assert f"altered: case {case.pk}, the case row" in report


@pytest.mark.django_db
def test_a_checkpoint_of_an_empty_chain_is_no_false_alarm(checkpoint_file):
    kept, emptied = make_case(), make_case()
    checkpoint_file.parent.mkdir()
    checkpoint_file.write_text(signed_line("", {str(kept.pk): [0, GENESIS], str(emptied.pk): [0, ""]}))
    raw("DELETE FROM intake_caseevent WHERE case_id = %s", [emptied.pk])
    raw("UPDATE intake_case SET audit_head = '', audit_length = 0 WHERE id = %s", [emptied.pk])

    report = verify()
    assert report.startswith(f"BROKEN: deleted: case {emptied.pk}, the case:") and str(kept.pk) not in report


@pytest.mark.django_db
def test_a_case_deleted_whole_after_a_checkpoint_is_caught():
    kept, gone = make_case(), make_case()
    checkpoint()

    raw("DELETE FROM intake_caseevent WHERE case_id = %s", [gone.pk])
    raw("DELETE FROM intake_case WHERE id = %s", [gone.pk])

    report = verify()
    assert f"deleted: case {gone.pk}, the case:" in report and "no longer in the database" in report
    assert str(kept.pk) not in report


@pytest.mark.django_db
def test_each_checkpoint_records_only_the_chains_that_moved_and_is_signed(checkpoint_file):
    first, second = make_case(), make_case()
    checkpoint()
    assert "Nothing moved" in checkpoint()
    make_draft(case_id=second.pk)

    checkpoint()

    lines = [json.loads(line) for line in checkpoint_file.read_text().splitlines()]
    assert [sorted(line["cases"]) for line in lines] == [
        sorted([str(first.pk), str(second.pk)]),
        [str(second.pk)],
    ]
    second.refresh_from_db()
    assert lines[1]["cases"][str(second.pk)] == [second.audit_length, second.audit_head]
    assert (lines[1]["prev"], lines[1]["key"], lines[1]["total"]) == (lines[0]["mac"], "test1", 2)
    assert "Checkpoints intact: 2 lines" in verify()


@pytest.mark.django_db
def test_an_edited_checkpoint_file_is_reported_and_never_written_to_again(checkpoint_file):
    case = make_case()
    checkpoint()
    make_draft(case_id=case.pk)
    checkpoint()
    lines = checkpoint_file.read_text().splitlines()

    # Someone lowers the recorded length, so that a later rewind would pass.
    entry = json.loads(lines[1])
    entry["cases"][str(case.pk)][0] = 1
    checkpoint_file.write_text(lines[0] + "\n" + json.dumps(entry) + "\n")
    assert "BROKEN: checkpoints: checkpoint file, line 2: its content no longer matches its MAC" in verify()
    with pytest.raises(CommandError, match="line 2: its content no longer matches its MAC.*No checkpoint"):
        checkpoint()

    # Someone drops the first line instead.
    checkpoint_file.write_text(lines[1] + "\n")
    assert "line 1: it does not follow the line before it" in verify()


@committed_db
def test_the_beat_task_writes_a_checkpoint_in_a_real_worker(checkpoint_file, settings):
    case = make_case()
    # A queue of its own: the session's shared worker (tests/conftest.py) must not take the task
    # and write to its own AUDIT_CHECKPOINT_FILE.
    queue = "audit-checkpoint-test"
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)  # a task an interrupted run left
    worker = WorkerProcess(
        broker_url=settings.CELERY_BROKER_URL,
        name="audit-checkpoint",
        env={"AUDIT_CHECKPOINT_FILE": str(checkpoint_file)},
        queues=(queue,),
    ).start()
    try:
        app.send_task("intake.write_audit_checkpoint", queue=queue)
        # A whole line, not only the file: the writer creates it, then appends.
        written = wait_for(
            lambda: checkpoint_file.exists() and checkpoint_file.read_text().endswith("\n"), timeout=30
        )
        assert written, worker.log()
    finally:
        worker.stop()

    # The worker may have drafted the case before or after the checkpoint: either state is recorded.
    (line,) = [json.loads(text) for text in checkpoint_file.read_text().splitlines()]
    length, head = line["cases"][str(case.pk)]
    assert CaseEvent.objects.get(case=case, chain_seq=1).row_hash == head if length == 1 else length > 1
    assert "Checkpoints intact: 1 lines" in verify() and "Audit chains intact: 1 cases" in verify()
