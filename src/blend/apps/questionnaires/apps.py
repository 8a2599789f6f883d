from django.apps import AppConfig


class QuestionnairesConfig(AppConfig):
    name = "blend.apps.questionnaires"
    label = "questionnaires"
    url_prefix = "questionnaires/"

    def ready(self) -> None:
        from blend.apps.questionnaires import checks  # noqa: F401  (registers the system checks)
