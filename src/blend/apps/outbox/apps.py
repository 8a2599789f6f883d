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
            domain,
            staff_links,
        )
        from blend.apps.trials.lookup import trials_by_code

        staff_links.connect()  # the accounts app's set-password e-mails
        # The arm-blind check names every hosted trial, the registered ones too.
        domain.use_trials(trials_by_code)
