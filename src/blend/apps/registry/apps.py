from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "blend.apps.registry"
    label = "registry"
    url_prefix = ""
    nav = [("participant-list", _("Participants"), "participant.view")]
