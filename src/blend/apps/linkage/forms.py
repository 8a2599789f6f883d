from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # a BRP file of the whole cohort is a few hundred kB


class BrpUploadForm(forms.Form):
    file = forms.FileField(label=_("BRP vital-status file (CSV, UTF-8, header row)"))

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("expected a file of at most %(max)s MB, found %(size)s MB")
                % {"max": MAX_UPLOAD_BYTES // 2**20, "size": round(upload.size / 2**20, 1)}
            )
        return upload


class ResolveForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("accept", _("Accept the registry's answer (recorded as a vital-status entry)")),
            ("keep", _("Keep the recorded data")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
