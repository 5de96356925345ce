from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "clinic.web"
    label = "web"
    verbose_name = "Partner API, FHIR door, desk pages and webhooks"

    def ready(self) -> None:
        # What follows a status move, an addendum, a signed treatment, a course move, a confirmed
        # adverse event or a scored follow-up answer is registered here, not imported into the
        # services: in its transaction, the partner's outbox row (clinic.web.notifications).
        from clinic.aftercare import adverse_events, courses, follow_up, treatments
        from clinic.web.tasks import (
            tell_partner,
            tell_partner_adverse_event,
            tell_partner_follow_up,
            tell_partner_of_addendum,
            tell_partner_of_course,
            tell_partner_treated,
        )
        from intake import workflow
        from recommendations import review

        workflow.on_move(tell_partner, after_commit=False)
        review.on_addendum(tell_partner_of_addendum)
        treatments.on_treated(tell_partner_treated)
        courses.on_course_move(tell_partner_of_course, after_commit=False)
        adverse_events.on_serious_confirmed(tell_partner_adverse_event)
        follow_up.on_scored(tell_partner_follow_up)
