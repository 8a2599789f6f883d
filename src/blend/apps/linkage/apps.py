from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LinkageConfig(AppConfig):
    name = "blend.apps.linkage"
    label = "linkage"
    url_prefix = "linkage/"
    nav = [("linkage:overview", _("Registry linkage"), "linkage")]

    def ready(self) -> None:
        from blend.apps.exports.services import register_dataset_note
        from blend.apps.linkage import checks  # noqa: F401 (registers linkage.E001)
        from blend.apps.linkage.services import linkage_note

        # The analysis dataset states what was linked (CONSORT-ROUTINE); exports sits
        # below linkage, so the note is handed down rather than imported up.
        register_dataset_note("linkage", linkage_note)
