from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "blend.apps.consent"
    label = "consent"
    url_prefix = "consent/"
