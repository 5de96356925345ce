"""Drafting use cases: make a case's draft, fail it, sweep stuck cases."""

import json
import logging
import uuid
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from intake.models import Case, CaseStatus
from intake.statuses import AWAITING_DRAFT
from intake.workflow import WORKER, Actor, Moved, Step, move_locked, record_note, transition
from recommendations import engine, notices
from recommendations.engine.protocols import Protocol as EngineProtocol
from recommendations.engine.protocols import load_protocols
from recommendations.engine.v3 import InvalidIntake
from recommendations.models import Recommendation
from recommendations.selectors import active_protocols

log = logging.getLogger(__name__)
DEMO_PROTOCOLS_FILE = Path(__file__).parent / "data" / "demo_protocols.json"


@cache
def demo_protocols() -> tuple[EngineProtocol, ...]:
    """The published demo set (every protocol an example): what the sandbox drafts with."""
    return load_protocols(json.loads(DEMO_PROTOCOLS_FILE.read_text(encoding="utf-8")))


def live_ruleset() -> str:
    """settings.RULESET_LIVE, checked: a typo must not silently draft with another rule set."""
    version = settings.RULESET_LIVE
    if version not in engine.RULESETS:
        raise ImproperlyConfigured(
            f"RULESET_LIVE is {version!r}; choose one of {', '.join(engine.RULESETS)} (or leave it unset)."
        )
    return version


def engine_config(protocols: tuple[EngineProtocol, ...] = ()) -> engine.EngineConfig:
    return engine.EngineConfig(
        multiple_sites_threshold=settings.DRAFT_MULTIPLE_SITES_THRESHOLD,
        age_of_majority=settings.DRAFT_AGE_OF_MAJORITY,
        protocols=protocols,
    )


def notice_of(draft: engine.Draft, protocols: tuple[EngineProtocol, ...]) -> str:
    """The notice a draft is shown with: for v3 the one for its protocol's basis (rule 7), rendered
    with its sources; v1 and v2 carry their own."""
    if draft.ruleset_version in ("v1", "v2"):
        return draft.notice
    used = draft.protocol or {}
    protocol = next(
        (p for p in protocols if (p.id, p.version) == (used.get("id"), used.get("version"))), None
    )
    return notices.notice_for(
        protocol.as_dict() if protocol else None,
        country=settings.CLINIC_COUNTRY,
        jurisdiction=settings.CLINIC_JURISDICTION or None,
    ).render()


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
        additional_conditions=tuple(item["icd10"] for item in case.additional_conditions or ()),
        findings=dict(case.findings or {}),
        consent_by=case.consent_by or None,
        assent=case.assent,
        breastfeeding=case.breastfeeding,
    )


def make_draft(*, case_id: uuid.UUID | str, shadow_ruleset: str | None = None) -> Recommendation | None:
    """Draft the case if it is waiting for one. Safe to run any number of times:
    a redelivered message finds the case already drafted and does nothing. Beside the live draft,
    the rule set RULESET_SHADOW (or `shadow_ruleset`, the quick start's demo) stores its shadow.

    One transaction: the case is read under its lock, drafted, and moved received -> drafting ->
    awaiting_review with both events and the draft (intake.workflow.move_locked). A crash
    before the commit leaves the case received, and the redelivery or the sweep drafts it."""
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self", "patient"))
            .select_related("patient")
            .filter(pk=case_id)
            .first()
        )
        if case is None:
            log.warning("draft requested for case %s, which does not exist", case_id)
            return None
        if case.status not in AWAITING_DRAFT:
            return None
        started = (
            [Step(CaseStatus.DRAFTING, "Drafting started")] if case.status == CaseStatus.RECEIVED else []
        )
        intake = intake_of(case)
        # The sandbox shows partners the newest rules with the published demo protocols, whatever
        # this clinic's protocols and rollout are.
        version = engine.CURRENT if case.sandbox else live_ruleset()
        protocols = (
            () if version in ("v1", "v2") else demo_protocols() if case.sandbox else active_protocols()
        )
        try:
            draft = engine.draft(intake, engine_config(protocols), version=version)
        except InvalidIntake as error:
            # The doors validate first, so this is a defect; retrying would fail the same way.
            failed = f"Drafting failed: the case's data does not pass rule set {version}: {str(error)[:500]}"
            move_locked(case=case, steps=[*started, Step(CaseStatus.DRAFT_FAILED, failed)], actor=WORKER)
            log.error(
                "draft refused by rule set %s: invalid intake", version, extra={"case_id": str(case.pk)}
            )
            return None
        sequence = _next_sequence(case)
        recommendation = _stored(case, sequence, draft, intake, protocols)
        shadow = _shadow_draft(case, sequence, intake, live=version, named=shadow_ruleset)
        ready = Step(
            CaseStatus.AWAITING_REVIEW,
            f"Draft {sequence} ready (rule set {draft.ruleset_version})",
            # The draft (and its shadow) joins the chain just before the move's event: a shadow is
            # stored with its live draft or not at all.
            records=[recommendation, *([shadow] if shadow else [])],
        )
        move_locked(case=case, steps=[*started, ready], actor=WORKER)
    log.info(
        "draft %d made: %s (rule set %s)",
        sequence,
        draft.route,
        draft.ruleset_version,
        extra={"case_id": str(case.pk), "route": draft.route, "ruleset": draft.ruleset_version},
    )
    return recommendation


def _next_sequence(case: Case) -> int:
    # A chain of one link is the intake event alone: no draft yet, and no query to ask.
    if case.audit_length == 1:
        return 1
    newest = Recommendation.objects.current_of(case)
    return newest.sequence + 1 if newest else 1


def _stored(
    case: Case,
    sequence: int,
    draft: engine.Draft,
    intake: engine.Intake,
    protocols: tuple[EngineProtocol, ...],
    *,
    shadow: bool = False,
) -> Recommendation:
    said = draft.as_dict()
    return Recommendation(
        case=case,
        sequence=sequence,
        route=draft.route,
        rules=said["rules"],
        flags=list(draft.flags),
        ruleset_version=draft.ruleset_version,
        notice=notice_of(draft, protocols),
        missing=draft.missing,
        condition=draft.condition,
        answers=said.get("answers", []),
        other_route=draft.other_route,
        engine_input=engine.snapshot_of(intake),
        protocol_id=(draft.protocol or {}).get("id", ""),
        protocol_version=(draft.protocol or {}).get("version"),
        needs=draft.needs if draft.ruleset_version not in ("v1", "v2") else {},
        shadow=shadow,
    )


def shadow_ruleset(*, live: str, named: str | None = None) -> str | None:
    """The rule set whose drafts are stored as shadow drafts (`named`, else settings.RULESET_SHADOW),
    or None: none named, or the live one named (there is nothing to compare). An unknown name is
    logged, never raised: a shadow is an experiment, and a typo in it must not stop live drafts."""
    version = named or settings.RULESET_SHADOW
    if not version or version == live:
        return None
    if version not in engine.RULESETS:
        log.error(
            "RULESET_SHADOW is %r, which is no rule set (known: %s); no shadow draft is stored",
            version,
            ", ".join(engine.RULESETS),
        )
        return None
    return version


def _shadow_draft(
    case: Case, sequence: int, intake: engine.Intake, *, live: str, named: str | None
) -> Recommendation | None:
    """The draft RULESET_SHADOW would have made beside live draft `sequence`, with the same input and
    the same protocols a live draft uses. Never for a sandbox case: shadows are compared against the
    clinic's own outcomes, and the sandbox drafts only with the newest rule set."""
    version = None if case.sandbox else shadow_ruleset(live=live, named=named)
    if version is None:
        return None
    protocols = () if version in ("v1", "v2") else active_protocols()
    try:
        draft = engine.draft(intake, engine_config(protocols), version=version)
    except InvalidIntake:
        # Data a newer rule set takes may not pass an older one: that case simply has no shadow.
        log.warning(
            "no shadow draft: the case's data does not pass rule set %s",
            version,
            extra={"case_id": str(case.pk)},
        )
        return None
    return _stored(case, sequence, draft, intake, protocols, shadow=True)


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


def owes_draft(moved: Moved) -> bool:
    """A case just opened, or sent back to drafting by an answer, is owed a draft. The worker's
    own received -> drafting move is not: that worker is drafting it."""
    return moved.to_status == CaseStatus.RECEIVED or (
        moved.to_status == CaseStatus.DRAFTING and moved.from_status == CaseStatus.NEEDS_INFORMATION
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


def preview_draft(
    *,
    referral: dict,
    intake_date: date,
    version: str | None = None,
    protocols: tuple[EngineProtocol, ...] | None = None,
) -> engine.Draft:
    """The draft a validated referral body would get under `version` (default RULESET_LIVE), with
    `protocols` (default the database's active and effective ones); nothing is saved."""
    version = version or live_ruleset()
    answers = dict(referral["contraindications"])
    breastfeeding = answers.pop("breastfeeding", referral.get("breastfeeding"))
    consent_obtained = bool(referral.get("consent_obtained"))
    intake = engine.Intake(
        condition_code=referral["condition"]["icd10"],
        affected_sites=tuple(referral["affected_sites"]),
        consent_obtained=consent_obtained,
        birth_date=referral["patient"]["birth_date"],
        intake_date=intake_date,
        additional_conditions=tuple(item["icd10"] for item in referral.get("additional_conditions") or ()),
        findings=dict(referral.get("findings") or {}),
        consent_by=referral.get("consent_by") or ("patient" if consent_obtained else None),
        assent=referral.get("assent"),
        breastfeeding=breastfeeding,
        **answers,
    )
    if version in ("v1", "v2"):
        protocols = ()
    elif protocols is None:
        protocols = active_protocols()
    return engine.draft(intake, engine_config(protocols), version=version)
