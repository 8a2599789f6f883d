from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from blend.apps.offers.services import trial_consent_versions
from blend.protocol import load_protocol

DATE = forms.DateInput(attrs={"type": "date"})


def _reason_help(key: str) -> str:
    suggestions = load_protocol().section("offers").get(key, [])
    return _("For example: %(s)s") % {"s": "; ".join(suggestions)} if suggestions else ""


class OfferForm(forms.Form):
    offered_on = forms.DateField(label=_("Offered on"), widget=DATE, initial=timezone.localdate)


class AcceptForm(forms.Form):
    decided_on = forms.DateField(
        label=_("Trial consent signed on"), widget=DATE, initial=timezone.localdate
    )
    trial_consent_version = forms.ChoiceField(label=_("Trial consent form version"))

    def __init__(self, *args: Any, trial: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        version = cast(forms.ChoiceField, self.fields["trial_consent_version"])  # declared above
        version.choices = [("", "—")] + [(v, v) for v in trial_consent_versions(trial)]


class RefuseForm(forms.Form):
    decided_on = forms.DateField(label=_("Refused on"), widget=DATE, initial=timezone.localdate)
    reason = forms.CharField(
        label=_("Reason for refusal"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_reason_help("refusal_reasons"),
    )


class NotOfferedForm(forms.Form):
    decided_on = forms.DateField(label=_("Date"), widget=DATE, initial=timezone.localdate)
    reason = forms.CharField(
        label=_("Why the offer was not made"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_reason_help("not_offered_reasons"),
    )
