"""/metrics: protected, no patient data, and its figures move as a case goes through."""

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from clinic.web import webhooks
from intake.models import Case, PartnerNotification
from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_partner, make_user, referral_body
from tests.support import committed_db, wait_for

TOKEN = "scrape-token-for-tests"  # noqa: S105


@pytest.fixture
def scrape(client, settings):
    settings.METRICS_TOKEN = TOKEN

    def read() -> dict[tuple[str, tuple], float]:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200, response.content
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples
        }

    return read


def value(figures: dict, name: str, **labels: str) -> float:
    return figures.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db
def test_metrics_need_the_token_or_an_allowed_address(client, settings):
    settings.METRICS_TOKEN = TOKEN

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200

    settings.METRICS_TOKEN = ""
    assert (
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
    )  # an empty token opens nothing
    settings.METRICS_ALLOWED_ADDRESSES = ["127.0.0.0/8"]
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 401


@pytest.mark.django_db
def test_the_figures_move_as_a_referral_is_drafted_decided_and_notified_and_name_nobody(scrape, receiver):
    endpoint = receiver()
    partner, key = make_partner(webhook_url=endpoint.url)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    before = scrape()

    # A referral arrives, is drafted, approved, and its webhook delivered
    body = referral_body(
        patient=referral_body()["patient"] | {"given_name": "Zebedee", "family_name": "Quargle"}
    )
    case_id = api.post("/api/v1/referrals/", body, format="json").json()["id"]
    during = scrape()
    make_draft(case_id=case_id)
    waiting = scrape()
    review.approve_draft(case_id=case_id, user=make_user(group="Specialists"))
    webhooks.deliver(notification_id=PartnerNotification.objects.get(case_id=case_id).pk)
    after = scrape()

    assert (
        value(during, "clinic_cases", status="received")
        == value(before, "clinic_cases", status="received") + 1
    )
    assert value(waiting, "clinic_cases", status="awaiting_review") == 1
    oldest = ("clinic_oldest_case_waiting_seconds", (("status", "awaiting_review"),))
    assert oldest in waiting and 0 <= waiting[oldest] < 60  # the draft has just been made
    assert value(after, "clinic_cases", status="decided") == 1
    assert value(after, "clinic_decisions_total", outcome="approved") == 1
    delivered = value(after, "clinic_webhook_deliveries_total", result="delivered")
    assert delivered == value(before, "clinic_webhook_deliveries_total", result="delivered") + 1
    # django-prometheus's request figures count the partner's POST
    posts = "django_http_requests_total_by_method_total"
    assert value(after, posts, method="POST") > value(before, posts, method="POST")
    page = APIClient().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    assert "Zebedee" not in page and "Quargle" not in page and str(Case.objects.get().patient_id) not in page


@pytest.mark.worker
@committed_db
def test_a_real_workers_draft_shows_in_the_web_processs_scrape(celery_worker_process, scrape):
    # Given the figures as the web process reports them
    before = scrape()

    # When a referral is drafted by the real worker (another process)
    partner, key = make_partner()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    case_id = api.post("/api/v1/referrals/", referral_body(), format="json").json()["id"]
    assert wait_for(lambda: Case.objects.get(pk=case_id).status == "awaiting_review", timeout=30)

    # Then the worker's counters, its draft latency and its task timing are in the scrape
    def moved() -> bool:
        after = scrape()
        return (
            value(after, "clinic_drafts_total") == value(before, "clinic_drafts_total") + 1
            and value(after, "clinic_draft_latency_seconds_count")
            == value(before, "clinic_draft_latency_seconds_count") + 1
            and value(
                after, "clinic_celery_task_seconds_count", task="recommendations.draft_case", state="SUCCESS"
            )
            >= value(
                before, "clinic_celery_task_seconds_count", task="recommendations.draft_case", state="SUCCESS"
            )
            + 1
        )

    assert wait_for(moved, timeout=10)
