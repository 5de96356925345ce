"""The confirmation step before a signature: what approving, amending, declining or adding an
addendum would write, shown before anything is written.

The review service itself makes what the page shows, in a transaction that is then rolled back:
the specialist reads the record the service would sign (route, outcome, protocol, notice,
signature, reason), not a second reckoning of it that could drift from the service's. Confirming
runs the service again and keeps its record only when it is the one shown (the same fingerprint);
otherwise nothing is kept and the new one is shown, so a protocol or draft that changed in between
is never signed unseen.
"""

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from django import forms
from django.db import transaction
from django.utils import timezone

from recommendations.admin.review_v3 import decision_context
from recommendations.models import Addendum, Decision, Outcome, SpecialistProfile

# Actions whose record is signed and permanent; each takes the confirmation step.
SIGNED_ACTIONS = ("approve", "amend", "decline")


class ConfirmForm(forms.Form):
    """The confirmation page's answer: which record was shown, and where to go once it is signed."""

    fingerprint = forms.CharField(required=False, max_length=64)
    confirm = forms.ChoiceField(
        required=False, choices=[("", "Not yet"), ("stay", "Sign"), ("next", "Sign, then the next case")]
    )


@dataclass(frozen=True)
class Signing:
    """What a signature would write, in the words the confirmation page shows."""

    kind: str  # "decision" or "addendum"
    signature: str
    reason: str
    route: str = ""
    outcome: str = ""
    protocol: str = ""
    basis: str = ""
    sites: str = ""
    draft: str = ""
    notice_text: str = ""
    notice_sources: list[str] = field(default_factory=list)
    corrects: str = ""  # an addendum: the decision it corrects
    # What else the record holds that the words above summarise (ids, the protocol snapshot, the
    # notice with its sources); part of the fingerprint, not shown.
    record: dict = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _protocol_words(decision: Decision) -> str:
    if decision.protocol:
        p = decision.protocol
        return f"{p.get('id')} version {p.get('version')}: {p.get('title', '')}"
    if decision.outcome == Outcome.DECLINED or decision.route == "not_recommended":
        return "None (no treatment)"
    return f"None (a draft of rule set {decision.recommendation.ruleset_version}, made without protocols)"


def of_decision(decision: Decision) -> Signing:
    context = decision_context(decision)
    draft = decision.recommendation
    reference = (decision.protocol or {}).get("reference", "")
    return Signing(
        kind="decision",
        signature=decision.signature,
        reason=decision.reason,
        route=decision.get_route_display(),
        outcome=decision.get_outcome_display(),
        protocol=_protocol_words(decision),
        basis="; ".join(part for part in (context["decision_basis"], reference) if part),
        sites=context["decision_sites"] or "none recorded",
        draft=f"Draft {draft.sequence}: {draft.get_route_display()}",
        notice_text=decision.notice_text,
        notice_sources=decision.notice_sources,
        record={
            "case": str(decision.case_id),
            "draft": str(draft.pk),
            "route": decision.route,
            "outcome": decision.outcome,
            "protocol": decision.protocol,
            "sites": decision.sites,
            "notice": decision.notice,
            "signed": [decision.signed_name, decision.signed_credentials],
        },
    )


def of_addendum(addendum: Addendum) -> Signing:
    profile = SpecialistProfile.objects.get(user_id=addendum.author_id)
    decision = addendum.decision
    decided_at = timezone.localtime(decision.decided_at)
    return Signing(
        kind="addendum",
        signature=f"{profile.full_name.strip()}, {profile.credentials.strip()}",
        reason=addendum.reason,
        corrects=(
            f"{decision.get_outcome_display()}: {decision.get_route_display()}, signed by "
            f"{decision.signature} on {decided_at:%Y-%m-%d %H:%M}"
        ),
        # The addenda already signed on the decision: the same confirmation posted twice (a double
        # click, Back and resubmit) then no longer matches, and signs nothing the second time.
        record={
            "decision": str(decision.pk),
            "author": addendum.author_id,
            "earlier": sorted(
                str(pk)
                for pk in Addendum.objects.filter(decision=decision)
                .exclude(pk=addendum.pk)
                .values_list("pk", flat=True)
            ),
        },
    )


class _NotConfirmed(Exception):
    def __init__(self, signing: Signing):
        self.signing = signing


def sign(
    write: Callable[[], Decision | Addendum], *, confirmed: str = ""
) -> tuple[Decision | Addendum | None, Signing]:
    """Run `write` (a review service) and keep what it wrote only when what it signs has the
    fingerprint `confirmed`, the one the specialist was shown. Returns the record kept (None when
    nothing was) and what it signs. The service's own refusals (ReviewError, ValidationError)
    propagate, with nothing written."""
    try:
        with transaction.atomic():
            record = write()
            signing = of_decision(record) if isinstance(record, Decision) else of_addendum(record)
            # As bytes: compare_digest refuses a str with a non-ASCII character (a forged or garbled
            # confirmation), which would be a server error rather than "not what was shown".
            if not confirmed or not hmac.compare_digest(signing.fingerprint.encode(), confirmed.encode()):
                # Rolls back everything the service wrote, and the partner notice it queued.
                raise _NotConfirmed(signing)
    except _NotConfirmed as shown:
        return None, shown.signing
    return record, signing
