"""The clinic's admin changes a partner's optional events on the partner's page, in Debian's chromium
(Playwright): it must say who at the partner asked and why, and the page then shows the change in
the partner's history, read-only."""

import pytest
from django.contrib.auth import get_user_model

from intake.models import Partner, SubscriptionChange
from tests.factories import make_partner
from tests.support import committed_db

pytestmark = [pytest.mark.browser, committed_db]

WHO = "Dr Ana Reyes, orthopaedic surgeon"


def admin_page(page, live_server, partner: Partner) -> None:
    get_user_model().objects.create_superuser("root", "root@example.org", "pw-for-tests-1")
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/intake/partner/{partner.pk}/change/")


def test_a_subscription_change_asks_who_and_why_and_shows_in_the_history(page, live_server, screenshot):
    partner, _ = make_partner(name="Reyes Orthopaedics")
    admin_page(page, live_server, partner)
    page.get_by_label("referral.decision_corrected", exact=False).check()

    page.get_by_role("button", name="Save and continue editing").click()

    page.get_by_text("Say who at the partner asked for this change").wait_for()
    screenshot("subscriptions-refused-1280")
    assert not SubscriptionChange.objects.exists()

    page.get_by_label("Change requested by").fill(WHO)
    page.get_by_label("Why").fill("Letter of 2026-12-01, kept in the partner file.")
    page.get_by_role("button", name="Save and continue editing").click()

    history = page.locator(".field-subscription_history")
    history.get_by_text(WHO).wait_for()
    assert "referral.decision_corrected" in history.inner_text()
    assert history.locator("input, textarea, select").count() == 0  # read-only
    screenshot("subscriptions-history-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("subscriptions-history-390")
    assert SubscriptionChange.objects.get().changed_by.username == "root"
