from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SafetyConfig(AppConfig):
    name = "blend.apps.safety"
    label = "safety"
    url_prefix = "safety/"
    nav = [("safety:overview", _("Safety"), "participant.view")]

    def ready(self) -> None:
        from blend.apps.outbox.services import register_delivery_listener
        from blend.apps.safety.services import SAE_TEMPLATE, audit_notification_delivery

        register_delivery_listener(SAE_TEMPLATE, audit_notification_delivery)
