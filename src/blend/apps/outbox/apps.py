from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "blend.apps.outbox"
    label = "outbox"
    url_prefix = "outbox/"
    nav = [("outbox:list", "Outbox", "participant.view")]

    def ready(self) -> None:
        from blend.apps.outbox import checks  # noqa: F401  (registers the system checks)
