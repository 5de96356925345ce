import getpass
import json
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from intake.models import Partner
from intake.partner_webhooks import MAX_OVERLAP_HOURS, rotate_webhook_secret


def find_partner(name_or_id: str) -> Partner:
    text = name_or_id.strip()
    try:
        return Partner.objects.get(pk=uuid.UUID(text))
    except (ValueError, Partner.DoesNotExist):
        pass
    try:
        return Partner.objects.get(name__iexact=text)
    except Partner.DoesNotExist:
        raise CommandError(
            f"No partner named or numbered “{text}”: see the partners in the admin, or "
            "`manage.py create_partner`."
        ) from None


def who_runs_this() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container's uid without a name
        return "an unnamed user"


class Command(BaseCommand):
    help = (
        "Give a partner a new webhook signing secret and print it (shown once). The previous secret keeps "
        "signing beside it for the overlap, so the partner's receiver can switch without a gap."
    )

    def add_arguments(self, parser):
        parser.add_argument("partner", help="the partner's name or id")
        parser.add_argument(
            "--overlap-hours",
            type=int,
            default=None,
            metavar="N",
            help=f"how long the previous secret still signs, 0 to {MAX_OVERLAP_HOURS} "
            f"(default WEBHOOK_SECRET_OVERLAP_HOURS, now {settings.WEBHOOK_SECRET_OVERLAP_HOURS}); "
            "0 if it leaked",
        )
        parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object")

    def handle(self, *args, partner: str, overlap_hours: int | None, as_json: bool, **options):
        found = find_partner(partner)
        try:
            rotation = rotate_webhook_secret(
                partner_id=found.pk,
                by=f"manage.py rotate_webhook_secret, run by {who_runs_this()}",
                overlap_hours=overlap_hours,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(m for ms in exc.message_dict.values() for m in ms)) from exc
        expires = rotation.previous_expires_at
        if as_json:
            payload = {
                "id": str(found.pk),
                "webhook_secret": rotation.secret,
                "previous_secret_expires_at": expires.isoformat() if expires else None,
            }
            self.stdout.write(json.dumps(payload))
            return
        self.stdout.write(f"Partner:            {found.name} ({found.pk})")
        self.stdout.write(f"New webhook secret: {rotation.secret}")
        if expires:
            self.stdout.write(f"The previous secret also signs until {expires:%Y-%m-%d %H:%M} UTC.")
        else:
            self.stdout.write("The previous secret no longer signs.")
        self.stdout.write("Give the new secret to the partner now: it is not shown again.")
