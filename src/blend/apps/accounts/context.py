"""Template context: the user's role label and the navigation their role may use.

Each app declares ``nav = [(url_name, label, capability), ...]`` on its AppConfig,
so the menu grows with the apps and never shows a page the role cannot open.
Capabilities held per trial count in the trial the user is working in.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from blend.apps.accounts.domain import Cap
from blend.apps.trials.http import current_trial


def role(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {}
    trial = current_trial(request)
    items = []
    for config in apps.get_app_configs():
        for url_name, label, capability in getattr(config, "nav", ()):
            if capability is None or user.can(capability, trial=trial):
                items.append({"url": reverse(url_name), "label": label})
    # Everyone signed in changes their own password (docs/security.md §6).
    items.append({"url": reverse("accounts:password-change"), "label": _("Password")})
    caps = {cap.value for cap in Cap if user.can(cap, trial=trial)}
    return {"role_label": user.role_label, "nav_items": items, "caps": caps}
