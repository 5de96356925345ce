from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "clinic.aftercare"
    label = "aftercare"
    verbose_name = "After the decision: treatment, adverse events, follow-up"

    def ready(self) -> None:
        # What follows a move is registered here, not imported into the state machines: a treatment
        # decision opens its course in the decision's transaction; a sandbox course is then treated
        # by the sandbox, after commit. The follow-up rides the same moves in their transactions: an
        # opened course gets its time points and the baseline's link, the first signed session dates
        # the later ones, and a course that ends closes what is still open. A link's email is queued
        # once the link has committed; the email provider's bounces and complaints come back through
        # anymail's tracking signal.
        from clinic.aftercare import bounces, courses, demo, follow_up, outcomes, treatments
        from clinic.aftercare.tasks.follow_up import queue_send
        from clinic.aftercare.tasks.sandbox import start_sandbox_course
        from intake import providers, workflow
        from recommendations.demo import register_demo_seeder

        workflow.on_move(courses.open_course_after_decision, after_commit=False)
        courses.on_course_move(follow_up.follow_course_move, after_commit=False)
        treatments.on_treated(follow_up.follow_treatment)
        follow_up.on_invitation(queue_send)
        bounces.connect()
        courses.on_course_move(start_sandbox_course, after_commit=True)
        # replay_rules --against scores rule sets by how patients did; seed_demo seeds followed-up patients.
        providers.register_patient_outcomes(outcomes.responders_by_case)
        register_demo_seeder(demo.seed_outcomes)
