"""A successful sign-in clears only its own address's failures (issue 21, defect 6): an attacker's
lockout at another address, and the count a user name has across all addresses, stay."""

import pytest
from axes.models import AccessAttempt
from django.test import Client

from tests.factories import make_user

PASSWORD = "pw-for-tests-1"
ATTACKER, OFFICE, HOME = "203.0.113.66", "198.51.100.10", "192.0.2.20"


def sign_in(address: str, password: str, username: str = "desk_target") -> int:
    """One attempt from `address` through the real sign-in page, in a browser of its own."""
    response = Client().post(
        "/desk/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )
    return response.status_code


@pytest.fixture(params=[True, False], ids=["reset-on-success", "no-reset-setting"])
def reset_setting(request, settings):
    # Either value of AXES_RESET_ON_SUCCESS: the narrow reset must not depend on it.
    settings.AXES_RESET_ON_SUCCESS = request.param
    return settings


@pytest.mark.django_db
def test_the_real_user_signing_in_elsewhere_does_not_lift_the_attackers_lockout(reset_setting):
    make_user("desk_target", group="Front desk")
    for _ in range(reset_setting.AXES_FAILURE_LIMIT - 1):
        assert sign_in(ATTACKER, "guess") == 200
    assert sign_in(ATTACKER, "guess") == 429  # the fifth failure locks that address

    assert sign_in(OFFICE, PASSWORD) == 302  # the owner, at work

    assert sign_in(ATTACKER, "guess again") == 429
    assert sign_in(ATTACKER, PASSWORD) == 429  # even the right password, until the cool-off
    assert sign_in(OFFICE, PASSWORD) == 302  # and the owner is not locked out at work


@pytest.mark.django_db
def test_a_success_keeps_the_count_the_name_has_across_all_addresses(reset_setting):
    make_user("desk_target", group="Front desk")
    limit = reset_setting.AXES_USERNAME_FAILURE_LIMIT
    for n in range(limit - 1):  # one guess from each of many addresses
        assert sign_in(f"203.0.113.{n}", "guess") == 200

    assert sign_in(OFFICE, PASSWORD) == 302

    assert sign_in("203.0.113.250", "guess") == 429  # the name-wide limit is reached all the same
    assert sign_in(HOME, PASSWORD) == 429


@pytest.mark.django_db
def test_a_success_clears_the_failures_of_its_own_address(reset_setting):
    make_user("desk_target", group="Front desk")
    limit = reset_setting.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):  # the owner's own typos at work
        assert sign_in(OFFICE, "typo") == 200
    assert sign_in(OFFICE, PASSWORD) == 302

    # The next day's typos start from nothing at that address ...
    for _ in range(limit - 1):
        assert sign_in(OFFICE, "typo") == 200
    assert sign_in(OFFICE, PASSWORD) == 302
    # ... while every failure still counts for the name, kept out of the per-address count.
    assert sum(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == 2 * (limit - 1)
    assert not AccessAttempt.objects.filter(ip_address=OFFICE).exists()


@pytest.mark.django_db
def test_failures_after_a_success_still_lock_that_address(reset_setting):
    make_user("desk_target", group="Front desk")
    assert sign_in(OFFICE, "typo") == 200
    assert sign_in(OFFICE, PASSWORD) == 302

    # The typo before the success no longer counts here: four more are told "wrong", the fifth locks.
    for _ in range(reset_setting.AXES_FAILURE_LIMIT - 1):
        assert sign_in(OFFICE, "guess") == 200
    assert sign_in(OFFICE, "guess") == 429
    assert sign_in(OFFICE, PASSWORD) == 429
