from django.apps import AppConfig


class DatamanagementConfig(AppConfig):
    name = "blend.apps.datamanagement"
    label = "datamanagement"
    url_prefix = "datamanagement/"
    nav = [("datamanagement:overview", "Data queries", "participant.view")]
