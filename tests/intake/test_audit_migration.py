"""Chains written under the old unkeyed scheme are re-keyed by the migration and keep verifying;
a chain that was already tampered with is left alone, and still reported."""

import hashlib
import json
from datetime import date, timedelta
from io import StringIO

from django.core.management import CommandError, call_command
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from intake.models import Case, CaseEvent
from intake.models.records import GENESIS, _plain
from recommendations.models import Decision, Recommendation
from recommendations.services import make_draft
from tests.factories import make_case
from tests.support import committed_db

BEFORE = [("intake", "0014_notification_feed_position"), ("recommendations", "0008_escalation_delivery")]


def old_hash(row) -> str:
    """ChainedRecord.compute_hash as it was: unkeyed SHA-256 over the row's fields."""
    fields = [
        f
        for f in row._meta.concrete_fields
        if f.attname != "row_hash"
        and not isinstance(f, models.AutoField | models.BigAutoField)
        and not (f.attname in ("signed_name", "signed_credentials") and getattr(row, f.attname) in ("", None))
    ]
    content = json.dumps(
        {f.attname: _plain(getattr(row, f.attname)) for f in fields},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(f"{row._meta.label}|{content}".encode()).hexdigest()


def decided_case_the_old_way(apps, *, family_name: str, tamper: bool = False):
    """A decided case as the old code wrote it: chained events and decision, the draft outside."""
    get = apps.get_model
    user = get("auth", "User").objects.create(username=f"dr_{family_name.lower()}")
    patient = get("intake", "Patient").objects.create(
        mrn=f"MRN-{family_name}",
        given_name="Ana",
        family_name=family_name,
        birth_date=date(1961, 4, 2),
        sex="female",
    )
    case = get("intake", "Case").objects.create(
        patient=patient,
        source="front_desk",
        condition_code="M17.11",
        affected_sites=["right_knee"],
        consent_obtained=True,
        due_at=timezone.now() + timedelta(days=2),
        **dict.fromkeys(
            [
                "active_malignancy",
                "active_infection",
                "pregnant",
                "anticoagulant_therapy",
                "bleeding_disorder",
                "immunosuppressed",
            ],
            False,
        ),
    )
    head, length = GENESIS, 0

    def chained(row):
        nonlocal head, length
        length += 1
        row.chain_seq, row.prev_hash = length, head
        row.row_hash = old_hash(row)
        row.save()
        head = row.row_hash
        return row

    event = get("intake", "CaseEvent")
    chained(event(case=case, actor_label="system", to_status="received", note="Intake received"))
    chained(event(case=case, actor_label="worker", from_status="received", to_status="drafting"))
    draft = get("recommendations", "Recommendation").objects.create(
        case=case,
        sequence=1,
        route="local_injection",
        rules=[],
        ruleset_version="v2",
        notice="n",
        engine_input={},
    )
    chained(event(case=case, actor_label="worker", from_status="drafting", to_status="awaiting_review"))
    chained(
        get("recommendations", "Decision")(
            case=case, recommendation=draft, route="local_injection", outcome="approved", decided_by=user
        )
    )
    last = chained(
        event(case=case, actor_label=user.username, from_status="awaiting_review", to_status="decided")
    )
    if tamper:
        event.objects.filter(pk=last.pk).update(note="added afterwards")
    get("intake", "Case").objects.filter(pk=case.pk).update(
        status="decided", audit_head=head, audit_length=length
    )
    # The column the old code pointed at its draft with (gone from the models' state today).
    with connection.cursor() as cursor:
        cursor.execute("UPDATE intake_case SET current_draft_id = %s WHERE id = %s", [draft.pk, case.pk])
    return case.pk


def verify() -> str:
    out = StringIO()
    try:
        call_command("verify_audit", "--all", stdout=out)
    except CommandError:
        return "BROKEN: " + out.getvalue()
    return out.getvalue()


@committed_db
def test_old_chains_are_re_keyed_and_a_tampered_one_stays_reported(tmp_path, settings):
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "none.jsonl"
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        old_apps = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        good = decided_case_the_old_way(old_apps, family_name="Good")
        bad = decided_case_the_old_way(old_apps, family_name="Bad", tamper=True)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(latest)

    report = verify()
    assert f"case {good}" not in report
    assert f"unkeyed: case {bad}, CaseEvent" in report and "(#1)" in report

    rows = sorted(
        [
            *CaseEvent.objects.filter(case_id=good),
            *Recommendation.objects.filter(case_id=good),
            *Decision.objects.filter(case_id=good),
        ],
        key=lambda row: row.chain_seq,
    )
    # The draft joined the chain where it was written: after "drafting", before "awaiting review".
    assert [type(row).__name__ for row in rows] == [
        "CaseEvent",
        "CaseEvent",
        "Recommendation",
        "CaseEvent",
        "Decision",
        "CaseEvent",
    ]
    assert {row.hash_key for row in rows} == {"test1"}
    case = Case.objects.get(pk=good)
    assert (case.audit_length, case.audit_head) == (6, rows[-1].row_hash) and case.audit_seal.startswith(
        "test1:"
    )

    # Once the tampered case is gone from the picture, everything else verifies.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM intake_caseevent WHERE case_id = %s", [bad])
        cursor.execute("DELETE FROM recommendations_decision WHERE case_id = %s", [bad])
        cursor.execute("DELETE FROM recommendations_recommendation WHERE case_id = %s", [bad])
        cursor.execute("DELETE FROM intake_case WHERE id = %s", [bad])
    assert "Audit chains intact: 1 cases checked" in verify()


@committed_db
def test_seals_that_covered_the_current_draft_verify_once_it_is_a_selector(tmp_path, settings):
    # Given two drafted cases on a database of the previous release, whose seals covered the
    # case's current_draft_id column ...
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "none.jsonl"
    good, bad = make_case(), make_case()
    good_draft = make_draft(case_id=good.pk)
    make_draft(case_id=bad.pk)
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate([("recommendations", "0011_decision_protocol")])
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_draft_id FROM intake_case WHERE id = %s", [good.pk])
            assert cursor.fetchone()[0] == good_draft.pk
            # ... and one whose pointer was changed behind the application's back.
            cursor.execute("UPDATE intake_case SET current_draft_id = NULL WHERE id = %s", [bad.pk])
    finally:
        # When the release that reads the current draft as a selector migrates it,
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(latest)

    # then the untouched case verifies, re-sealed, and the altered one is still reported.
    report = verify()
    assert report.startswith("BROKEN") and f"case {good.pk}" not in report and str(bad.pk) in report
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, "intake_case")
    assert "current_draft_id" not in {column.name for column in columns}
