from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "clinic.web"
    label = "web"
    verbose_name = "Partner API, FHIR door, desk pages and webhooks"

    def ready(self) -> None:
        # What follows a status move is registered here, not imported into the state machine:
        # in the move's transaction, the partner's outbox row (clinic.web.notifications).
        from clinic.web.tasks import tell_partner
        from intake import workflow

        workflow.on_move(tell_partner, after_commit=False)
