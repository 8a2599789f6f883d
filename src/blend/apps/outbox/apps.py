from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "blend.apps.outbox"
    label = "outbox"
    url_prefix = "outbox/"
    nav = [("outbox:list", _("Outbox"), "participant.view")]

    def ready(self) -> None:
        from blend.apps.outbox import (
            checks,  # noqa: F401  (registers the system checks)
            staff_links,
        )

        staff_links.connect()  # the accounts app's set-password e-mails
