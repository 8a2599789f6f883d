from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "blend.apps.followup"
    label = "followup"
    url_prefix = "followup/"
    nav = [
        ("followup:calendar", "Follow-up", "participant.view"),
        ("followup:completeness", "Completeness", "participant.view"),
    ]

    def ready(self) -> None:
        from blend.apps.followup import checks  # noqa: F401  (registers the system checks)
