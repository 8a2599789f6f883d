from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllocationConfig(AppConfig):
    name = "blend.apps.allocation"
    label = "allocation"
    url_prefix = "allocation/"
    nav = [("allocation:overview", _("Randomization"), "randomization.overview")]

    def ready(self) -> None:
        from blend.apps.allocation import checks  # noqa: F401 (registers the deploy checks)

        # Allocation owns "the screening is final once randomized"; screening sits below
        # allocation, so the rule is handed down rather than imported up.
        from blend.apps.allocation.queries import screening_final_once_randomized
        from blend.apps.screening.services import register_finality_rule

        register_finality_rule("allocation.randomized", screening_final_once_randomized)
