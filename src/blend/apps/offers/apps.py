from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OffersConfig(AppConfig):
    name = "blend.apps.offers"
    label = "offers"
    url_prefix = "offers/"
    nav = [("offers:worklist", _("Offers"), "offer.write")]
