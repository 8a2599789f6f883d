from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SafetyConfig(AppConfig):
    name = "blend.apps.safety"
    label = "safety"
    url_prefix = "safety/"
    nav = [("safety:overview", _("Safety"), "participant.view")]
