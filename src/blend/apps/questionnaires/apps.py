from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuestionnairesConfig(AppConfig):
    name = "blend.apps.questionnaires"
    label = "questionnaires"
    url_prefix = "questionnaires/"
    nav = [("questionnaires:translations", _("Questionnaire texts"), "query.manage")]

    def ready(self) -> None:
        from blend.apps.followup.services import register_death_listener
        from blend.apps.outbox.services import register_link_factory
        from blend.apps.questionnaires import checks  # noqa: F401  (registers the system checks)
        from blend.apps.questionnaires.reminders import LINK_FACTORY, mint_links
        from blend.apps.questionnaires.services import revoke_links

        # Lower apps call back into this one by registration, never by import:
        register_link_factory(LINK_FACTORY, mint_links)  # the outbox mints each link at delivery
        register_death_listener(
            "questionnaires.revoke_links", revoke_links
        )  # a death revokes open links
