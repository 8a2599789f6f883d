from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "blend.apps.accounts"
    label = "accounts"
    url_prefix = "accounts/"
    nav = [("accounts:staff", _("Staff"), "users.manage")]

    def ready(self) -> None:
        # The trials app sits below this one: tell it which trials a user may work in
        # (their roles per trial), so its switcher offers and accepts only those.
        from blend.apps.accounts.permissions import open_trials_of
        from blend.apps.trials.http import register_trial_access

        register_trial_access(open_trials_of)
