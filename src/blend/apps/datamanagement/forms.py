"""Forms of the data-management pages and the edit-check mixin any form may use."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from blend.apps.datamanagement.editchecks import EditCheck, Finding, run_checks


class EditCheckMixin:
    """Runs the form's declared ``edit_checks`` live, when the form is validated.

    Put it before ``forms.Form`` in the bases. Cross-form date checks need the
    participant: pass ``participant=`` to the form or set ``form.participant``.
    A finding lands on its field (or the form when the field is not on it), and
    never on a field that already has an error, so nothing is reported twice.
    """

    edit_checks: tuple[EditCheck, ...] = ()

    def __init__(self, *args: Any, participant: Any = None, **kwargs: Any) -> None:
        self.participant = participant
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]

    def edit_check_values(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        from blend.apps.datamanagement.timeline import timeline_values

        instance = getattr(self, "instance", None)  # a ModelForm: checks may read fields not on the form
        saved = {f.name: getattr(instance, f.attname) for f in instance._meta.concrete_fields} if instance else {}
        return {**timeline_values(self.participant), **saved, **cleaned}

    def edit_check_findings(self) -> list[Finding]:
        return run_checks(self.edit_checks, self.edit_check_values(dict(self.cleaned_data)))  # type: ignore[attr-defined]

    def _post_clean(self) -> None:
        # After the form's own clean(): its messages come first, and a field it already
        # rejected is not reported again by a check.
        super()._post_clean()  # type: ignore[misc]
        for finding in self.edit_check_findings():
            field = finding.field if finding.field in self.fields else None  # type: ignore[attr-defined]
            if field is not None and self.has_error(field):  # type: ignore[attr-defined]
                continue
            self.add_error(field, f"[{finding.check}] {finding.message}")  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class SignOffForm(forms.Form):
    password = forms.CharField(label=_("Your password (to sign)"), widget=forms.PasswordInput)
    understood = forms.BooleanField(label=_("I have read the meaning of this signature"))


class QueryForm(forms.Form):
    field = forms.CharField(label=_("Field"), max_length=80, required=False)
    form = forms.CharField(label=_("Form"), max_length=80)
    assigned_role = forms.ChoiceField(label=_("Assigned to"), choices=[
        ("nurse", _("Research nurse")), ("investigator", _("Investigator")), ("data_manager", _("Data manager"))])
    text = forms.CharField(label=_("Question"), widget=forms.Textarea(attrs={"rows": 3}))


class QueryMessageForm(forms.Form):
    text = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}))
