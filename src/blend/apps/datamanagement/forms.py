"""Forms of the data-management pages (the edit-check mixin is ``blend.web.forms.EditCheckMixin``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class SignOffForm(forms.Form):
    password = forms.CharField(label=_("Your password (to sign)"), widget=forms.PasswordInput)
    understood = forms.BooleanField(label=_("I have read the meaning of this signature"))


class QueryForm(forms.Form):
    field = forms.CharField(label=_("Field"), max_length=80, required=False)
    form = forms.CharField(label=_("Form"), max_length=80)
    assigned_role = forms.ChoiceField(
        label=_("Assigned to"),
        choices=[
            ("nurse", _("Research nurse")),
            ("investigator", _("Investigator")),
            ("data_manager", _("Data manager")),
        ],
    )
    text = forms.CharField(label=_("Question"), widget=forms.Textarea(attrs={"rows": 3}))


class QueryMessageForm(forms.Form):
    text = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}))
