"""Sign-in lockout that holds: per user name and address, and per user name across addresses.

django-axes counts failures for each of AXES_LOCKOUT_PARAMETERS and locks out when the
largest count reaches AXES_FAILURE_LIMIT. Per user name and address that limit is right
(staff behind one clinic address do not lock each other out), but across all addresses
the same five would let anyone lock any account from anywhere; an attacker with many
addresses, on the other hand, must meet a limit too. So the name-wide count is scaled to
reach the limit at AXES_USERNAME_FAILURE_LIMIT failures.
"""

import math

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum


class NameAndAddressLockout(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        # One queryset per entry of AXES_LOCKOUT_PARAMETERS, in its order: (name, address), then name.
        by_name_and_address, by_name = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        scaled = math.floor(by_name * settings.AXES_FAILURE_LIMIT / settings.AXES_USERNAME_FAILURE_LIMIT)
        return max(by_name_and_address, scaled)
