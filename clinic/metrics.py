"""GET /metrics for Prometheus: request and database figures (django-prometheus), the
service's own counters from every process (intake.telemetry, multiprocess mode), and what the
database knows exactly at scrape time: cases by status, how long the oldest has waited in
each open status, and decisions by outcome. No patient data, only counts, times and labels.

Protected: a bearer token (METRICS_TOKEN) or a caller from METRICS_ALLOWED_ADDRESSES; with
neither set, nobody may scrape."""

import hmac
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from clinic.client_ip import address_in, client_ip
from intake.statuses import FINAL_STATUSES, CaseStatus
from recommendations.selectors import operating_figures


class DatabaseFigures:
    """Read at each scrape: exact across processes and restarts."""

    def collect(self):
        by_status, outcomes = operating_figures()
        now = time.time()
        cases = GaugeMetricFamily(
            "clinic_cases", "Cases by status (sandbox test cases left out).", labels=["status"]
        )
        oldest = GaugeMetricFamily(
            "clinic_oldest_case_waiting_seconds",
            "How long the case longest in each open status has been in it.",
            labels=["status"],
        )
        counted = {figure.status: figure for figure in by_status}
        for status in CaseStatus.values:
            figure = counted.get(status)
            cases.add_metric([status], figure.cases if figure else 0)
            if status not in FINAL_STATUSES:
                waited = (
                    now - figure.oldest_changed_at.timestamp() if figure and figure.oldest_changed_at else 0
                )
                oldest.add_metric([status], max(waited, 0))
        decisions = CounterMetricFamily("clinic_decisions", "Decisions by outcome.", labels=["outcome"])
        for outcome in ("approved", "amended", "declined"):
            decisions.add_metric([outcome], outcomes.get(outcome, 0))
        return [cases, oldest, decisions]


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    return address_in(client_ip(request), settings.METRICS_ALLOWED_ADDRESSES)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        response = JsonResponse(
            {"detail": "Send Authorization: Bearer <METRICS_TOKEN>, or scrape from an allowed address."},
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(DatabaseFigures())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
