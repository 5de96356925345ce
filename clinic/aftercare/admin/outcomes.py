"""The outcomes page of the review desk (DESIGN.md, "Learning"): per protocol and route, completion
and responders per time point with their 95 % intervals, adverse events per 100 treatments, and the
rule sets (live and shadow) against how the patients did; tables, small inline SVG charts and a CSV.
For specialists and the medical director, like the agreement analytics. The figures and what they
count are clinic.aftercare.outcomes'."""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html

from clinic.aftercare import outcomes
from clinic.aftercare.instrument_library import UnknownInstrument, get_instrument
from intake.vocabulary.routes import FINAL_ROUTES
from recommendations import review

URL_NAME = "aftercare_outcomes"


@dataclass(frozen=True)
class Bar:
    """A proportion as the page draws it: the rate as a bar, its 95 % interval as a whisker (all in
    percent of the chart's width, 0-100 %), and the words a screen reader says for it."""

    k: int
    n: int
    percent: float | None
    low: float | None
    high: float | None

    @classmethod
    def of(cls, proportion: outcomes.Proportion) -> "Bar":
        interval = proportion.interval or (None, None)
        return cls(proportion.k, proportion.n, proportion.percent, *interval)

    @property
    def words(self) -> str:
        if self.percent is None:
            return "none yet"
        return f"{self.percent:.0f}%, 95% interval {self.low:.0f} to {self.high:.0f}%"

    @property
    def chart(self) -> str:
        """An inline SVG on a 0-100 scale: a grey track, the rate's bar, the interval's whisker."""
        if self.percent is None:
            return ""
        return format_html(
            '<svg class="ci" viewBox="0 0 100 18" preserveAspectRatio="none" role="img" aria-label="{}">'
            '<rect x="0" y="5" width="100" height="8" fill="#e4e7eb"/>'
            '<rect class="bar" x="0" y="5" width="{}" height="8" fill="#2c5cc5"/>'
            '<g stroke="#1d2733" stroke-width="2" vector-effect="non-scaling-stroke">'
            '<line class="whisker" x1="{}" x2="{}" y1="9" y2="9" vector-effect="non-scaling-stroke"/>'
            '<line x1="{}" x2="{}" y1="3" y2="15" vector-effect="non-scaling-stroke"/>'
            '<line x1="{}" x2="{}" y1="3" y2="15" vector-effect="non-scaling-stroke"/></g></svg>',
            self.words,
            _svg(self.percent),
            _svg(self.low),
            _svg(self.high),
            _svg(self.low),
            _svg(self.low),
            _svg(self.high),
            _svg(self.high),
        )


def _svg(value: float) -> str:
    # A coordinate with a dot, whatever the locale (a comma would break the drawing).
    return f"{value:.2f}"


def day_label(day: int) -> str:
    return "Baseline" if day == 0 else f"Day {day}"


def instrument_title(key: str) -> str:
    try:
        return get_instrument(key).title
    except UnknownInstrument:
        return key  # an instrument removed since: its key still names it


def _group(group: outcomes.Group) -> dict:
    completion = [
        {"day": day_label(row.day), "row": row, "bar": Bar.of(row.completion)} for row in group.day_rows
    ]
    responders = [
        {"day": day_label(row.day), "title": instrument_title(item.instrument), "item": item,
         "bar": Bar.of(item.responder_rate)}
        for row in group.day_rows
        if row.day > 0
        for item in row.instruments.values()
    ]  # fmt: skip
    return {
        "group": group,
        "route": FINAL_ROUTES.get(group.route, group.route),
        "completion": completion,
        "responders": responders,
        "event_courses": Bar.of(group.event_courses),
    }


def _comparison(comparison: outcomes.Comparison) -> list[dict]:
    return [
        {"row": row, "agreement": Bar.of(row.agreement), "responders": Bar.of(row.responder_rate)}
        for row in comparison.rows
    ]


class OutcomesPage:
    """Mixed into a review-desk ModelAdmin: adds `outcomes/` (URL name admin:aftercare_outcomes)."""

    def get_urls(self):
        page = path("outcomes/", self.admin_site.admin_view(self.outcomes_view), name=URL_NAME)
        return [page, *super().get_urls()]

    def outcomes_view(self, request: HttpRequest):
        """How treated patients did, for specialists and the medical director."""
        if not review.is_specialist(request.user):
            raise PermissionDenied("Only specialists may see the outcomes.")
        report = outcomes.outcomes()
        if request.GET.get("format") == "csv":
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="outcomes.csv"'
            outcomes.write_csv(response, report)
            return response
        context = {
            **self.admin_site.each_context(request),
            "title": "Outcomes per protocol and route",
            "opts": self.model._meta,
            "groups": [_group(group) for group in report.groups],
            "comparison": report.comparison,
            "rulesets": _comparison(report.comparison),
            "shadow_setting": settings.RULESET_SHADOW,
            "live_setting": settings.RULESET_LIVE,
        }
        return TemplateResponse(request, "admin/aftercare/outcomes.html", context)
