"""What every rule set shares: the plain data a draft is made from and made of."""

from dataclasses import asdict, dataclass, field
from datetime import date


class Route:
    LOCAL_INJECTION = "local_injection"
    INTRAVENOUS = "intravenous"
    NOT_RECOMMENDED = "not_recommended"
    NEEDS_INFORMATION = "needs_information"


class Flag:
    BLEEDING_RISK = "bleeding_risk"
    IMMUNOSUPPRESSED = "immunosuppressed"
    MINOR = "minor"
    CONSENT_MISSING = "consent_missing"
    # Rule set v3 on.
    SKIN_CANCER = "skin_cancer"
    MULTI_SITE = "multi_site"
    THROMBOEMBOLISM_RISK = "thromboembolism_risk"


@dataclass(frozen=True)
class Rule:
    id: str
    text: str
    source: str


@dataclass(frozen=True)
class Intake:
    """What the rules read: plain data, no model objects."""

    condition_code: str
    affected_sites: tuple[str, ...]
    active_malignancy: bool
    active_infection: bool
    pregnant: bool
    anticoagulant_therapy: bool
    bleeding_disorder: bool
    immunosuppressed: bool
    consent_obtained: bool
    birth_date: date
    intake_date: date
    # Rule set v3 on; optional, so older callers and stored snapshots keep working.
    additional_conditions: tuple[str, ...] = ()
    findings: dict = field(default_factory=dict)  # finding key -> JSON value (dates as YYYY-MM-DD)
    consent_by: str | None = None  # patient | guardian | legal_representative
    assent: bool | None = None  # None: not recorded
    breastfeeding: bool | None = None  # None: not asked


# Intake fields added after v2, with the value that means "not given": a snapshot leaves them
# out at that value, so a v1 or v2 snapshot reads exactly as it was stored.
V3_INTAKE_DEFAULTS: dict = {
    "additional_conditions": (),
    "findings": {},
    "consent_by": None,
    "assent": None,
    "breastfeeding": None,
}


@dataclass(frozen=True)
class EngineConfig:
    multiple_sites_threshold: int = 3
    age_of_majority: int = 18
    # Rule set v3: the clinic's protocols (recommendations.engine.protocols.Protocol); only the
    # active (and effective) ones cover a draft.
    protocols: tuple = ()


@dataclass(frozen=True)
class FiredRule:
    id: str
    text: str
    source: str
    detail: str = ""


@dataclass(frozen=True)
class Draft:
    route: str
    rules: tuple[FiredRule, ...]
    flags: tuple[str, ...]
    ruleset_version: str
    notice: str
    # What a specialist should ask when the route is needs_information.
    missing: str = ""
    condition: dict = field(default_factory=dict)
    # Rule set v2 on: every contraindication answer as (name, label, answer), and
    # why the route that was not drafted was not.
    answers: tuple[tuple[str, str, bool], ...] = ()
    other_route: str = ""
    # Rule set v3 on: the protocol the draft used ({"id", "version"}, or None) and, one member per
    # reason the draft asks, what the referral must supply (the partner contract's `needs`).
    protocol: dict | None = None
    needs: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["rules"] = [asdict(rule) for rule in self.rules]
        data["flags"] = list(self.flags)
        data["answers"] = [_answer(n, label, a) for n, label, a in self.answers]
        # A v1 draft reads exactly as v1 printed it: without the fields v1 never had.
        for name in ("answers", "other_route"):
            if not data[name]:
                del data[name]
        if self.ruleset_version in ("v1", "v2"):  # nor a v2 draft with the members v3 added
            del data["protocol"], data["needs"]
        return data


def _answer(name: str, label: str, answer: bool | None) -> dict:
    if answer is None:  # an answer v3 added and the referral did not give
        return {"name": name, "label": label, "answer": None, "shown": "not asked"}
    return {"name": name, "label": label, "answer": answer}


def age_on(birth_date: date, day: date) -> int:
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


def snapshot_of(intake: Intake) -> dict:
    """The Intake as JSON-ready data, stored with the draft so it can be replayed."""
    data = asdict(intake)
    for name, default in V3_INTAKE_DEFAULTS.items():
        if data[name] == default:
            del data[name]
    if "additional_conditions" in data:
        data["additional_conditions"] = list(intake.additional_conditions)
    return data | {
        "affected_sites": list(intake.affected_sites),
        "birth_date": intake.birth_date.isoformat(),
        "intake_date": intake.intake_date.isoformat(),
    }


def intake_from_snapshot(snapshot: dict) -> Intake:
    """The Intake a stored draft was made from (Recommendation.engine_input)."""
    return Intake(
        **{
            **snapshot,
            "affected_sites": tuple(snapshot["affected_sites"]),
            "additional_conditions": tuple(snapshot.get("additional_conditions", ())),
            "findings": dict(snapshot.get("findings") or {}),
            "birth_date": date.fromisoformat(snapshot["birth_date"]),
            "intake_date": date.fromisoformat(snapshot["intake_date"]),
        }
    )
