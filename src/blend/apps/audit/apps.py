from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "blend.apps.audit"
    label = "audit"
    url_prefix = "audit/"

    def ready(self) -> None:
        # Infrastructure, not a business rule: (re)install the append-only triggers
        # once the schema exists, for every audited table of every app.
        from blend.apps.audit.append_only import install_triggers

        post_migrate.connect(install_triggers, dispatch_uid="blend-audit-triggers")
