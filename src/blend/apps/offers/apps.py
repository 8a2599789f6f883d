from django.apps import AppConfig


class OffersConfig(AppConfig):
    name = "blend.apps.offers"
    label = "offers"
    url_prefix = "offers/"
    nav = [("offers:worklist", "Offers", "offer.write")]
