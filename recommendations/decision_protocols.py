"""The protocol a decision is made under (DESIGN.md, "Domain": Decision), and the notice it signs.

An approval takes the draft's protocol. An amendment to a treatment route names an active, effective
protocol that covers the main code, the new route, the patient's age at intake and the sites, by the
engine's own coverage (recommendations.engine.protocols.covering); when several cover, the specialist
chooses and the engine's choice is the default. Not recommended and declined are made under none.
Drafts of rule sets v1 and v2 were made without protocols: while the clinic drafts with them too, a
decision on one is made under none, as before.
"""

from dataclasses import dataclass

from django.conf import settings

from intake.models import Case
from recommendations import notices
from recommendations.engine.protocols import Protocol as EngineProtocol
from recommendations.engine.protocols import by_specificity, covering, live, whole_years
from recommendations.engine.v3 import ROUTE_WORDS, why_uncovered
from recommendations.models import FinalRoute, Protocol, Recommendation
from recommendations.selectors import active_protocols
from recommendations.services import demo_protocols, intake_of, live_ruleset

TREATMENT_ROUTES = (FinalRoute.LOCAL_INJECTION, FinalRoute.INTRAVENOUS)
WITHOUT_PROTOCOLS = ("v1", "v2")
SNAPSHOT_FIELDS = ("id", "version", "title", "basis", "reference")


class ProtocolMissing(LookupError):
    """The draft records a protocol version this clinic does not hold."""


def protocols_apply(draft: Recommendation) -> bool:
    """Whether a decision on `draft` must be made under a protocol: a v3 draft, or any draft once the
    clinic drafts with protocols (a leftover v2 draft is then amended under a protocol too)."""
    return draft.ruleset_version not in WITHOUT_PROTOCOLS or live_ruleset() not in WITHOUT_PROTOCOLS


def protocols_for(case: Case) -> tuple[EngineProtocol, ...]:
    """What a decision on `case` may be made under: the demo set for a sandbox case (it was drafted
    with it), else the clinic's active and effective protocols."""
    return demo_protocols() if case.sandbox else active_protocols()


def draft_protocol(case: Case, draft: Recommendation) -> EngineProtocol | None:
    """The protocol version the draft recorded (None when it used none)."""
    if not draft.protocol_id:
        return None
    wanted = (draft.protocol_id, draft.protocol_version)
    if case.sandbox:
        found = next((p for p in demo_protocols() if (p.id, p.version) == wanted), None)
    else:
        row = Protocol.objects.filter(protocol_id=wanted[0], version=wanted[1]).first()
        found = EngineProtocol.from_dict(row.as_dict()) if row else None
    if found is None:
        raise ProtocolMissing(f"{wanted[0]} v{wanted[1]}")
    return found


def covering_protocols(case: Case, route: str, protocols: tuple[EngineProtocol, ...]) -> list[EngineProtocol]:
    """Every protocol that covers `case` for `route`, the engine's choice first."""
    intake = intake_of(case)

    def covers(protocol: EngineProtocol) -> bool:
        return (
            covering(
                [protocol],
                code=intake.condition_code,
                route=route,
                birth_date=intake.birth_date,
                intake_date=intake.intake_date,
                sites=tuple(sorted(set(intake.affected_sites))),
                age_of_majority=settings.DRAFT_AGE_OF_MAJORITY,
            )
            is not None
        )

    return [p for p in by_specificity(live(protocols), intake.condition_code) if covers(p)]


def uncovered(case: Case, route: str, protocols: tuple[EngineProtocol, ...]) -> str:
    """What is not covered, and what the specialist can do instead."""
    intake = intake_of(case)
    sites = tuple(sorted(set(intake.affected_sites)))
    what = ROUTE_WORDS[route]
    if route == FinalRoute.LOCAL_INJECTION and sites:
        what += f" into {', '.join(case.affected_site_labels).lower()}"
    why, _ = why_uncovered(intake, route, sites, list(protocols), settings.DRAFT_AGE_OF_MAJORITY)
    age = whole_years(intake.birth_date, intake.intake_date)
    descriptor = case.condition_descriptor or "(not an ICD-10-CM code)"
    return (
        f"No active protocol covers {what} for {case.condition_code} {descriptor} at age {age}: "
        f"choose a protocol, decline, or ask for information. Not covered because {why}."
    )


def option_value(protocol: EngineProtocol) -> str:
    """How a form names one protocol version: "knee-oa-bmac:1"."""
    return f"{protocol.id}:{protocol.version}"


def snapshot(protocol: EngineProtocol | None) -> dict | None:
    """What a decision stores of its protocol, and partners read."""
    if protocol is None:
        return None
    data = protocol.as_dict()
    return {name: data[name] for name in SNAPSHOT_FIELDS}


def signed_notice(draft: Recommendation, protocol: EngineProtocol | None) -> str:
    """The notice the specialist saw when signing: the draft's own, unless the decision is made under
    another protocol than the draft's, whose notice the amend form shows beside it."""
    if protocol is None or (protocol.id, protocol.version) == (draft.protocol_id, draft.protocol_version):
        return draft.notice
    return notice_of(protocol)


def notice_of(protocol: EngineProtocol) -> str:
    return notices.notice_for(
        protocol.as_dict(),
        country=settings.CLINIC_COUNTRY,
        jurisdiction=settings.CLINIC_JURISDICTION or None,
    ).render()


@dataclass(frozen=True)
class RouteOption:
    """One treatment route in the amend form: the protocols that cover it, or why none does."""

    route: str
    label: str
    protocols: list[EngineProtocol]
    uncovered: str = ""
    required: bool = True

    @property
    def possible(self) -> bool:
        return bool(self.protocols) or not self.required


def amend_options(case: Case, draft: Recommendation | None) -> list[RouteOption]:
    """For the review page: each treatment route, with its covering protocols (the engine's choice
    first), or the sentence saying none covers."""
    if draft is None:
        return []
    required = protocols_apply(draft)
    protocols = protocols_for(case) if required else ()
    options = []
    for route in TREATMENT_ROUTES:
        found = covering_protocols(case, route, protocols) if required else []
        options.append(
            RouteOption(
                route=route,
                label=FinalRoute(route).label,
                protocols=found,
                uncovered="" if found or not required else uncovered(case, route, protocols),
                required=required,
            )
        )
    return options
