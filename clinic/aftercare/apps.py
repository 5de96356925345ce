from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "clinic.aftercare"
    label = "aftercare"
    verbose_name = "After the decision: treatment, adverse events, follow-up"

    def ready(self) -> None:
        # What follows a move is registered here, not imported into the state machines: a treatment
        # decision opens its course in the decision's transaction; a sandbox course is then treated
        # by the sandbox, after commit.
        from clinic.aftercare import courses
        from clinic.aftercare.tasks.sandbox import start_sandbox_course
        from intake import workflow

        workflow.on_move(courses.open_course_after_decision, after_commit=False)
        courses.on_course_move(start_sandbox_course, after_commit=True)
