from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from blend.apps.disclosure.models import DisclosureTemplate


class ReleaseForm(forms.Form):
    released_on = forms.DateField(label=_("Results released on"), initial=timezone.localdate)
    summary = forms.CharField(
        label=_("The results, in a few sentences (for the trial file)"), widget=forms.Textarea
    )
    password = forms.CharField(label=_("Your password (signature)"), widget=forms.PasswordInput)


class TemplateForm(forms.ModelForm):
    class Meta:
        model = DisclosureTemplate
        fields = ["subject_nl", "body_nl", "subject_en", "body_en"]


class ReviewForm(forms.Form):
    password = forms.CharField(label=_("Your password (signature)"), widget=forms.PasswordInput)


class QuestionForm(forms.Form):
    question = forms.CharField(label=_("Question asked back"), widget=forms.Textarea)
    on = forms.DateField(label=_("Asked on"), initial=timezone.localdate)


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("Answer given"), widget=forms.Textarea)
    on = forms.DateField(label=_("Answered on"), initial=timezone.localdate)
