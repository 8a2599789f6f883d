from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "blend.apps.accounts"
    label = "accounts"
    url_prefix = "accounts/"
