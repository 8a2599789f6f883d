from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "blend.apps.exports"
    label = "exports"
    url_prefix = "exports/"
    nav = [("exports:overview", "Exports", "export"), ("exports:import", "Import", "import")]
