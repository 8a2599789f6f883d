from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    name = "blend.apps.treatment"
    label = "treatment"
    url_prefix = "treatment/"
