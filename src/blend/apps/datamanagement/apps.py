from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DatamanagementConfig(AppConfig):
    name = "blend.apps.datamanagement"
    label = "datamanagement"
    url_prefix = "datamanagement/"
    nav = [("datamanagement:overview", _("Data queries"), "participant.view")]
