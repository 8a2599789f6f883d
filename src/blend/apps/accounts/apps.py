from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "blend.apps.accounts"
    label = "accounts"
    url_prefix = "accounts/"
    nav = [("accounts:staff", _("Staff"), "users.manage")]
