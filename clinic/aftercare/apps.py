from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "clinic.aftercare"
    label = "aftercare"
    verbose_name = "After the decision: treatment, adverse events, follow-up"
