"""The screening record: the facts a screener entered, the rule engine's verdict on them
and the investigator's confirmation. One current screening per cohort member and trial;
edits after first entry go through ``audited_save`` with a reason, so the history table keeps
every earlier version (the screening log reads both)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Status(models.TextChoices):
    ELIGIBLE = "eligible", _("eligible")
    INELIGIBLE = "ineligible", _("ineligible")
    PENDING = "pending", _("pending (information missing)")


class Screening(models.Model):
    participant = models.ForeignKey(
        "registry.Participant", on_delete=models.PROTECT, related_name="screenings"
    )
    # The trial's code (blend.protocol trial folders): one record per member and trial.
    trial = models.CharField(_("trial"), max_length=20, db_index=True)
    screened_on = models.DateField(_("screening date"), db_index=True)
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The facts as entered, keyed by the fact keys of docs/eligibility.md (JSON-safe values).
    facts = models.JSONField(_("facts"), default=dict)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, db_index=True)
    # criterion code -> human reason, for every failing (ineligible) or undecidable (pending) criterion.
    reasons = models.JSONField(_("reasons"), default=dict, blank=True)
    criteria_version = models.CharField(_("criteria version"), max_length=40)
    confirmed_at = models.DateTimeField(_("eligibility confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-screened_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "trial"], name="screening_one_per_member_and_trial"
            ),
            models.CheckConstraint(condition=~models.Q(trial=""), name="screening_names_its_trial"),
            models.CheckConstraint(
                condition=models.Q(confirmed_at__isnull=True) | models.Q(status="eligible"),
                name="screening_confirmed_only_if_eligible",
            ),
            models.CheckConstraint(
                condition=models.Q(confirmed_at__isnull=True, confirmed_by__isnull=True)
                | models.Q(confirmed_at__isnull=False, confirmed_by__isnull=False),
                name="screening_confirmation_has_who_and_when",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trial} screening of {self.participant_id}: {self.status}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None
