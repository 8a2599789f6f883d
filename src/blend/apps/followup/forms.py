from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from blend.apps.followup.models import (
    HospitalAdmission,
    NeuroAssessment,
    OpioidUse,
    ReIntervention,
    SystemicTherapy,
)
from blend.instruments import InstrumentError, get_instrument, score

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DATE = forms.DateInput(attrs={"type": "date"})
OPIOID_ROWS = 3


class VitalStatusForm(forms.Form):
    last_contact_on = forms.DateField(label=_("Date of last contact"), widget=DATE, required=False)
    died_on = forms.DateField(label=_("Date of death"), widget=DATE, required=False)
    cause_of_death = forms.CharField(label=_("Cause of death"), max_length=200, required=False)
    reason = forms.CharField(
        label=_("Reason for change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when changing a saved vital status."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("died_on") and not data.get("last_contact_on"):
            self.add_error(
                "last_contact_on", _("Expected the date of last contact (or a date of death).")
            )
        if data.get("died_on") and not data.get("cause_of_death", "").strip():
            self.add_error("cause_of_death", _("Expected the cause of death (or 'unknown')."))
        return data


class ClinicalForm(forms.ModelForm):
    change_reason = forms.CharField(
        label=_("Reason for change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when changing a saved form."),
    )


class AdmissionForm(ClinicalForm):
    class Meta:
        model = HospitalAdmission
        fields = ["admitted_on", "discharged_on", "index_treatment", "reason"]
        widgets = {"admitted_on": DATE, "discharged_on": DATE}


class SystemicTherapyForm(ClinicalForm):
    class Meta:
        model = SystemicTherapy
        fields = ["started_on", "therapy_type"]
        widgets = {"started_on": DATE}


class NeuroForm(ClinicalForm):
    class Meta:
        model = NeuroAssessment
        fields = ["assessed_on", "asia_grade", "timepoint"]
        widgets = {"assessed_on": DATE}


class ReInterventionForm(ClinicalForm):
    class Meta:
        model = ReIntervention
        fields = ["performed_on", "kind", "description"]
        widgets = {"performed_on": DATE}


def _choices(item_key: str) -> list[tuple[str, str]]:
    item = get_instrument("omed").item(item_key)
    return [("", "—"), *[(str(o.value), o.label_en) for o in item.options]]


class OpioidForm(ClinicalForm):
    """Opioids in use; OMED is computed on save with blend.instruments ("omed")."""

    class Meta:
        model = OpioidUse
        fields = ["used_on"]
        widgets = {"used_on": DATE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for row in range(1, OPIOID_ROWS + 1):
            self.fields[f"drug_{row}"] = forms.ChoiceField(
                label=_("Opioid %(n)s") % {"n": row}, choices=_choices("drug"), required=False
            )
            self.fields[f"route_{row}"] = forms.ChoiceField(
                label=_("Route %(n)s") % {"n": row}, choices=_choices("route"), required=False
            )
            self.fields[f"dose_{row}"] = forms.FloatField(
                label=_("Dose %(n)s") % {"n": row}, min_value=0, required=False
            )
            self.fields[f"unit_{row}"] = forms.ChoiceField(
                label=_("Unit %(n)s") % {"n": row}, choices=_choices("unit"), required=False
            )
        self.fields["change_reason"] = self.fields.pop("change_reason")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        medications = []
        for row in range(1, OPIOID_ROWS + 1):
            values = {k: data.get(f"{k}_{row}") for k in ("drug", "route", "dose", "unit")}
            if not any(v not in (None, "") for v in values.values()):
                continue
            missing = [k for k, v in values.items() if v in (None, "")]
            if missing:
                self.add_error(
                    f"{missing[0]}_{row}",
                    _("Expected drug, route, dose and unit for opioid %(n)s.") % {"n": row},
                )
                continue
            medications.append(values)
        try:
            data["omed_mg_day"] = score("omed", {"medications": medications})["omed"]
        except InstrumentError as error:
            raise forms.ValidationError(str(error)) from None
        data["medications"] = medications
        return data


CLINICAL_FORMS: dict[str, tuple[type[ClinicalForm], StrOrPromise]] = {
    "admission": (AdmissionForm, _("Hospital admission")),
    "systemic": (SystemicTherapyForm, _("Return to systemic therapy")),
    "asia": (NeuroForm, _("Neurological status (ASIA)")),
    "opioids": (OpioidForm, _("Opioid use")),
    "reintervention": (ReInterventionForm, _("Re-intervention")),
}
