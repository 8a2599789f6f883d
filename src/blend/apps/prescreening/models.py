"""The cohort's recorded facts: what the cohort knows about a member, one current value
per fact key of the cohort's catalogue (``cohort/facts.toml``), read by every trial's
pre-screening. Earlier values stay in the history table (``audited_save`` with a reason)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class CohortFact(models.Model):
    participant = models.ForeignKey(
        "registry.Participant", on_delete=models.PROTECT, related_name="cohort_facts"
    )
    # A key of the cohort's fact catalogue (docs/eligibility.md "Fact keys").
    key = models.CharField(_("fact"), max_length=60)
    # The checked value (JSON-safe: true/false, a number, a choice, a list of choices).
    value = models.JSONField(_("value"))
    recorded_on = models.DateField(_("recorded on"))
    # Where the value comes from, as a person reads it (e.g. "MDT 2026-03-02", "radiology report").
    source = models.CharField(_("source"), max_length=120)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["participant_id", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "key"], name="cohort_fact_one_per_member_and_key"
            ),
            models.CheckConstraint(condition=~models.Q(key=""), name="cohort_fact_has_key"),
            models.CheckConstraint(condition=~models.Q(source=""), name="cohort_fact_has_source"),
        ]

    def __str__(self) -> str:
        return f"{self.key} of {self.participant_id}"
