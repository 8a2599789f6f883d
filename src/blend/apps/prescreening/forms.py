"""The cohort-facts form: every recordable fact of the cohort's catalogue, built as the
screening form is (``screening.forms.ScreeningForm`` over a catalogue), plus the source."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from blend.apps.prescreening.services import FROM_RECORDS, catalogue
from blend.apps.screening.forms import ScreeningForm
from blend.eligibility import Criteria


class CohortFactsForm(ScreeningForm):
    source = forms.CharField(
        label=_("Source"),
        max_length=120,
        help_text=_("Where the facts come from, e.g. 'MDT 2026-03-02' or 'radiology report'."),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        recordable = {k: v for k, v in catalogue().items() if k not in FROM_RECORDS}
        super().__init__(
            *args, editing=editing, criteria=Criteria("cohort", recordable, ()), **kwargs
        )
        self.fields["screened_on"].label = _("Recorded on")
        self.order_fields(["screened_on", "source"])
