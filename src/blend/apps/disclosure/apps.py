from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisclosureConfig(AppConfig):
    """Stage 3 of staged consent: once a trial is completed and its results released (by
    the PI, audited), its living participants are told the results and their own group.
    Above follow-up (vital status), outbox (delivery) and allocation (the groups)."""

    name = "blend.apps.disclosure"
    label = "disclosure"
    url_prefix = "disclosure/"
    nav = [("disclosure:index", _("Results to participants"), "allocation.view")]

    def ready(self) -> None:
        from blend.apps.disclosure import services
        from blend.apps.followup.services import register_death_listener
        from blend.apps.outbox.services import register_delivery_listener

        # A death recorded after the list was made cancels that member's message: the
        # outbox cancels what is queued, and the list says why.
        register_death_listener("disclosure", services.cancel_on_death)
        register_delivery_listener(services.TEMPLATE_CODE, services.track_delivery)
