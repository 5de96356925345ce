from django.core.management.base import BaseCommand, CommandError

from intake import exports
from recommendations import engine
from recommendations.replay import DRAFTED_WITH, Responders, decided_count, replay
from recommendations.services import live_ruleset


def _version(value: str | None) -> str | None:
    # "3" and "v3" both name rule set v3.
    if value is None or value == "stored" or value.startswith("v"):
        return value
    return f"v{value}"


def _responders(tally: Responders) -> str:
    """Beside an agreement figure: how the patients whose draft matched the route given did."""
    if not tally.with_outcome:
        return "; responders among them: none followed up yet"
    return (
        f"; responders among them: {tally.responders} of {tally.with_outcome} followed up "
        f"({tally.percent:.1f}%)"
    )


class Command(BaseCommand):
    help = (
        "Re-draft every decided case in memory with a rule set version and report where the new "
        "drafts differ from the old drafts and from the specialists' decisions, and, where treated "
        "patients were followed up, how many of those whose draft matched the decision responded. "
        "Saves nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--ruleset",
            default=None,
            help=f"one of: {', '.join(engine.RULESETS)} (default: the one live drafts use, RULESET_LIVE)",
        )
        parser.add_argument(
            "--against",
            default=None,
            help="the version to compare with, re-drafted from the same input (default v1); "
            "'stored' compares with the drafts as they were saved. Without --ruleset, a version N "
            "(`--against 3`) re-drafts with N beside the rule set each case was drafted with",
        )
        parser.add_argument(
            "--csv", dest="csv_path", metavar="FILE", help="write every differing case to this CSV file"
        )

    def handle(self, *args, ruleset: str | None, against: str | None, csv_path: str | None, **options):
        ruleset, against = _version(ruleset), _version(against)
        for version in (ruleset, against):
            if version not in (None, *engine.RULESETS, "stored"):
                raise CommandError(f"No rule set {version!r}; known: {', '.join(engine.RULESETS)}.")
        if ruleset is None and against not in (None, "stored"):
            ruleset, against = against, DRAFTED_WITH
        ruleset = ruleset or live_ruleset()
        against = against or "v1"
        total = decided_count()
        baseline = None if against == "stored" else against
        report = replay(ruleset=ruleset, against=baseline, progress=lambda done: self._bar(done, total))
        self.stderr.write("")
        pct = (lambda n: f"{100 * n / report.total:.1f}%") if report.total else (lambda n: "-")
        if against == DRAFTED_WITH:
            mix = ", ".join(f"{version}: {n}" for version, n in sorted(report.drafted_with.items()))
            against = f"the rule set each case was drafted with ({mix or 'none'})"
        self.stdout.write(f"Rule set {ruleset} against {against} on {report.total} decided cases")
        self.stdout.write(
            f"  same route and flags as the old draft: {report.same_as_old} ({pct(report.same_as_old)})"
        )
        outcomes = report.old_responders.with_outcome or report.new_responders.with_outcome
        self.stdout.write(
            f"  old drafts matching the specialist:   {report.old_agreed_with_specialist} "
            f"({pct(report.old_agreed_with_specialist)})"
            + (_responders(report.old_responders) if outcomes else "")
        )
        self.stdout.write(
            f"  new drafts matching the specialist:   {report.new_agrees_with_specialist} "
            f"({pct(report.new_agrees_with_specialist)})"
            + (_responders(report.new_responders) if outcomes else "")
        )
        if not outcomes:
            self.stdout.write(
                "  responders: no outcomes yet among the patients whose draft matched the decision"
            )
        for (old, new), count in report.changes.most_common():
            self.stdout.write(f"  {old} -> {new}: {count}")
        if csv_path:
            self._write_csv(csv_path, report.differences)
            self.stdout.write(f"{len(report.differences)} differing cases written to {csv_path}")

    def _bar(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        self.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending="")
        self.stderr.flush()

    @staticmethod
    def _write_csv(path: str, differences) -> None:
        with open(path, "w", newline="", encoding="utf-8") as out:
            writer = exports.writer(out)
            writer.writerow(["case_id", "old_route", "new_route", "decided_route", "old_flags", "new_flags"])
            for d in differences:
                writer.writerow(
                    [
                        d.case_id,
                        d.old_route,
                        d.new_route,
                        d.decided_route,
                        " ".join(d.old_flags),
                        " ".join(d.new_flags),
                    ]
                )
