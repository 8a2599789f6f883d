from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What"),
        choices=[
            ("participants", _("Cohort participants")),
            ("questionnaires", _("Historical questionnaires")),
        ],
    )
    file = forms.FileField(label=_("CSV file (UTF-8, header row)"))
    dry_run = forms.BooleanField(label=_("Validate only, write nothing"), required=False)
