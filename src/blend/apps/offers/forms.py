from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from blend.apps.offers.services import trial_consent_versions
from blend.apps.trials.lookup import get_trial

DATE = forms.DateInput(attrs={"type": "date"})


class TrialOfferForm(forms.Form):
    """An offer form of one trial (``trial``; None is the default trial): the consent
    versions and the suggested reasons are that trial's offers.toml."""

    reason_suggestions = ""  # the offers.toml key of the suggestions shown under "reason"

    def __init__(self, *args: Any, trial: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.trial = trial
        if self.reason_suggestions and "reason" in self.fields:
            suggestions = get_trial(trial).section("offers").get(self.reason_suggestions, [])
            if suggestions:
                self.fields["reason"].help_text = _("For example: %(s)s") % {
                    "s": "; ".join(suggestions)
                }


class OfferForm(TrialOfferForm):
    offered_on = forms.DateField(label=_("Offered on"), widget=DATE, initial=timezone.localdate)


class AcceptForm(TrialOfferForm):
    decided_on = forms.DateField(
        label=_("Trial consent signed on"), widget=DATE, initial=timezone.localdate
    )
    trial_consent_version = forms.ChoiceField(label=_("Trial consent form version"))

    def __init__(self, *args: Any, trial: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, trial=trial, **kwargs)
        version = cast(forms.ChoiceField, self.fields["trial_consent_version"])  # declared above
        version.choices = [("", "—")] + [(v, v) for v in trial_consent_versions(trial)]


class RefuseForm(TrialOfferForm):
    reason_suggestions = "refusal_reasons"
    decided_on = forms.DateField(label=_("Refused on"), widget=DATE, initial=timezone.localdate)
    reason = forms.CharField(
        label=_("Reason for refusal"), widget=forms.Textarea(attrs={"rows": 2})
    )


class NotOfferedForm(TrialOfferForm):
    reason_suggestions = "not_offered_reasons"
    decided_on = forms.DateField(label=_("Date"), widget=DATE, initial=timezone.localdate)
    reason = forms.CharField(
        label=_("Why the offer was not made"), widget=forms.Textarea(attrs={"rows": 2})
    )
