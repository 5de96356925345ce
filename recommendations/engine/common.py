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


@dataclass(frozen=True)
class EngineConfig:
    multiple_sites_threshold: int = 3
    age_of_majority: int = 18


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

    def as_dict(self) -> dict:
        data = asdict(self)
        data["rules"] = [asdict(rule) for rule in self.rules]
        data["flags"] = list(self.flags)
        data["answers"] = [{"name": n, "label": label, "answer": a} for n, label, a in self.answers]
        # A v1 draft reads exactly as v1 printed it: without the fields v1 never had.
        for name in ("answers", "other_route"):
            if not data[name]:
                del data[name]
        return data


def age_on(birth_date: date, day: date) -> int:
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


def snapshot_of(intake: Intake) -> dict:
    """The Intake as JSON-ready data, stored with the draft so it can be replayed."""
    data = asdict(intake)
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
            "birth_date": date.fromisoformat(snapshot["birth_date"]),
            "intake_date": date.fromisoformat(snapshot["intake_date"]),
        }
    )
