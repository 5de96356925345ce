import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from intake import event_types
from intake.models import WebhookFormat
from intake.partners import CREATE_PARTNER_COMMAND, create_partner

EVENTS_HELP = (
    "optional event types it receives besides ping and the v1 types, comma-separated: "
    + "; ".join(f"{name} (sent when {when})" for name, when in event_types.OPTIONAL.items()).replace(
        "%", "%%"
    )
    + ". A sandbox partner receives all of them. Recorded as the partner's first subscription change."
)


def event_list(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


class Command(BaseCommand):
    help = "Create a partner clinic and print its API key and webhook secret (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--webhook-url", default="")
        parser.add_argument(
            "--webhook-format",
            choices=WebhookFormat.values,
            default=WebhookFormat.JSON,
            help="what webhooks carry as data: the referral JSON (default) or its FHIR R4 Bundle",
        )
        parser.add_argument(
            "--sandbox",
            action="store_true",
            help="a test partner: its cases never reach specialists and are decided automatically "
            "by their external_id's prefix (approve-, amend-, decline-, ask-); its key begins sandbox_",
        )
        parser.add_argument("--events", default="", metavar="TYPES", help=EVENTS_HELP)
        parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object")

    def handle(
        self,
        *args,
        name: str,
        webhook_url: str,
        webhook_format: str,
        sandbox: bool,
        events: str,
        as_json: bool,
        **options,
    ):
        try:
            partner, key = create_partner(
                name=name,
                webhook_url=webhook_url,
                webhook_format=webhook_format,
                sandbox=sandbox,
                events=event_list(events),
                # Kept with the subscription, as the admin keeps who asked for a change.
                requested_by=CREATE_PARTNER_COMMAND,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(m for ms in exc.message_dict.values() for m in ms)) from exc
        if as_json:
            payload = {
                "id": str(partner.id),
                "api_key": key,
                "webhook_secret": partner.webhook_secret,
                "sandbox": partner.is_sandbox,
                "event_types": partner.event_types,
            }
            self.stdout.write(json.dumps(payload))
            return
        kind = " (sandbox: cases are decided automatically, never by a specialist)" if sandbox else ""
        self.stdout.write(f"Partner:        {partner.name} ({partner.id}){kind}")
        self.stdout.write(f"API key:        {key}")
        self.stdout.write(f"Webhook secret: {partner.webhook_secret}")
        self.stdout.write(f"Events:         {', '.join([*event_types.ALWAYS_ON, *partner.event_types])}")
        self.stdout.write("Store both now: they are not shown again.")
