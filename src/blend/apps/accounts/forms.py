from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from blend.apps.accounts import services
from blend.apps.accounts.models import ROLE_CHOICES
from blend.apps.trials.lookup import known_trial_codes


class StaffForm(forms.Form):
    """A new account. No password: its owner sets one with the link sent to the e-mail."""

    username = forms.RegexField(
        label=_("Username"),
        regex=r"^[a-z0-9._-]{3,40}$",
        error_messages={
            "invalid": _("Expected 3–40 lower-case letters, digits, dots, hyphens or underscores.")
        },
    )
    first_name = forms.CharField(label=_("Name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)
    email = forms.EmailField(
        label=_("E-mail"),
        help_text=_("The owner sets their own password with the link sent here."),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class TrialRoleForm(forms.Form):
    trial = forms.ChoiceField(label=_("Trial"), choices=())
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["trial"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(code, code) for code in known_trial_codes()]


class ApproveForm(forms.Form):
    password = forms.CharField(label=_("Your password"), widget=forms.PasswordInput, strip=False)


class OwnPasswordForm(SetPasswordForm):
    """The set-password step of a one-time link: saved through the service (audited)."""

    def save(self, commit: bool = True) -> Any:
        how = "first" if self.user.must_set_password else "reset"
        return services.set_own_password(self.user, self.cleaned_data["new_password1"], how=how)


class OwnPasswordChangeForm(PasswordChangeForm):
    """Change one's password: the current one first (failures count towards the lockout)."""

    request: Any = None

    def clean_old_password(self) -> str:
        old = str(self.cleaned_data.get("old_password", ""))
        try:
            services.reauthenticate(self.request, self.user, old)
        except services.ReauthenticationFailed:
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            ) from None
        return old

    def save(self, commit: bool = True) -> Any:
        return services.set_own_password(
            self.user, self.cleaned_data["new_password1"], how="change"
        )


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=254)
