from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    name = "blend.apps.exports"
    label = "exports"
    url_prefix = "exports/"
    nav = [("exports:overview", _("Exports"), "export"), ("exports:import", _("Import"), "import")]
