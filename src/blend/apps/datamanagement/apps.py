from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from blend.apps.audit.guards import register_write_guard
from blend.web.findings import register_timeline_labels
from blend.web.forms import register_timeline_source


class DatamanagementConfig(AppConfig):
    name = "blend.apps.datamanagement"
    label = "datamanagement"
    url_prefix = "datamanagement/"
    nav = [("datamanagement:overview", _("Data queries"), "participant.view")]

    def ready(self) -> None:
        # Locked data must be refused on every audited write; the audit app runs the
        # rule without importing this app (imports point down, registrations point up).
        from blend.apps.datamanagement.locks import check_writable
        from blend.apps.datamanagement.timeline import LABELS, timeline_values

        register_write_guard("datamanagement.locks", check_writable)
        # Forms of the lower apps check dates across forms; the timeline lives here.
        register_timeline_source(timeline_values)
        register_timeline_labels(LABELS)
