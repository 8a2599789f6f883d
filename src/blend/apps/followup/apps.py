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
        from blend.apps.followup.services import replan_extras_after_decision
        from blend.apps.offers.services import register_decision_listener

        # An offer accepted after the schedule was planned gets its trial's extras then.
        register_decision_listener("followup.extras", replan_extras_after_decision)
