"""Specialist review: claim, approve, amend, decline, ask for information, addenda.

Every action locks the case row, checks that it is still awaiting review, and
writes its record and its timeline entry in one transaction, so two
specialists acting at once produce exactly one outcome and the other gets a
ReviewError saying what happened instead.
"""

import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.timesince import timesince

from intake import chain
from intake.models import Case, CaseStatus
from intake.workflow import Actor, record_note, transition
from recommendations.decision_protocols import (
    TREATMENT_ROUTES,
    ProtocolMissing,
    covering_protocols,
    draft_protocol,
    option_value,
    protocols_apply,
    protocols_for,
    signed_notice,
    snapshot,
    uncovered,
)
from recommendations.engine.protocols import Protocol as EngineProtocol
from recommendations.models import (
    Addendum,
    Decision,
    DraftRoute,
    FinalRoute,
    Outcome,
    Recommendation,
    SpecialistProfile,
)

DECIDE_PERMISSION = "recommendations.decide_case"


class ReviewError(Exception):
    """The action cannot be taken on the case as it stands now; the message says why."""


def is_specialist(user: AbstractBaseUser) -> bool:
    return bool(user and user.is_active and user.has_perm(DECIDE_PERMISSION))


def _require_specialist(user: AbstractBaseUser) -> None:
    if not is_specialist(user):
        raise PermissionDenied("Only specialists may review cases.")


SANDBOX_CASE = (
    "This is a sandbox partner's test case: it is decided automatically and never reviewed by a "
    "specialist, so it takes no claim, decision, question or addendum. Nothing was changed."
)


def _refuse_sandbox(case: Case) -> None:
    # Hiding sandbox cases from the lists is not enough: an id typed or kept from before must
    # not let a person sign a partner's test case either.
    if case.sandbox:
        raise ReviewError(SANDBOX_CASE)


def _locked_case_awaiting_review(case_id: uuid.UUID | str) -> Case:
    case = Case.objects.select_for_update(of=("self",)).select_related("claimed_by").get(pk=case_id)
    _refuse_sandbox(case)
    if case.status != CaseStatus.AWAITING_REVIEW:
        raise ReviewError(_why_not_reviewable(case))
    return case


def _why_not_reviewable(case: Case) -> str:
    if case.status == CaseStatus.DECIDED:
        decision = Decision.objects.select_related("decided_by").get(case=case)
        return (
            f"This case was already decided by {decision.signature} at "
            f"{timezone.localtime(decision.decided_at):%Y-%m-%d %H:%M} "
            f"({decision.get_outcome_display().lower()}: {decision.get_route_display().lower()}). "
            "Nothing was changed; add an addendum to correct it."
        )
    return f"This case is {case.get_status_display().lower()} now, not awaiting review. Nothing was changed."


def _required(text: str, field: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: [what]})
    return text


@transaction.atomic
def claim_case(*, case_id: uuid.UUID | str, user: AbstractBaseUser) -> Case:
    """Mark the case as being reviewed by `user`, so other specialists see it."""
    _require_specialist(user)
    _signing_profile(user)
    case = _locked_case_awaiting_review(case_id)
    if case.claimed_by_id == user.pk:
        return case
    if _active_claim_of_another(case, user):
        raise ReviewError(
            f"{signer_name(case.claimed_by)} claimed this case {timesince(case.claimed_at, depth=1)} ago. "
            "Ask them to release it, or release it yourself if they have left it."
        )
    case.claimed_by, case.claimed_at = user, timezone.now()
    Case.objects.filter(pk=case.pk).update(claimed_by=user, claimed_at=case.claimed_at)
    record_note(case=case, actor=Actor.of_user(user), note="Claimed for review")
    return case


@transaction.atomic
def release_claim(*, case_id: uuid.UUID | str, user: AbstractBaseUser) -> Case:
    """Give a claim back. Only its holder may release an active claim; once it has lapsed
    (REVIEW_CLAIM_MINUTES) any specialist may release a claim someone left behind."""
    _require_specialist(user)
    case = _locked_case_awaiting_review(case_id)
    if case.claimed_by_id is None:
        return case
    if _active_claim_of_another(case, user):
        raise ReviewError(
            f"{signer_name(case.claimed_by)} claimed this case {timesince(case.claimed_at, depth=1)} ago; "
            f"only they can release it before the claim lapses ({settings.REVIEW_CLAIM_MINUTES} minutes)."
        )
    previous = signer_name(case.claimed_by)
    Case.objects.filter(pk=case.pk).update(claimed_by=None, claimed_at=None)
    case.claimed_by, case.claimed_at = None, None
    record_note(case=case, actor=Actor.of_user(user), note=f"Released the claim of {previous}")
    return case


NO_CONSENT = (
    "No consent is recorded for this case, so it cannot be approved or amended: ask for information "
    "(the patient's signed consent), or decline. Consent does not make an unapproved use lawful either; "
    "see the regulatory notice."
)


NO_SIGNATURE = (
    "Claims, decisions, questions and addenda are signed with your full name and credentials, and your "
    "specialist profile does not have both yet. Ask an administrator to complete it (Admin, Specialist "
    "profiles); nothing was changed."
)


def _signing_profile(user: AbstractBaseUser) -> SpecialistProfile:
    """The complete profile `user` signs with; without one a specialist takes no action that others
    see or must work around (a claim locks colleagues out, an addendum amends their decision)."""
    profile = SpecialistProfile.objects.filter(user_id=user.pk).first()
    if profile is None or not profile.complete:
        raise ReviewError(NO_SIGNATURE)
    return profile


def signer_name(user: AbstractBaseUser) -> str:
    """How a specialist is named to colleagues: the profile's full name, else the user name."""
    profile = SpecialistProfile.objects.filter(user_id=user.pk).first()
    return profile.full_name if profile and profile.full_name.strip() else user.get_username()


def _active_claim_of_another(case: Case, user: AbstractBaseUser) -> bool:
    if case.claimed_by_id is None or case.claimed_by_id == user.pk:
        return False
    lapses = case.claimed_at + timedelta(minutes=settings.REVIEW_CLAIM_MINUTES)
    return timezone.now() < lapses


def _take_for_review(case: Case, user: AbstractBaseUser) -> None:
    """Refuse when another specialist holds an active claim; claim an unclaimed case (or one whose
    claim has lapsed) for `user` in the caller's transaction, so the timeline says who acted."""
    if _active_claim_of_another(case, user):
        raise ReviewError(
            f"{signer_name(case.claimed_by)} claimed this case {timesince(case.claimed_at, depth=1)} ago "
            "and is reviewing it; nothing was changed. Ask them to release it, or wait until the claim "
            f"lapses ({settings.REVIEW_CLAIM_MINUTES} minutes after it was taken)."
        )
    if case.claimed_by_id != user.pk:
        case.claimed_by, case.claimed_at = user, timezone.now()
        Case.objects.filter(pk=case.pk).update(claimed_by=user, claimed_at=case.claimed_at)
        record_note(case=case, actor=Actor.of_user(user), note="Claimed for review")


def decide_locked(
    case: Case,
    user: AbstractBaseUser,
    *,
    route: str,
    outcome: str,
    reason: str,
    protocol: EngineProtocol | None = None,
) -> Decision:
    """Record the decision on a case already locked and awaiting review (the actions below,
    and recommendations.sandbox), made under `protocol`, with the case's sites and the notice
    signed. The signature and the consent gate are checked here."""
    # The sandbox's signer is inactive (it cannot sign in); anyone who can is a person.
    if case.sandbox and user.is_active:
        raise ReviewError(SANDBOX_CASE)
    profile = _signing_profile(user)
    if outcome != Outcome.DECLINED and not case.consent_obtained:
        raise ReviewError(NO_CONSENT)
    _take_for_review(case, user)
    draft = Recommendation.objects.current_of(case)
    decision = chain.append(
        Decision(
            case=case,
            recommendation=draft,
            route=route,
            outcome=outcome,
            reason=reason,
            decided_by=user,
            signed_name=profile.full_name.strip(),
            signed_credentials=profile.credentials.strip(),
            protocol=snapshot(protocol),
            sites=list(case.affected_sites),
            notice=signed_notice(draft, protocol),
        )
    )
    note = f"{decision.get_outcome_display()}: {decision.get_route_display()}"
    if protocol is not None:
        note += f", under protocol {protocol.id} v{protocol.version}"
    transition(
        case=case,
        to_status=CaseStatus.DECIDED,
        actor=Actor.of_user(user),
        note=f"{note}. {reason}".strip(),
        claimed_by=None,
        claimed_at=None,
    )
    return decision


@transaction.atomic
def approve_draft(*, case_id: uuid.UUID | str, user: AbstractBaseUser) -> Decision:
    """Accept the current draft's route as the final route."""
    _require_specialist(user)
    case = _locked_case_awaiting_review(case_id)
    draft = Recommendation.objects.current_of(case)
    if draft.route == DraftRoute.NEEDS_INFORMATION:
        raise ReviewError(
            "A draft that needs information cannot be approved as it stands: ask for the "
            "information, amend it to a route, or decline."
        )
    try:
        # A not-recommended draft (say, a finding its protocol excludes) is approved under no protocol.
        protocol = (
            draft_protocol(case, draft)
            if draft.route in (DraftRoute.LOCAL_INJECTION, DraftRoute.INTRAVENOUS)
            else None
        )
    except ProtocolMissing as missing:
        raise ReviewError(
            f"The draft was made under protocol {missing}, which this clinic no longer holds, so it cannot "
            "be approved as it stands: amend it under a protocol, ask for information, or decline."
        ) from None
    return decide_locked(
        case, user, route=draft.route, outcome=Outcome.APPROVED, reason="", protocol=protocol
    )


@transaction.atomic
def amend_draft(
    *, case_id: uuid.UUID | str, user: AbstractBaseUser, route: str, reason: str, protocol: str = ""
) -> Decision:
    """Decide on another route than the draft's, with a reason. A treatment route is taken under a
    protocol that covers it: `protocol` ("id:version" or "id") chooses among several, and empty
    takes the engine's choice."""
    _require_specialist(user)
    reason = _required(reason, "reason", "Say why you chose another route.")
    if route not in FinalRoute.values:
        raise ValidationError({"route": ["Choose local injection, intravenous infusion or not recommended."]})
    case = _locked_case_awaiting_review(case_id)
    if route == Recommendation.objects.current_of(case).route:
        raise ValidationError({"route": ["That is the drafted route: approve the draft instead."]})
    chosen = _amendment_protocol(case, route, (protocol or "").strip())
    return decide_locked(case, user, route=route, outcome=Outcome.AMENDED, reason=reason, protocol=chosen)


def _amendment_protocol(case: Case, route: str, choice: str) -> EngineProtocol | None:
    """The protocol an amendment to `route` is made under; ValidationError when none covers it or
    the one chosen does not."""
    if route not in TREATMENT_ROUTES or not protocols_apply(Recommendation.objects.current_of(case)):
        return None
    protocols = protocols_for(case)
    found = covering_protocols(case, route, protocols)
    if not found:
        raise ValidationError({"route": [uncovered(case, route, protocols)]})
    if not choice:
        return found[0]
    chosen = next((p for p in found if choice in (option_value(p), p.id)), None)
    if chosen is None:
        names = ", ".join(f"{p.id} v{p.version}" for p in found)
        raise ValidationError(
            {
                "protocol": [
                    f"Protocol {choice} does not cover {FinalRoute(route).label.lower()} for this case: "
                    f"choose {names}, or leave the choice to the engine."
                ]
            }
        )
    return chosen


@transaction.atomic
def decline_case(*, case_id: uuid.UUID | str, user: AbstractBaseUser, reason: str) -> Decision:
    """Decline therapy for the case, with a reason."""
    _require_specialist(user)
    reason = _required(reason, "reason", "Say why the case is declined.")
    case = _locked_case_awaiting_review(case_id)
    return decide_locked(
        case, user, route=FinalRoute.NOT_RECOMMENDED, outcome=Outcome.DECLINED, reason=reason
    )


@transaction.atomic
def request_information(*, case_id: uuid.UUID | str, user: AbstractBaseUser, question: str) -> Case:
    """Send the case back to whoever referred it with a question; it is re-drafted
    once they answer."""
    _require_specialist(user)
    _signing_profile(user)
    question = _required(question, "question", "Write the question the front desk or partner should answer.")
    case = _locked_case_awaiting_review(case_id)
    _take_for_review(case, user)
    return transition(
        case=case,
        to_status=CaseStatus.NEEDS_INFORMATION,
        actor=Actor.of_user(user),
        note=f"Question: {question}",
        open_question=question,
        claimed_by=None,
        claimed_at=None,
    )


# What follows an addendum (a partner's outbox row) is not known here: clinic.web registers it in
# its AppConfig.ready(), as intake.workflow.on_move does for status moves.
AddendumHandler = Callable[[Addendum], None]
_addendum_handlers: list[AddendumHandler] = []


def on_addendum(handler: AddendumHandler) -> None:
    """Register what follows an addendum, run inside its transaction (a row written there commits
    with the addendum, or not at all). Registering the same handler twice is a no-op."""
    if handler not in _addendum_handlers:
        _addendum_handlers.append(handler)


@transaction.atomic
def add_addendum(*, decision_id: uuid.UUID | str, user: AbstractBaseUser, reason: str) -> Addendum:
    """Append a correction to a decision; the decision itself never changes."""
    _require_specialist(user)
    _signing_profile(user)
    reason = _required(reason, "reason", "Write the correction and why it is needed.")
    decision = Decision.objects.select_related("case").get(pk=decision_id)
    _refuse_sandbox(decision.case)
    addendum = chain.append(Addendum(decision=decision, author=user, reason=reason))
    record_note(case=decision.case, actor=Actor.of_user(user), note=f"Addendum: {reason}")
    for handler in _addendum_handlers:
        handler(addendum)
    return addendum


@transaction.atomic
def set_signature(*, user: AbstractBaseUser, full_name: str, credentials: str) -> SpecialistProfile:
    """What `user` signs decisions with from now on; decisions already signed keep theirs."""
    full_name = _required(full_name, "full_name", "Enter the full name as it should appear on a decision.")
    credentials = _required(credentials, "credentials", "Enter the credentials, for example MD.")
    profile, _ = SpecialistProfile.objects.update_or_create(
        user=user, defaults={"full_name": full_name, "credentials": credentials}
    )
    return profile
