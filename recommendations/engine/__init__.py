"""The draft engine: each rule set is data plus one pure function.

No ORM, no Celery, no clock: everything the rules need comes in as plain data (the
intake date included), and the same input always gives the same draft. New cases are
drafted with CURRENT; every older version stays, so a stored draft can be explained
and replayed (`manage.py recommend --ruleset-version 1`, `manage.py replay_rules`).
"""

from recommendations.engine import v1, v2, v3
from recommendations.engine.common import (
    Draft,
    EngineConfig,
    FiredRule,
    Flag,
    Intake,
    Route,
    Rule,
    age_on,
    intake_from_snapshot,
    snapshot_of,
)

RULESETS = {v1.RULESET_VERSION: v1.draft, v2.RULESET_VERSION: v2.draft, v3.RULESET_VERSION: v3.draft}
# The newest rule set: the default here, in `recommend` and `replay_rules`, and what the sandbox drafts
# with. Live drafts use settings.RULESET_LIVE (default this one), so a clinic chooses when it moves.
CURRENT = v3.RULESET_VERSION
RULES_BY_VERSION = {
    v1.RULESET_VERSION: v1.RULES_BY_ID,
    v2.RULESET_VERSION: v2.RULES_BY_ID,
    v3.RULESET_VERSION: v3.RULES_BY_ID,
}


def draft(intake: Intake, config: EngineConfig = EngineConfig(), *, version: str = CURRENT) -> Draft:  # noqa: B008
    """Draft a route for `intake` under rule set `version` (the current one by default)."""
    return RULESETS[version](intake, config)


__all__ = [
    "CURRENT",
    "RULESETS",
    "RULES_BY_VERSION",
    "Draft",
    "EngineConfig",
    "FiredRule",
    "Flag",
    "Intake",
    "Route",
    "Rule",
    "age_on",
    "draft",
    "intake_from_snapshot",
    "snapshot_of",
]
