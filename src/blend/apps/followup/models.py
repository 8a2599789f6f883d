"""The schedule of assessments per participant, the clinical follow-up forms and vital
status. Every model carries a ``participant`` FK and field-level history."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from blend.apps.followup.domain import Slot, length_of_stay
from blend.protocol.schedule import TIMEPOINT_CODES

TIMEPOINT_CHOICES = [(c, c) for c in TIMEPOINT_CODES]


class Assessment(models.Model):
    """One timepoint of the schedule for one participant, with its window."""

    participant = models.ForeignKey(
        "registry.Participant", on_delete=models.PROTECT, related_name="assessments"
    )
    timepoint = models.CharField(_("timepoint"), max_length=10)  # a code of schedule.toml
    instruments = models.JSONField(_("instruments"), default=list)
    anchor_on = models.DateField(_("start of treatment (day 0)"))
    target_on = models.DateField(_("target day"))
    opens_on = models.DateField(_("window opens"))
    closes_on = models.DateField(_("window closes"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["participant_id", "target_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "timepoint"], name="assessment_unique_timepoint"
            )
        ]
        indexes = [
            models.Index(
                fields=["completed_at", "opens_on", "closes_on"], name="assessment_open_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.timepoint}"

    @property
    def slot(self) -> Slot:
        return Slot(self.opens_on, self.target_on, self.closes_on, self.completed_at is not None)


class VitalStatus(models.Model):
    participant = models.OneToOneField(
        "registry.Participant", on_delete=models.PROTECT, related_name="vital_status"
    )
    last_contact_on = models.DateField(_("date of last contact"))
    died_on = models.DateField(_("date of death"), null=True, blank=True)
    cause_of_death = models.CharField(_("cause of death"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "vital statuses"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(died_on__isnull=True)
                | models.Q(last_contact_on=models.F("died_on")),
                name="vital_status_dead_last_contact_is_death",
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant_id}: {'died ' + str(self.died_on) if self.died_on else 'alive'}"


class ClinicalEvent(models.Model):
    """Fields shared by every clinical follow-up form."""

    participant = models.ForeignKey(
        "registry.Participant", on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    @property
    def on(self) -> date:
        """The day the form is about (the panel lists the forms by it); each form names its own date field."""
        raise NotImplementedError


class HospitalAdmission(ClinicalEvent):
    admitted_on = models.DateField(_("admitted on"))
    discharged_on = models.DateField(_("discharged on"), null=True, blank=True)
    index_treatment = models.BooleanField(_("admission for the index treatment"), default=False)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["admitted_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(discharged_on__isnull=True)
                | models.Q(discharged_on__gte=models.F("admitted_on")),
                name="admission_discharge_after_admission",
            )
        ]

    def __str__(self) -> str:
        return f"admission {self.admitted_on}"

    @property
    def nights(self) -> int | None:
        return length_of_stay(self.admitted_on, self.discharged_on)

    @property
    def on(self) -> date:
        return self.admitted_on


class SystemicTherapyType(models.TextChoices):
    CHEMOTHERAPY = "chemotherapy", _("chemotherapy")
    IMMUNOTHERAPY = "immunotherapy", _("immunotherapy")
    TARGETED = "targeted", _("targeted therapy")
    HORMONAL = "hormonal", _("hormonal therapy")
    OTHER = "other", _("other")


class SystemicTherapy(ClinicalEvent):
    started_on = models.DateField(_("systemic therapy (re)started on"))
    therapy_type = models.CharField(_("type"), max_length=15, choices=SystemicTherapyType.choices)
    history = HistoricalRecords()

    class Meta:
        ordering = ["started_on"]
        verbose_name_plural = "systemic therapies"

    def __str__(self) -> str:
        return f"{self.therapy_type} from {self.started_on}"

    @property
    def on(self) -> date:
        return self.started_on


class NeuroAssessment(ClinicalEvent):
    assessed_on = models.DateField(_("assessed on"))
    asia_grade = models.CharField(
        _("ASIA impairment grade"), max_length=1, choices=[(g, g) for g in "ABCDE"]
    )
    timepoint = models.CharField(
        _("timepoint"), max_length=10, choices=TIMEPOINT_CHOICES, blank=True
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["assessed_on"]

    def __str__(self) -> str:
        return f"ASIA {self.asia_grade} on {self.assessed_on}"

    @property
    def on(self) -> date:
        return self.assessed_on


class OpioidUse(ClinicalEvent):
    """Opioids in use on a day; OMED (mg/day) is computed by ``blend.instruments``."""

    used_on = models.DateField(_("date"))
    medications = models.JSONField(_("medications"), default=list, blank=True)  # [] = no opioids
    omed_mg_day = models.FloatField(_("OMED (mg/day)"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["used_on"]

    def __str__(self) -> str:
        return f"OMED {self.omed_mg_day} on {self.used_on}"

    @property
    def on(self) -> date:
        return self.used_on


class ReInterventionKind(models.TextChoices):
    SURGERY = "surgery", _("re-operation")
    RADIOTHERAPY = "radiotherapy", _("re-irradiation")
    WOUND = "wound", _("wound revision")
    OTHER = "other", _("other")


class ReIntervention(ClinicalEvent):
    performed_on = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=15, choices=ReInterventionKind.choices)
    description = models.CharField(_("description"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["performed_on"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.performed_on}"

    @property
    def on(self) -> date:
        return self.performed_on


class ExtraAssessment(models.Model):
    """A trial's extra measurement (``schedule.toml`` ``[[extra]]``) planned for a
    participant who accepted that trial's offer: never for controls, nor for those who
    refused or were not offered it. Planned by ``followup.services.plan_schedule``.

    Its existence says "intervention arm, accepted", so it reveals the arm: the panel,
    the API and the audit trail show it only to users with ``allocation.view`` in its
    trial (``REVEALS_ALLOCATION``), and it is kept apart from the routine ``Assessment``
    rows, which everyone sees and which are the same for both arms (TwiCs)."""

    REVEALS_ALLOCATION = True

    participant = models.ForeignKey(
        "registry.Participant", on_delete=models.PROTECT, related_name="extra_assessments"
    )
    trial = models.CharField(_("trial"), max_length=20, db_index=True)
    code = models.CharField(_("extra measurement"), max_length=40)  # the [[extra]]'s code
    label = models.CharField(_("label"), max_length=200)
    instruments = models.JSONField(_("instruments"), default=list)
    anchor_on = models.DateField(_("start of treatment (day 0)"))
    target_on = models.DateField(_("target day"))
    opens_on = models.DateField(_("window opens"))
    closes_on = models.DateField(_("window closes"))
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["participant_id", "trial", "target_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "trial", "code"], name="extra_assessment_unique"
            ),
            models.CheckConstraint(condition=~models.Q(trial=""), name="extra_names_its_trial"),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.trial} extra {self.code}"

    @property
    def slot(self) -> Slot:
        return Slot(self.opens_on, self.target_on, self.closes_on, self.completed_on is not None)
