from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from blend.apps.consent.domain import Answer


class ConsentFormVersion(models.Model):
    """An approved version of the PRESENT consent form and the period it may be used."""

    version = models.CharField(_("version"), max_length=40, unique=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    # The consent items to ask again under this version (a re-consent worklist lists who
    # last answered one of them under an older version); empty: nobody is asked again.
    reask_items = models.JSONField(_("items to ask again"), default=list, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="consent_version_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.version


class ConsentRecord(models.Model):
    """One decision on one consent item. Records are never edited: a change of mind,
    or a withdrawal, is a new record, so the consent history is the table itself."""

    ANSWERS = [(a.value, a.value) for a in Answer]

    participant = models.ForeignKey(
        "registry.Participant", on_delete=models.PROTECT, related_name="consents"
    )
    item = models.CharField(_("consent item"), max_length=2)
    answer = models.CharField(_("answer"), max_length=10, choices=ANSWERS)
    effective_on = models.DateField(_("date"))
    form_version = models.ForeignKey(
        ConsentFormVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="records"
    )
    reason = models.TextField(_("reason"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["effective_on", "id"]
        indexes = [models.Index(fields=["participant", "item"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(answer="withdrawn") | ~models.Q(reason=""),
                name="consent_withdrawal_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(answer="withdrawn") | models.Q(form_version__isnull=False),
                name="consent_decision_has_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.item}={self.answer}"
