from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "blend.apps.screening"
    label = "screening"
    url_prefix = "screening/"
    nav = [("screening:log", _("Screening log"), "participant.view")]
