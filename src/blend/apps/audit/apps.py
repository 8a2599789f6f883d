from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate, pre_migrate


class AuditConfig(AppConfig):
    name = "blend.apps.audit"
    label = "audit"
    url_prefix = "audit/"

    def ready(self) -> None:
        # Infrastructure, not a business rule: (re)install the append-only and chain
        # triggers once the schema exists, for every audited table of every app, and give
        # each SQLite connection the functions those triggers call.
        from blend.apps.audit import checks  # noqa: F401  (registers the deploy check)
        from blend.apps.audit.append_only import (
            install_triggers,
            register_sqlite_functions,
            suspend_chain,
        )

        # Once per migrate (or flush): migrate sends post_migrate for every app after all
        # migrations have run, so every table exists when the audit app's signal arrives.
        # The chain triggers are dropped while migrations run (they name every column).
        pre_migrate.connect(suspend_chain, sender=self, dispatch_uid="blend-audit-suspend")
        post_migrate.connect(install_triggers, sender=self, dispatch_uid="blend-audit-triggers")
        connection_created.connect(register_sqlite_functions, dispatch_uid="blend-audit-sqlite")
