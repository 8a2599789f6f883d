from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllocationConfig(AppConfig):
    name = "blend.apps.allocation"
    label = "allocation"
    url_prefix = "allocation/"
    nav = [("allocation:overview", _("Randomization"), "randomization.overview")]
