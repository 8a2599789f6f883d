from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "blend.apps.outbox"
    label = "outbox"
    url_prefix = "outbox/"
