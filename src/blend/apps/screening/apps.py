from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "blend.apps.screening"
    label = "screening"
    url_prefix = "screening/"
    nav = [("screening:log", "Screening log", "participant.view")]
