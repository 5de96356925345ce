"""Sandbox partners' test cases, decided automatically a few seconds after their draft, so a
partner's developer sees the whole lifecycle (draft, decision or question, webhooks) with no
specialist involved. The rule is published (README, "Partner quick start"): the external_id's
prefix chooses the outcome, and a draft that needs information is asked its own question. Sandbox
cases are drafted with the newest rule set and the published demo protocols (services.make_draft).
Sandbox cases never reach the queue, the board or the analytics (their `sandbox` flag, set when the
case is opened)."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from intake.models import Case, CaseEvent, CaseStatus
from intake.workflow import Actor, Moved, transition
from recommendations.decision_protocols import (
    ProtocolMissing,
    covering_protocols,
    draft_protocol,
    protocols_for,
)
from recommendations.engine.protocols import Protocol as EngineProtocol
from recommendations.models import DraftRoute, FinalRoute, Outcome, Recommendation, SpecialistProfile
from recommendations.review import decide_locked

ROBOT_USERNAME = "sandbox-robot"
ROBOT_SIGNATURE = ("Sandbox (automatic test decision)", "not a clinical decision")
# external_id prefix (case-insensitive) -> what the sandbox does; anything else is approved.
PREFIXES = {"approve-": "approve", "amend-": "amend", "decline-": "decline", "ask-": "ask"}
ASK_QUESTION = "Sandbox question (external_id begins ask-): answer it to see the case drafted again."
CONSENT_QUESTION = "Sandbox: consent is not recorded; answer with consent_obtained true to go on."


def sandbox_action(external_id: str, *, asked_before: bool, consent: bool) -> str:
    """approve, amend, decline or ask. `ask-` asks once; the answer then leads to approval.
    Without consent the sandbox asks for it, as a specialist's decision would be refused."""
    action = next((a for p, a in PREFIXES.items() if external_id.lower().startswith(p)), "approve")
    if action == "ask" and asked_before:
        action = "approve"
    if action in ("approve", "amend") and not consent:
        action = "ask"
    return action


def other_route(route: str) -> str:
    return FinalRoute.INTRAVENOUS if route == DraftRoute.LOCAL_INJECTION else FinalRoute.LOCAL_INJECTION


def amendment(case: Case, draft: Recommendation) -> tuple[str, EngineProtocol] | None:
    """Another treatment route than the draft's that a demo protocol covers, with the protocol (the
    engine's choice), or None: the sandbox amends only as a specialist could (DESIGN.md, "Domain")."""
    draft_route = draft.route
    routes = [other_route(draft_route)]
    if draft_route == DraftRoute.NOT_RECOMMENDED:
        routes.append(FinalRoute.INTRAVENOUS)
    protocols = protocols_for(case)
    for route in routes:
        found = covering_protocols(case, route, protocols)
        if found:
            return route, found[0]
    return None


def _robot():
    """The decisions' signer: an inactive user that cannot sign in, with a signature that
    says no clinician decided."""
    user, created = get_user_model().objects.get_or_create(
        username=ROBOT_USERNAME, defaults={"is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    full_name, credentials = ROBOT_SIGNATURE
    SpecialistProfile.objects.get_or_create(
        user=user, defaults={"full_name": full_name, "credentials": credentials}
    )
    return user


@transaction.atomic
def decide_sandbox_case(*, case_id: uuid.UUID | str) -> str | None:
    """Decide one sandbox case awaiting review by its external_id. Returns what was done,
    or None when there is nothing to do (not a sandbox case, or decided already: a task
    that runs twice changes nothing the second time)."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .filter(pk=case_id, sandbox=True, status=CaseStatus.AWAITING_REVIEW)
        .first()
    )
    draft = Recommendation.objects.current_of(case) if case is not None else None
    if draft is None:
        return None
    robot = _robot()
    asked = CaseEvent.objects.filter(case=case, to_status=CaseStatus.NEEDS_INFORMATION).exists()
    action = sandbox_action(case.external_id or "", asked_before=asked, consent=case.consent_obtained)
    draft_route = draft.route
    if draft_route == DraftRoute.NEEDS_INFORMATION and action != "decline":
        # A draft that asks is asked as drafted (its question, and `needs` in the webhook), so a
        # partner's developer sees what a referral missing data gets; never amended past it.
        action = "ask"
    if action == "ask":
        if draft_route == DraftRoute.NEEDS_INFORMATION and draft.missing:
            question = f"Sandbox: {draft.missing}"
        else:
            question = ASK_QUESTION if case.consent_obtained else CONSENT_QUESTION
        transition(
            case=case,
            to_status=CaseStatus.NEEDS_INFORMATION,
            actor=Actor.of_user(robot),
            note=f"Question: {question}",
            open_question=question,
        )
    elif action == "amend" and (found := amendment(case, draft)) is not None:
        route, protocol = found
        reason = (
            f"Sandbox: amended to {FinalRoute(route).label.lower()} under demo protocol {protocol.id} "
            f"v{protocol.version} because the external_id begins amend-."
        )
        decide_locked(case, robot, route=route, outcome=Outcome.AMENDED, reason=reason, protocol=protocol)
    elif action in ("decline", "amend"):
        reason = (
            "Sandbox: declined because the external_id begins decline-."
            if action == "decline"
            else "Sandbox: the external_id begins amend-, but no demo protocol covers another route for "
            "this case, so it is declined (a specialist could not amend it either)."
        )
        action = "decline"
        decide_locked(case, robot, route=FinalRoute.NOT_RECOMMENDED, outcome=Outcome.DECLINED, reason=reason)
    else:
        try:
            protocol = draft_protocol(case, draft)
        except ProtocolMissing:
            # The demo set changed since the draft: approving would name a protocol nobody holds.
            reason = "Sandbox: the draft's demo protocol is no longer published; send the referral again."
            decide_locked(
                case, robot, route=FinalRoute.NOT_RECOMMENDED, outcome=Outcome.DECLINED, reason=reason
            )
            return "decline"
        decide_locked(case, robot, route=draft_route, outcome=Outcome.APPROVED, reason="", protocol=protocol)
    return action


def owes_decision(moved: Moved) -> bool:
    """A sandbox case's draft is done: the sandbox decides it as its external_id says."""
    return moved.sandbox and moved.to_status == CaseStatus.AWAITING_REVIEW


def undecided_sandbox_cases(*, older_than: timedelta | None = None, limit: int = 200) -> list[uuid.UUID]:
    """Sandbox cases whose automatic decision was never run (the broker was away when their
    draft was made): the sweep queues them again. By default, those that waited the decision's
    delay and the sweep's limit both."""
    if older_than is None:
        older_than = timedelta(
            seconds=settings.SANDBOX_DECISION_DELAY_SECONDS + settings.SWEEP_STUCK_AFTER_SECONDS
        )
    return list(
        Case.objects.filter(
            status=CaseStatus.AWAITING_REVIEW,
            sandbox=True,
            status_changed_at__lt=timezone.now() - older_than,
        ).values_list("id", flat=True)[:limit]
    )
