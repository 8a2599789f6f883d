"""Forms of the data-management pages (the edit-check mixin is ``blend.web.forms.EditCheckMixin``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from blend.apps.datamanagement import services
from blend.apps.datamanagement.fields import query_forms


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class SignOffForm(forms.Form):
    password = forms.CharField(label=_("Your password (to sign)"), widget=forms.PasswordInput)
    understood = forms.BooleanField(label=_("I have read the meaning of this signature"))


class QueryForm(forms.Form):
    """A query on a form of the participant, or on one field of it.

    Raised from the field itself, the form and field come prefilled and hidden; from
    the participant's data-management panel, the form is chosen from the list. Either
    way they are checked on the server against the casebook's forms and fields
    (``services.query_target``): an unknown form, field or record is refused.
    """

    form = forms.CharField(label=_("Form"), max_length=80)
    field = forms.CharField(max_length=80, required=False, widget=forms.HiddenInput)
    object = forms.CharField(max_length=40, required=False, widget=forms.HiddenInput)
    next = forms.CharField(max_length=500, required=False, widget=forms.HiddenInput)
    assigned_role = forms.ChoiceField(
        label=_("Assigned to"),
        choices=[
            ("nurse", _("Research nurse")),
            ("investigator", _("Investigator")),
            ("data_manager", _("Data manager")),
        ],
    )
    text = forms.CharField(label=_("Question"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, participant: Any, prefilled: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.participant = participant
        self.target: services.QueryTarget | None = None
        if prefilled:  # opened from a field: the question is what is left to write
            self.fields["form"].widget = forms.HiddenInput()
            self.fields["text"].widget.attrs["autofocus"] = True
        else:
            self.fields["form"].widget = forms.Select(
                choices=[("", "—"), *((name, name) for name in query_forms())]
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "form" in data:
            try:
                self.target = services.query_target(
                    self.participant, data["form"], data.get("field", ""), data.get("object", "")
                )
            except services.DataManagementError as error:
                raise forms.ValidationError(str(error), code="unknown_field") from error
        return data


class QueryMessageForm(forms.Form):
    text = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}))
