from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OverviewConfig(AppConfig):
    """The pages that compose every app: the dashboard, the participant list and the
    participant page. It sits at the top of the stack so that no domain app has to
    import the apps whose panels and cards it shows."""

    name = "blend.apps.overview"
    label = "overview"
    url_prefix = ""
    nav = [("participant-list", _("Participants"), "participant.view")]
