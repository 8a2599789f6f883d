from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "blend.apps.demo"
    label = "demo"
    url_prefix = "demo/"
