from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "blend.apps.registry"
    label = "registry"
    url_prefix = ""
