from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "blend.apps.api"
    label = "api"
    url_prefix = ""  # the API mounts itself at /api/

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_login_failed
        from django.db.models.signals import post_migrate

        from blend.apps.api import receivers

        # dispatch_uid: connected once, however often ready() runs (see receivers' docstring).
        user_locked_out.connect(receivers.on_user_locked_out, dispatch_uid="blend.api.lockout")
        user_login_failed.connect(
            receivers.on_user_login_failed, dispatch_uid="blend.api.login_failed"
        )
        post_migrate.connect(
            receivers.create_cache_table, sender=self, dispatch_uid="blend.api.cache_table"
        )
