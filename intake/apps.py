from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = "Intake"

    def ready(self) -> None:
        # What follows a status move is registered here, not imported into the state machine.
        from intake import workflow
        from intake.tasks import tell_partner

        workflow.on_move(tell_partner, after_commit=False)
