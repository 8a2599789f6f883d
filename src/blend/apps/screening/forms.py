"""The screening form, built from the fact catalogue in the protocol configuration, so a
new criterion's fact appears on the form without code changes."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from blend.eligibility import SINS_COMPONENTS, Criteria, FactSpec, load_criteria

# Facts filled in from other records (identity, consent) or computed, never typed in.
RECORD_FACTS = {
    "screening_date",
    "date_of_birth",
    "age",
    "consent_randomization",
    "consent_questionnaires",
    "sins_total",
}
NONE_OF_THESE = "__none__"
TRI_STATE = [("", _("not known yet")), ("yes", _("yes")), ("no", _("no"))]


def _whole(bound: float | None, rounding: Callable[[float], int]) -> int | None:
    """An integer fact's bound as an int: the ceiling of a minimum, the floor of a maximum,
    so a fractional bound admits exactly the whole numbers it admitted before."""
    return None if bound is None else rounding(bound)


def _field(spec: FactSpec) -> forms.Field:
    label = spec.label
    if spec.type == "bool":
        return forms.TypedChoiceField(
            label=label,
            choices=TRI_STATE,
            empty_value=None,
            coerce=lambda v: v == "yes",
            required=False,
        )
    if spec.type == "int":
        return forms.IntegerField(
            label=label,
            min_value=_whole(spec.minimum, math.ceil),
            max_value=_whole(spec.maximum, math.floor),
            required=False,
        )
    if spec.type == "number":
        return forms.FloatField(
            label=label, min_value=spec.minimum, max_value=spec.maximum, required=False
        )
    if spec.type == "choice":
        return forms.ChoiceField(
            label=label,
            choices=[("", _("not known yet"))] + [(c, c) for c in spec.choices],
            required=False,
        )
    if spec.type == "choices":
        choices = [(c, c.replace("_", " ")) for c in spec.choices] + [
            (NONE_OF_THESE, _("none of these"))
        ]
        return forms.MultipleChoiceField(
            label=label,
            choices=choices,
            widget=forms.CheckboxSelectMultiple,
            help_text=_("Leave all unticked while not known yet."),
            required=False,
        )
    return forms.DateField(
        label=label, widget=forms.DateInput(attrs={"type": "date"}), required=False
    )


def _sins_fields() -> dict[str, forms.Field]:
    from blend.instruments import get_instrument

    items = {item.key: item for item in get_instrument("sins").items}
    return {
        f"sins_{key}": forms.ChoiceField(
            label=f"SINS: {items[key].text_en}",
            required=False,
            choices=[("", _("not known yet"))]
            + [(o.value, o.label_en) for o in items[key].options],
        )
        for key in SINS_COMPONENTS
    }


class ScreeningForm(forms.Form):
    screened_on = forms.DateField(
        label=_("Screening date"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self, *args: Any, editing: bool = False, criteria: Criteria | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # The facts asked are those of the trial being screened for.
        self.criteria = criteria or load_criteria()
        for key, spec in self.criteria.facts.items():
            if key == "sins_total":
                self.fields.update(_sins_fields())
            elif key not in RECORD_FACTS:
                self.fields[key] = _field(spec)
        self.fields["screened_on"].initial = timezone.localdate()
        if editing:
            self.fields["reason"] = forms.CharField(
                label=_("Reason for change"),
                widget=forms.Textarea(attrs={"rows": 2}),
                required=False,
                help_text=_("Required when saving changes to a saved screening."),
            )

    def clean_screened_on(self) -> date:
        value: date = self.cleaned_data["screened_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("Expected today or earlier, got %(d)s.") % {"d": value})
        return value

    def facts(self) -> dict[str, Any]:
        """The entered facts in the engine's shape (unknown values left out)."""
        data, facts = self.cleaned_data, {}
        for key, spec in self.criteria.facts.items():
            if key not in self.fields:
                continue
            value = data.get(key)
            if spec.type == "choices":
                value = [] if NONE_OF_THESE in (value or []) else (value or None)
            if value not in (None, ""):
                facts[key] = value
        components = {key: data.get(f"sins_{key}") or None for key in SINS_COMPONENTS}
        if any(components.values()):
            facts["sins_components"] = components
        return facts

    @staticmethod
    def initial_from(facts: dict[str, Any], screened_on: date) -> dict[str, Any]:
        initial: dict[str, Any] = {"screened_on": screened_on}
        for key, value in facts.items():
            if isinstance(value, bool):
                initial[key] = "yes" if value else "no"
            elif isinstance(value, list):
                initial[key] = value or [NONE_OF_THESE]
            else:
                initial[key] = value
        for key, value in (facts.get("sins_components") or {}).items():
            initial[f"sins_{key}"] = value
        return initial


class ConfirmEligibilityForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Re-enter your password to confirm."),
    )
    attest = forms.BooleanField(
        label=_("I confirm that this participant meets every eligibility criterion, as recorded.")
    )

    def __init__(self, *args: Any, trial: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if trial:
            self.fields["attest"].label = _(
                "I confirm that this participant meets every %(trial)s eligibility criterion, "
                "as recorded."
            ) % {"trial": trial}
