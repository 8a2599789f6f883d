from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "blend.apps.api"
    label = "api"
    url_prefix = ""  # the API mounts itself at /api/
