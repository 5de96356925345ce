"""Sign-in lockout that holds: per user name and address, and per user name across addresses.

django-axes counts failures for each of AXES_LOCKOUT_PARAMETERS and locks out when the
largest count reaches AXES_FAILURE_LIMIT. Per user name and address that limit is right
(staff behind one clinic address do not lock each other out), but across all addresses
the same five would let anyone lock any account from anywhere; an attacker with many
addresses, on the other hand, must meet a limit too. So the name-wide count is scaled to
reach the limit at AXES_USERNAME_FAILURE_LIMIT failures.

A successful sign-in clears only its own address's count. axes' AXES_RESET_ON_SUCCESS deletes
every attempt of the user name, so the real user signing in anywhere would lift an attacker's
lockout at another address and give back the name-wide guesses: a success from address X
takes X's failures out of the (name, address) count and leaves them in the name's count
until they expire with the cool-off, like any other failure.
"""

import math

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_credentials
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import CharField, Sum, Value
from django.db.models.functions import Cast, Concat


class NameAndAddressLockout(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        # One queryset per entry of AXES_LOCKOUT_PARAMETERS, in its order: (name, address), then name.
        by_name_and_address, by_name = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        scaled = math.floor(by_name * settings.AXES_FAILURE_LIMIT / settings.AXES_USERNAME_FAILURE_LIMIT)
        return max(by_name_and_address, scaled)

    def user_logged_in(self, sender, request, user, **kwargs) -> None:
        super().user_logged_in(sender, request, user, **kwargs)
        if not settings.AXES_RESET_ON_SUCCESS:  # with it, the base class has just called the reset
            self.reset_user_attempts(request, get_credentials(user.get_username()))

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """Take the successful address's failures out of its (name, address) count, keeping them
        in the name's count: the rows lose their address (and get a user agent no browser sends,
        unique per row, so axes never finds two rows for one name, address and agent) but keep
        their user name and attempt time."""
        address = request.axes_ip_address
        if not address:  # no address, no per-address count to clear
            return 0
        # One UPDATE: atomic on its own.
        return AccessAttempt.objects.filter(
            username=get_client_username(request, credentials), ip_address=address
        ).update(
            ip_address=None,
            user_agent=Concat(
                Value(f"[count cleared by a sign-in from {address}] #"),
                Cast("pk", output_field=CharField()),
                output_field=CharField(),
            ),
        )
