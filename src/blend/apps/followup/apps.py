from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    name = "blend.apps.followup"
    label = "followup"
    url_prefix = "followup/"
    nav = [
        ("followup:calendar", "Follow-up", "participant.view"),
        ("followup:completeness", _("Completeness"), "participant.view"),
    ]

    def ready(self) -> None:
        from blend.apps.followup import checks  # noqa: F401  (registers the system checks)
