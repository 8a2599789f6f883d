"""One treatment record per participant: what was planned and what happened.

``pathway`` is the treatment received, not the allocation: an intervention-arm
participant who refused the offer gets standard care and a ``standard`` record.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from blend.apps.treatment import domain


class Pathway(models.TextChoices):
    SAME_DAY = "same_day", _("same-day SBRT and surgery")
    STANDARD = "standard", _("standard care (surgery, then radiotherapy)")


class Approach(models.TextChoices):
    OPEN = "open", _("open")
    PERCUTANEOUS = "percutaneous", _("percutaneous")


class TreatmentRecord(models.Model):
    REVEALS_ALLOCATION = True  # a same-day record reveals the intervention arm

    participant = models.ForeignKey(
        "registry.Participant", on_delete=models.PROTECT, related_name="treatments"
    )
    # The trial's code (blend.protocol trial folders): one record per member and trial.
    trial = models.CharField(_("trial"), max_length=20, db_index=True)
    # BLEND's own form (the default trial) records a pathway and the fields below. Every
    # other trial records its treatment as configured in its treatment.toml: the arm whose
    # procedures were given and, per procedure, its day, dose and fractions.
    pathway = models.CharField(
        _("treatment pathway"), max_length=10, choices=Pathway.choices, blank=True
    )
    arm_given = models.CharField(_("treatment given (arm)"), max_length=20, blank=True)
    # procedure code -> {"on": "YYYY-MM-DD", "dose_gy": float | None, "fractions": int | None}
    procedures = models.JSONField(_("procedures"), default=dict, blank=True)
    planned_on = models.DateField(_("planned (first) treatment day"))
    sbrt_dose_gy = models.DecimalField(
        _("SBRT dose to the tumour (Gy)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    sbrt_fractions = models.PositiveSmallIntegerField(_("SBRT fractions"), null=True, blank=True)
    surgical_site_dose_gy = models.DecimalField(
        _("planned maximum dose to the surgical site (Gy)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
    )
    sbrt_started_at = models.DateTimeField(_("SBRT started at"), null=True, blank=True)
    surgery_started_at = models.DateTimeField(_("surgery started at"), null=True, blank=True)
    levels_stabilized = models.CharField(
        _("levels stabilized (e.g. T11-L1)"), max_length=40, blank=True
    )
    levels_count = models.PositiveSmallIntegerField(
        _("number of levels stabilized"), null=True, blank=True
    )
    decompression = models.BooleanField(_("decompression"), null=True, blank=True)
    approach = models.CharField(
        _("surgical approach"), max_length=12, choices=Approach.choices, blank=True
    )
    surgery_on = models.DateField(_("date of surgery"), null=True, blank=True)
    radiotherapy_on = models.DateField(_("first day of radiotherapy"), null=True, blank=True)
    radiotherapy_type = models.CharField(_("radiotherapy type"), max_length=30, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "trial"], name="treatment_one_per_member_and_trial"
            ),
            models.CheckConstraint(condition=~models.Q(trial=""), name="treatment_names_its_trial"),
        ]

    def __str__(self) -> str:
        return f"{self.trial} treatment of {self.participant_id} ({self.pathway})"

    @property
    def radiotherapy_day(self) -> date | None:
        if self.pathway == Pathway.SAME_DAY:
            return timezone.localtime(self.sbrt_started_at).date() if self.sbrt_started_at else None
        return self.radiotherapy_on

    @property
    def surgery_day(self) -> date | None:
        if self.pathway == Pathway.SAME_DAY:
            return (
                timezone.localtime(self.surgery_started_at).date()
                if self.surgery_started_at
                else None
            )
        return self.surgery_on

    @property
    def hours_between(self) -> float | None:
        return domain.hours_between(self.sbrt_started_at, self.surgery_started_at)

    def flags(self, config: domain.TreatmentConfig) -> list[str]:
        """Protocol deviations to review (shown, never blocking: the facts are the facts)."""
        flags = []
        if self.pathway == Pathway.SAME_DAY and domain.same_day_gap_flag(
            self.sbrt_started_at, self.surgery_started_at, config
        ):
            flags.append(
                str(
                    _("SBRT and surgery more than %(h)s h apart")
                    % {"h": f"{config.max_hours_between:g}"}
                )
            )
        if self.pathway == Pathway.STANDARD and domain.radiotherapy_too_early_flag(
            self.surgery_on, self.radiotherapy_on, config
        ):
            flags.append(
                str(
                    _("radiotherapy less than %(d)s days after surgery")
                    % {"d": config.min_days_surgery_to_radiotherapy}
                )
            )
        return flags
