from django.apps import AppConfig


class QuestionnairesConfig(AppConfig):
    name = "blend.apps.questionnaires"
    label = "questionnaires"
    url_prefix = "questionnaires/"
