from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "blend.apps.fhir"
    label = "fhir"
    verbose_name = "FHIR export"
