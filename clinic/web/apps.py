from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "clinic.web"
    label = "web"
    verbose_name = "Partner API, FHIR door, desk pages and webhooks"

    def ready(self) -> None:
        # What follows a status move or an addendum is registered here, not imported into the state
        # machine or the review: in its transaction, the partner's outbox row (clinic.web.notifications).
        from clinic.web.tasks import tell_partner, tell_partner_of_addendum
        from intake import workflow
        from recommendations import review

        workflow.on_move(tell_partner, after_commit=False)
        review.on_addendum(tell_partner_of_addendum)
