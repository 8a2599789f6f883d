from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    name = "blend.apps.treatment"
    label = "treatment"
    url_prefix = "treatment/"

    def ready(self) -> None:
        # The overlap rule "not during another trial's primary-outcome window" counts from
        # that trial's start of treatment, recorded here; allocation sits below this app.
        from blend.apps.allocation.services import register_treatment_start_source
        from blend.apps.treatment.services import treatment_start

        register_treatment_start_source(treatment_start)
