from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from blend.apps.consent.editchecks import CONSENT_FORM
from blend.apps.consent.models import ConsentFormVersion
from blend.protocol import load_protocol
from blend.web.forms import EditCheckMixin


def item_choices() -> list[tuple[str, str]]:
    return [(i.code, f"({i.code}) {i.label_en}") for i in load_protocol().consent_items]


class ConsentDecisionForm(EditCheckMixin, forms.Form):
    """All items at once, as on the paper form; an item left blank is not recorded."""

    edit_checks = CONSENT_FORM  # declared in consent.editchecks

    effective_on = forms.DateField(
        label=_("Date of consent"), widget=forms.DateInput(attrs={"type": "date"})
    )
    form_version = forms.ModelChoiceField(
        label=_("Consent-form version"), queryset=ConsentFormVersion.objects.all()
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for item in load_protocol().consent_items:
            self.fields[f"item_{item.code}"] = forms.ChoiceField(
                label=f"({item.code}) {item.label_en} / {item.label_nl}",
                choices=[
                    ("", "—"),
                    ("yes", _("yes")),
                    ("no", _("no")),
                    ("postponed", _("postponed")),
                ],
                required=False,
            )

    def decisions(self) -> dict[str, str]:
        return {
            name[5:]: value
            for name, value in self.cleaned_data.items()
            if name.startswith("item_") and value
        }

    def clean(self) -> dict:
        data = super().clean() or {}
        if not any(v for k, v in data.items() if k.startswith("item_")):
            raise forms.ValidationError(
                _("Expected an answer for at least one consent item; got none.")
            )
        on, version = data.get("effective_on"), data.get("form_version")
        if on and on > timezone.localdate():
            self.add_error("effective_on", _("Expected today or earlier, got %(d)s.") % {"d": on})
        if (
            on
            and version
            and not (
                version.valid_from <= on
                and (version.valid_until is None or on <= version.valid_until)
            )
        ):
            self.add_error(
                "form_version",
                _("Version %(v)s is not valid on %(d)s.") % {"v": version.version, "d": on},
            )
        return data


class WithdrawalForm(forms.Form):
    item = forms.ChoiceField(label=_("Consent item"), choices=item_choices)
    effective_on = forms.DateField(
        label=_("Date of withdrawal"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
