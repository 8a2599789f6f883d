from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from blend.apps.safety import domain as ctcae
from blend.apps.safety.editchecks import ADVERSE_EVENT
from blend.apps.safety.models import AdverseEvent, DeathReview, Seriousness
from blend.web.forms import EditCheckMixin

DATE = forms.DateInput(attrs={"type": "date"})


def term_groups(terms: list[ctcae.Term]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The terms as option groups, the two groups of BLEND's own naming translated (the
    organ classes are MedDRA's, in English)."""
    names = {
        ctcae.BLEND_GROUP: _("BLEND: wound and treatment-related terms"),
        ctcae.OTHER_GROUP: _("No CTCAE term fits"),
    }
    return [(str(names.get(group, group)), options) for group, options in ctcae.grouped(terms)]


class AdverseEventForm(EditCheckMixin, forms.ModelForm):
    """The AE/SAE form; its edit checks (``safety.editchecks.ADVERSE_EVENT``) run on entry."""

    edit_checks = ADVERSE_EVENT
    seriousness = forms.MultipleChoiceField(
        label=_("Seriousness criteria"),
        choices=Seriousness.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    grade = forms.TypedChoiceField(
        label=_("CTCAE grade"), coerce=int, choices=[(g, str(g)) for g in range(1, 6)]
    )
    reason = forms.CharField(
        label=_("Reason for change"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    class Meta:
        model = AdverseEvent
        fields = [
            "term",
            "other_term",
            "grade",
            "onset_date",
            "resolved_on",
            "serious",
            "seriousness",
            "related_sbrt",
            "related_surgery",
            "action_taken",
            "outcome",
            "description",
            "aware_at",
        ]
        widgets = {
            "onset_date": DATE,
            "resolved_on": DATE,
            "aware_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    term_search = forms.CharField(
        label=_("Find a CTCAE term"),
        required=False,
        help_text=_("Type part of the name, the organ class or the MedDRA code."),
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                # htmx: the term list, filtered on the server as the reporter types.
                "hx-get": "terms/",
                "hx-trigger": "input changed delay:250ms, search",
                "hx-target": "#id_term",
                "hx-include": "#id_term",
                "hx-sync": "this:replace",
            }
        ),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The search box sits just above the list it filters.
        self.order_fields(["term_search", *self.Meta.fields])
        term_field = self.fields["term"]
        assert isinstance(term_field, forms.ChoiceField)  # the model field has choices
        term_field.choices = [("", "---------"), *term_groups(list(ctcae.TERMS))]
        self.fields["term"].widget.attrs.update(
            {
                "hx-get": "grades/",
                "hx-target": "#grade-definitions",
                "hx-trigger": "change",
                "hx-include": "this",
            }
        )
        if not editing:
            del self.fields["reason"]
        else:
            self.fields["reason"].required = True

    def data_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class MarkReportedForm(forms.Form):
    reported_at = forms.DateTimeField(
        label=_("SAE report submitted at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class DeathReviewForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=DeathReview.Decision.choices)
    adverse_event = forms.ModelChoiceField(
        label=_("SAE report of this death"), queryset=AdverseEvent.objects.none(), required=False
    )
    reason = forms.CharField(
        label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
