from django.apps import AppConfig


class TrialsConfig(AppConfig):
    """The trials the cohort hosts: the shipped trial folders and those a trial team
    registered with ``blend trial add``. Low in the stack so that every app may ask which
    trials exist; it knows nothing of participants."""

    name = "blend.apps.trials"
    label = "trials"

    def ready(self) -> None:
        from blend.apps.trials import checks  # noqa: F401  (registers the start-up check)
