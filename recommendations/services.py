"""Drafting use cases: make a case's draft, fail it, sweep stuck cases."""

import logging
import uuid
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from intake.models import Case, CaseStatus
from intake.statuses import AWAITING_DRAFT
from intake.workflow import WORKER, Actor, TransitionError, record_note, transition
from recommendations import engine
from recommendations.models import Recommendation

log = logging.getLogger(__name__)


def engine_config() -> engine.EngineConfig:
    return engine.EngineConfig(
        multiple_sites_threshold=settings.DRAFT_MULTIPLE_SITES_THRESHOLD,
        age_of_majority=settings.DRAFT_AGE_OF_MAJORITY,
    )


def intake_of(case: Case) -> engine.Intake:
    return engine.Intake(
        condition_code=case.condition_code,
        affected_sites=tuple(case.affected_sites),
        active_malignancy=case.active_malignancy,
        active_infection=case.active_infection,
        pregnant=case.pregnant,
        anticoagulant_therapy=case.anticoagulant_therapy,
        bleeding_disorder=case.bleeding_disorder,
        immunosuppressed=case.immunosuppressed,
        consent_obtained=case.consent_obtained,
        birth_date=case.patient.birth_date,
        intake_date=timezone.localdate(case.created_at),
    )


def _start_drafting(case_id: uuid.UUID | str) -> None:
    """received -> drafting, straight away as a compare-and-set (no read first). When the
    case is not `received` (a redelivery, a re-draft after an answer, a withdrawn or a
    missing case) nothing happens here, and the locked read below decides."""
    try:
        transition(
            case=Case(pk=case_id, status=CaseStatus.RECEIVED),
            to_status=CaseStatus.DRAFTING,
            actor=WORKER,
            note="Drafting started",
        )
    except TransitionError:
        pass


def make_draft(*, case_id: uuid.UUID | str) -> Recommendation | None:
    """Draft the case if it is waiting for one. Safe to run any number of times:
    a redelivered message finds the case already drafted and does nothing."""
    _start_drafting(case_id)
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("patient", "current_draft")
            .filter(pk=case_id)
            .first()
        )
        if case is None:
            log.warning("draft requested for case %s, which does not exist", case_id)
            return None
        if case.status != CaseStatus.DRAFTING:
            return None
        intake = intake_of(case)
        draft = engine.draft(intake, engine_config())
        sequence = case.current_draft.sequence + 1 if case.current_draft else 1
        recommendation = Recommendation(
            case=case,
            sequence=sequence,
            route=draft.route,
            rules=draft.as_dict()["rules"],
            flags=list(draft.flags),
            ruleset_version=draft.ruleset_version,
            notice=draft.notice,
            missing=draft.missing,
            condition=draft.condition,
            answers=draft.as_dict().get("answers", []),
            other_route=draft.other_route,
            engine_input=engine.snapshot_of(intake),
        )
        transition(
            case=case,
            to_status=CaseStatus.AWAITING_REVIEW,
            actor=WORKER,
            note=f"Draft {sequence} ready (rule set {draft.ruleset_version})",
            current_draft=recommendation,
            # The draft joins the case's chain with the move's event (one locked read, one head update).
            records=[recommendation],
        )
    log.info(
        "draft %d made: %s (rule set %s)",
        sequence,
        draft.route,
        draft.ruleset_version,
        extra={"case_id": str(case.pk), "route": draft.route, "ruleset": draft.ruleset_version},
    )
    return recommendation


def mark_draft_failed(*, case_id: uuid.UUID | str, error: str, error_type: str = "") -> None:
    """After the last retry: make the failure visible instead of leaving the case stuck.
    The error's text goes to the case's timeline, which staff read; the log gets its type."""
    log.error("drafting failed: %s", error_type or "error", extra={"case_id": str(case_id)})
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).filter(pk=case_id).first()
        if case is None or case.status not in AWAITING_DRAFT:
            return
        if case.status == CaseStatus.RECEIVED:
            transition(case=case, to_status=CaseStatus.DRAFTING, actor=WORKER, note="Drafting started")
        transition(
            case=case,
            to_status=CaseStatus.DRAFT_FAILED,
            actor=WORKER,
            note=f"Drafting failed after its retries: {error[:500]}",
        )


def find_stuck_cases(*, older_than: timedelta | None = None, limit: int = 500) -> list[uuid.UUID]:
    """Cases waiting for a draft whose status and last enqueue are both older than the limit."""
    age = older_than or timedelta(seconds=settings.SWEEP_STUCK_AFTER_SECONDS)
    cutoff = timezone.now() - age
    return list(
        Case.objects.filter(
            status__in=AWAITING_DRAFT,
            status_changed_at__lt=cutoff,
        )
        .filter(draft_enqueued_at__lt=cutoff)
        .order_by("status_changed_at")
        .values_list("id", flat=True)[:limit]
    )


def note_requeued(*, case_ids: list[uuid.UUID]) -> None:
    """Remember when each case was last queued, so one sweep does not queue it twice."""
    now = timezone.now()
    with transaction.atomic():
        Case.objects.filter(pk__in=case_ids).update(draft_enqueued_at=now)
        for case in Case.objects.filter(pk__in=case_ids).only("id"):
            record_note(case=case, actor=Actor(label="sweep"), note="Re-queued for drafting")


def preview_draft(*, referral: dict, intake_date: date, version: str = engine.CURRENT) -> engine.Draft:
    """The draft a validated referral body would get; nothing is saved."""
    return engine.draft(
        engine.Intake(
            condition_code=referral["condition"]["icd10"],
            affected_sites=tuple(referral["affected_sites"]),
            consent_obtained=referral["consent_obtained"],
            birth_date=referral["patient"]["birth_date"],
            intake_date=intake_date,
            **referral["contraindications"],
        ),
        engine_config(),
        version=version,
    )
