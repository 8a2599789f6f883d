from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from blend.apps.treatment.domain import TreatmentConfig
from blend.apps.treatment.models import Pathway, TreatmentRecord
from blend.protocol import TreatmentPlan

SAME_DAY_FIELDS = (
    "sbrt_dose_gy",
    "sbrt_fractions",
    "surgical_site_dose_gy",
    "sbrt_started_at",
    "surgery_started_at",
)
STANDARD_FIELDS = ("surgery_on", "radiotherapy_on", "radiotherapy_type")
PATHWAY_FIELDS = {"same_day": SAME_DAY_FIELDS, "standard": STANDARD_FIELDS}
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE = forms.DateInput(attrs={"type": "date"})


class TreatmentForm(forms.ModelForm):
    reason = forms.CharField(
        label=_("Reason for change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when changing a saved record."),
    )

    class Meta:
        model = TreatmentRecord
        fields = [
            "pathway",
            "planned_on",
            "sbrt_dose_gy",
            "sbrt_fractions",
            "surgical_site_dose_gy",
            "sbrt_started_at",
            "surgery_started_at",
            "surgery_on",
            "radiotherapy_on",
            "radiotherapy_type",
            "levels_stabilized",
            "levels_count",
            "decompression",
            "approach",
            "notes",
        ]
        widgets = {
            "planned_on": DATE,
            "surgery_on": DATE,
            "radiotherapy_on": DATE,
            "sbrt_started_at": DATETIME,
            "surgery_started_at": DATETIME,
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, config: TreatmentConfig, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config = config
        self.fields["pathway"].required = True  # blank only on a configured trial's record
        self.fields["radiotherapy_type"] = forms.ChoiceField(
            label=_("Radiotherapy type"),
            required=False,
            choices=[("", "—"), *[(t, t) for t in config.radiotherapy_types]],
        )
        self.fields["decompression"] = forms.NullBooleanField(
            label=_("Decompression"),
            required=False,
            widget=forms.Select(choices=[("unknown", "—"), ("true", _("yes")), ("false", _("no"))]),
        )
        for name in ("sbrt_started_at", "surgery_started_at"):
            field = self.fields[name]
            assert isinstance(field, forms.DateTimeField)  # model DateTimeFields
            field.input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        self.fields["sbrt_started_at"].help_text = _(
            "SBRT comes first; surgery within %(h)s hours."
        ) % {"h": f"{config.max_hours_between:g}"}
        self.fields["radiotherapy_on"].help_text = _(
            "At least %(d)s days after surgery (wound healing)."
        ) % {"d": config.min_days_surgery_to_radiotherapy}
        if not self.instance.pk:
            self.initial.setdefault("sbrt_dose_gy", config.sbrt_dose_gy)
            self.initial.setdefault("sbrt_fractions", config.sbrt_fractions)
            self.initial.setdefault("surgical_site_dose_gy", config.surgical_site_dose_gy)

    def record_data(self) -> dict[str, Any]:
        """What ``record_treatment`` stores: the form's fields but the reason."""
        return {k: v for k, v in self.cleaned_data.items() if k != "reason"}

    def chosen_pathway(self) -> str:
        """The pathway the form is showing: the one posted, else the saved or default one."""
        if self.is_bound:
            return str(self.data.get("pathway") or "")
        return str(self.initial.get("pathway") or self.instance.pathway or "")

    def groups(self) -> list[dict[str, Any]]:
        """The fields in the order they are shown: the pathway, the fields of each pathway
        (only the chosen one visible), then the rest. A pathway's fields are validated only
        when it is chosen, and the other pathway's are cleared (see ``clean``)."""
        in_a_pathway = {name for names in PATHWAY_FIELDS.values() for name in names}
        chosen = self.chosen_pathway()
        common = [self[n] for n in ("pathway", "planned_on")]
        rest = [
            field
            for field in self
            if field.name not in in_a_pathway and field.name not in {"pathway", "planned_on"}
        ]
        return [
            {"pathway": "", "legend": "", "hidden": False, "fields": common},
            *[
                {
                    "pathway": pathway,
                    "legend": Pathway(pathway).label,
                    "hidden": pathway != chosen,
                    "fields": [self[n] for n in names],
                }
                for pathway, names in PATHWAY_FIELDS.items()
            ],
            {"pathway": "", "legend": "", "hidden": False, "fields": rest},
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk and self.has_changed() and not data.get("reason", "").strip():
            self.add_error("reason", _("Expected a reason for changing a saved treatment record."))
        if data.get("pathway") == Pathway.SAME_DAY:
            self._clean_same_day(data)
        else:
            for name in SAME_DAY_FIELDS:
                data[name] = None
                self.errors.pop(name, None)  # a hidden field of the other pathway
            surgery, rt = data.get("surgery_on"), data.get("radiotherapy_on")
            if surgery and rt and rt < surgery:
                self.add_error(
                    "radiotherapy_on",
                    _("Expected on or after the surgery date (%(d)s).") % {"d": surgery},
                )
        return data

    def _clean_same_day(self, data: dict[str, Any]) -> None:
        for name in ("sbrt_dose_gy", "sbrt_fractions"):
            if data.get(name) in (None, ""):
                self.add_error(name, _("Expected the SBRT prescription for same-day treatment."))
        sbrt, surgery = data.get("sbrt_started_at"), data.get("surgery_started_at")
        if sbrt and surgery and surgery < sbrt:
            self.add_error(
                "surgery_started_at", _("Expected after the start of SBRT (SBRT comes first).")
            )
        for name in STANDARD_FIELDS:
            data[name] = None if name != "radiotherapy_type" else ""
            self.errors.pop(name, None)  # a hidden field of the other pathway


class ConfiguredTreatmentForm(forms.Form):
    """The treatment form of a trial whose treatment.toml lists its arms' procedures:
    which arm's treatment was given and, per procedure, its day and, for radiotherapy, the
    dose and fractions (started from the prescription of the participant's arm)."""

    planned_on = forms.DateField(label=_("Planned (first) treatment day"), widget=DATE)

    def __init__(
        self,
        *args: Any,
        plan: TreatmentPlan,
        record: TreatmentRecord | None = None,
        allocated_arm: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.plan, self.record = plan, record
        self.fields["arm_given"] = forms.ChoiceField(
            label=_("Treatment given"),
            choices=[(code, arm.label) for code, arm in plan.arms.items()],
            help_text=_(
                "The arm whose treatment was actually given (it may differ from the arm allocated)."
            ),
        )
        self.procedures = [p for arm in plan.arms.values() for p in arm.procedures]
        for procedure in self.procedures:
            self.fields[f"{procedure.code}_on"] = forms.DateField(
                label=_("%(procedure)s: day given") % {"procedure": procedure.label},
                required=False,
                widget=DATE,
            )
            if procedure.kind == "radiotherapy":
                self.fields[f"{procedure.code}_dose_gy"] = forms.DecimalField(
                    label=_("%(procedure)s: dose (Gy)") % {"procedure": procedure.label},
                    required=False,
                    min_value=0,
                    max_value=100,
                    decimal_places=2,
                )
                self.fields[f"{procedure.code}_fractions"] = forms.IntegerField(
                    label=_("%(procedure)s: fractions") % {"procedure": procedure.label},
                    required=False,
                    min_value=1,
                    max_value=50,
                )
        self.fields["notes"] = forms.CharField(
            label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
        )
        self.fields["reason"] = forms.CharField(
            label=_("Reason for change"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text=_("Needed when changing a saved record."),
        )
        self._set_initial(allocated_arm)

    def _set_initial(self, allocated_arm: str | None) -> None:
        if self.record is not None:
            self.initial.setdefault("planned_on", self.record.planned_on)
            self.initial.setdefault("arm_given", self.record.arm_given)
            self.initial.setdefault("notes", self.record.notes)
            for code, given in (self.record.procedures or {}).items():
                for key in ("on", "dose_gy", "fractions"):
                    if given.get(key) is not None:
                        self.initial.setdefault(f"{code}_{key}", given[key])
            return
        if allocated_arm in self.plan.arms:
            self.initial.setdefault("arm_given", allocated_arm)
        for procedure in self.procedures:  # the prescription, where there is one
            if procedure.dose_gy is not None:
                self.initial.setdefault(f"{procedure.code}_dose_gy", procedure.dose_gy)
                self.initial.setdefault(f"{procedure.code}_fractions", procedure.fractions)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.record is not None and self.has_changed() and not data.get("reason", "").strip():
            self.add_error("reason", _("Expected a reason for changing a saved treatment record."))
        arm = str(data.get("arm_given") or "")
        if arm in self.plan.arms:
            own = {p.code for p in self.plan.arm(arm).procedures}
            for procedure in self.procedures:
                if procedure.code not in own and data.get(f"{procedure.code}_on"):
                    self.add_error(
                        f"{procedure.code}_on",
                        _("Expected no day here: %(procedure)s is not part of %(arm)s.")
                        % {"procedure": procedure.label, "arm": self.plan.arm(arm).label},
                    )
        return data

    def record_data(self) -> dict[str, Any]:
        """What ``record_treatment`` stores: the arm given and its procedures."""
        data = self.cleaned_data
        arm = self.plan.arm(data["arm_given"])
        procedures: dict[str, dict[str, Any]] = {}
        for procedure in arm.procedures:
            on = data.get(f"{procedure.code}_on")
            dose = data.get(f"{procedure.code}_dose_gy")
            procedures[procedure.code] = {
                "on": on.isoformat() if on else None,
                "dose_gy": float(dose) if dose is not None else None,
                "fractions": data.get(f"{procedure.code}_fractions"),
            }
        return {
            "planned_on": data["planned_on"],
            "arm_given": arm.code,
            "procedures": procedures,
            "notes": data.get("notes", ""),
        }
