"""What the review page shows of rule set v3 beside the intake and the draft: the protocol the
draft used or why none applied, the findings with their units, the additional conditions, consent
by whom and assent, and what is missing, in sentences (DESIGN.md, rule set v3, rules 1, 3, 4, 6)."""

from dataclasses import dataclass

from intake.models import Case, CaseStatus, ConsentBy
from intake.vocabulary.body_sites import BODY_SITES
from intake.vocabulary.findings import labels as finding_labels
from intake.vocabulary.findings_display import condition_rows, finding_rows
from recommendations.decision_protocols import amend_options, option_value, signed_notice
from recommendations.models import Decision, Protocol, ProtocolBasis, Recommendation

# Rules that say why no protocol applies to a draft (rule 1).
NO_PROTOCOL_RULES = ("NO-PROTOCOL", "PROTOCOL-AMBIGUOUS")


@dataclass(frozen=True)
class UsedProtocol:
    id: str
    version: int | None
    title: str = ""
    basis: str = ""
    reference: str = ""
    found: bool = False


def _sites(keys: list[str]) -> str:
    return ", ".join(BODY_SITES.get(key, key) for key in keys)


def _by_whom(values: list[str]) -> str:
    names = [ConsentBy(value).label.lower() if value in ConsentBy.values else value for value in values]
    return " or ".join(names)


def needs_sentences(needs: dict | None) -> list[str]:
    """The engine's `needs` (the partner contract's members) as sentences a specialist reads."""
    needs = needs or {}
    said = []
    if needs.get("findings"):
        said.append(f"Findings the protocol requires: {finding_labels(needs['findings'])}.")
    if needs.get("sites"):
        said.append("The affected body sites: the condition is localized and no site was named.")
    if needs.get("sites_without_condition"):
        said.append(
            f"A condition code for {_sites(needs['sites_without_condition'])}: "
            "the site lies outside the region the given codes name."
        )
    if needs.get("sites_on_wrong_side"):
        said.append(
            f"Which side is affected: {_sites(needs['sites_on_wrong_side'])} is on the other side "
            "from the one the code names."
        )
    if needs.get("histology"):
        said.append("The histology of the neoplasm of unspecified behaviour.")
    if needs.get("cancer_treatment_ended"):
        said.append("The date the cancer treatment ended.")
    if needs.get("protocols"):
        said.append(f"Which protocol applies: {', '.join(needs['protocols'])} list this condition.")
    if needs.get("consent_by"):
        said.append(f"Consent given by {_by_whom(needs['consent_by'])}: the patient is a minor.")
    if needs.get("assent"):
        said.append("The minor's own agreement (assent): the protocol does not waive it.")
    return said


def used_protocol(draft: Recommendation | None) -> UsedProtocol | None:
    if draft is None or not draft.protocol_id:
        return None
    stored = Protocol.objects.filter(protocol_id=draft.protocol_id, version=draft.protocol_version).first()
    if stored is None:  # recorded on the draft, since removed from the clinic's list
        return UsedProtocol(draft.protocol_id, draft.protocol_version)
    return UsedProtocol(
        stored.protocol_id,
        stored.version,
        stored.title,
        stored.get_basis_display(),
        stored.reference,
        found=True,
    )


def no_protocol_reasons(draft: Recommendation | None) -> list[dict]:
    if draft is None or draft.protocol_id:
        return []
    return [rule for rule in draft.rules if rule.get("id") in NO_PROTOCOL_RULES]


def review_v3_context(case: Case, draft: Recommendation | None) -> dict:
    consent_by = ConsentBy(case.consent_by).label if case.consent_by in ConsentBy.values else ""
    routes = amend_routes(case, draft) if case.status == CaseStatus.AWAITING_REVIEW else []
    return {
        "findings": finding_rows(case.findings),
        "additional_conditions": condition_rows(case.additional_conditions),
        "consent_by": consent_by,
        "protocol": used_protocol(draft),
        "no_protocol_reasons": no_protocol_reasons(draft),
        "protocols_apply": draft is not None and draft.ruleset_version not in ("v1", "v2"),
        "needs_sentences": needs_sentences(getattr(draft, "needs", None)),
        "amend_routes": routes,
        "amend_protocol_choices": any(route["choices"] for route in routes),
    }


@dataclass(frozen=True)
class ProtocolChoice:
    """A protocol the amend form offers for a route, with the notice signing under it shows."""

    value: str
    id: str
    version: int
    title: str
    basis: str
    reference: str
    notice_text: str
    notice_sources: list[str]
    engine_choice: bool


def _basis_label(basis: str | None) -> str:
    return ProtocolBasis(basis).label if basis in ProtocolBasis.values else (basis or "")


def _split(notice: str) -> tuple[str, list[str]]:
    text, _, sources = notice.partition("\n\nSources: ")
    return text, sources.split("; ") if sources else []


def amend_routes(case: Case, draft: Recommendation | None) -> list[dict]:
    """Each treatment route of the amend form: the protocols covering it (the engine's choice
    first), or the sentence saying none does and amending to it is not possible."""
    routes = []
    for option in amend_options(case, draft):
        choices = []
        for index, protocol in enumerate(option.protocols):
            text, sources = _split(signed_notice(draft, protocol))
            data = protocol.as_dict()
            choices.append(
                ProtocolChoice(
                    option_value(protocol),
                    protocol.id,
                    protocol.version,
                    protocol.title,
                    _basis_label(protocol.basis),
                    data["reference"],
                    text,
                    sources,
                    engine_choice=index == 0,
                )
            )
        routes.append(
            {
                "route": option.route,
                "label": option.label,
                "choices": choices,
                "uncovered": option.uncovered,
                "possible": option.possible,
                "required": option.required,
            }
        )
    return routes


def decision_context(decision: Decision | None) -> dict:
    """The decision record as signed: its protocol snapshot (basis in words) and notice."""
    if decision is None:
        return {}
    return {
        "decision_basis": _basis_label((decision.protocol or {}).get("basis")),
        "decision_sites": _sites(decision.sites or []),
    }
