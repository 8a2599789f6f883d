from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "blend.apps.followup"
    label = "followup"
    url_prefix = "followup/"
