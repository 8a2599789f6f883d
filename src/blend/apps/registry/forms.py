from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.utils.translation import gettext_lazy as _

from blend.apps.registry.editchecks import PARTICIPANT, REGISTRATION
from blend.apps.registry.models import Language, Participant, PrimaryTumour, Sex, Site
from blend.apps.registry.validation import (
    HOSPITAL_NUMBER,
    PHONE,
    date_problems,
    duplicate_problem,
    registered_hospital_keys,
)
from blend.web.forms import EditCheckMixin

NOTHING_CHOSEN = ("", "—")


def starting_empty(choices: Sequence[tuple[object, object]]) -> list[tuple[object, object]]:
    """A required choice that starts on "—": a preselected sex, tumour or ECOG score would
    be saved silently by anyone who skips the field; with nothing chosen the form says so."""
    return [NOTHING_CHOSEN, *choices]


class RegistrationForm(EditCheckMixin, forms.Form):
    edit_checks = REGISTRATION  # declared in registry.editchecks
    site = forms.ModelChoiceField(label=_("Centre"), queryset=Site.objects.all())
    registered_on = forms.DateField(
        label=_("Cohort entry date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    date_of_birth = forms.DateField(
        label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date"})
    )
    hospital_number = forms.RegexField(
        label=_("Hospital number"),
        regex=HOSPITAL_NUMBER,
        error_messages={"invalid": _("Expected 4–30 letters, digits or hyphens.")},
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=starting_empty(Sex.choices))
    primary_tumour = forms.ChoiceField(
        label=_("Primary tumour"), choices=starting_empty(PrimaryTumour.choices)
    )
    metastases_diagnosed_on = forms.DateField(
        label=_("Date spinal metastases diagnosed"), widget=forms.DateInput(attrs={"type": "date"})
    )
    performance_status = forms.TypedChoiceField(
        label=_("WHO/ECOG performance status"),
        coerce=int,
        choices=starting_empty([(i, str(i)) for i in range(5)]),
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.RegexField(
        label=_("Mobile phone"),
        regex=PHONE,
        required=False,
        error_messages={
            "invalid": _("Expected a phone number of 8–20 digits, optionally starting with +.")
        },
    )
    preferred_language = forms.ChoiceField(
        label=_("Preferred language"), choices=starting_empty(Language.choices)
    )

    def clean_hospital_number(self) -> str:
        number: str = self.cleaned_data["hospital_number"]
        if registered_hospital_keys([number]):  # case-insensitive, as the service checks
            raise forms.ValidationError(duplicate_problem(number).message)
        return number

    def clean(self) -> dict:
        data = super().clean() or {}
        # The same date rules as the service (registry.validation), so the API refuses them too.
        for problem in date_problems(
            data.get("date_of_birth"),
            data.get("registered_on"),
            data.get("metastases_diagnosed_on"),
        ):
            self.add_error(problem.field, problem.message)
        return data


class ParticipantEditForm(EditCheckMixin, forms.ModelForm):
    edit_checks = PARTICIPANT
    reason = forms.CharField(label=_("Reason for change"), widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = Participant
        fields = ["sex", "primary_tumour", "metastases_diagnosed_on", "performance_status"]
        widgets = {"metastases_diagnosed_on": forms.DateInput(attrs={"type": "date"})}

    def clean_performance_status(self) -> int:
        value = self.cleaned_data["performance_status"]
        if not 0 <= value <= 4:
            raise forms.ValidationError(_("Expected 0–4, got %(v)s.") % {"v": value})
        return value


class ParticipantFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    site = forms.ModelChoiceField(label=_("Centre"), queryset=Site.objects.all(), required=False)
    primary_tumour = forms.ChoiceField(
        label=_("Primary tumour"), choices=[("", "—"), *PrimaryTumour.choices], required=False
    )
    randomization_consent = forms.ChoiceField(
        label=_("Randomization consent (c)"),
        choices=[
            ("", "—"),
            ("yes", _("yes")),
            ("no", _("no")),
            ("postponed", _("postponed")),
            ("withdrawn", _("withdrawn")),
            ("none", _("not recorded")),
        ],
        required=False,
    )
