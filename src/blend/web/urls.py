"""URL configuration. Each app in settings.BLEND_APPS that has a ``urls`` module is
mounted at its AppConfig.url_prefix, so adding an app needs no edit here."""

from __future__ import annotations

import importlib.util

from django.apps import apps
from django.conf import settings
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
]

for app_name in settings.BLEND_APPS:
    if importlib.util.find_spec(f"{app_name}.urls") is None:
        continue
    config = next(c for c in apps.get_app_configs() if c.name == app_name)
    urlpatterns.append(
        path(getattr(config, "url_prefix", f"{config.label}/"), include(f"{app_name}.urls"))
    )
