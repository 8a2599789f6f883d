from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from blend.apps.accounts.models import ROLE_CHOICES


class StaffForm(forms.Form):
    username = forms.RegexField(
        label=_("Username"),
        regex=r"^[a-z0-9._-]{3,40}$",
        error_messages={
            "invalid": _("Expected 3–40 lower-case letters, digits, dots, hyphens or underscores.")
        },
    )
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)
    email = forms.EmailField(label=_("E-mail"), required=False)
    password = forms.CharField(label=_("Initial password"), widget=forms.PasswordInput)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)
