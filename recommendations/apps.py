from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "recommendations"
    verbose_name = "Recommendations and decisions"

    def ready(self) -> None:
        # What follows a status move is registered here, not imported into the state machine.
        from intake import providers, workflow
        from recommendations.selectors import required_findings
        from recommendations.tasks import decide_sandbox_after_draft, queue_draft_after_move

        workflow.on_move(queue_draft_after_move, after_commit=True)
        workflow.on_move(decide_sandbox_after_draft, after_commit=True)
        # The findings list marks what a protocol requires; intake asks through this registration.
        providers.register_required_findings(required_findings)
