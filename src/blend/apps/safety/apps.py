from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "blend.apps.safety"
    label = "safety"
    url_prefix = "safety/"
    nav = [("safety:overview", "Safety", "participant.view")]
