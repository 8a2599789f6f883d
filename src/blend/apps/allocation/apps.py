from django.apps import AppConfig


class AllocationConfig(AppConfig):
    name = "blend.apps.allocation"
    label = "allocation"
    url_prefix = "allocation/"
    nav = [("allocation:overview", "Randomization", "randomization.overview")]
