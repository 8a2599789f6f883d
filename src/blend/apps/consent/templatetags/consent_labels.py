"""Show consent answers in the reader's language ("ja", "uitgesteld" ...), not as codes."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def answer_label(state: str | None) -> str:
    labels = {
        "yes": _("yes"),
        "no": _("no"),
        "postponed": _("postponed"),
        "withdrawn": _("withdrawn"),
        "none": _("not recorded"),
    }
    return labels.get(state or "none", state or "")
