from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from blend.apps.safety.domain import term_choices


class Relatedness(models.TextChoices):
    NOT_RELATED = "not_related", _("not related")
    UNLIKELY = "unlikely", _("unlikely")
    POSSIBLE = "possible", _("possibly related")
    PROBABLE = "probable", _("probably related")
    DEFINITE = "definite", _("definitely related")


RELATED_VALUES = {Relatedness.POSSIBLE, Relatedness.PROBABLE, Relatedness.DEFINITE}


class Seriousness(models.TextChoices):
    DEATH = "death", _("results in death")
    LIFE_THREATENING = "life_threatening", _("is life-threatening")
    HOSPITALISATION = "hospitalisation", _("requires or prolongs hospitalisation")
    DISABILITY = "disability", _("results in persistent or significant disability")
    CONGENITAL = "congenital_anomaly", _("is a congenital anomaly or birth defect")
    MEDICALLY_IMPORTANT = "medically_important", _("is another medically important event")


class Action(models.TextChoices):
    NONE = "none", _("none")
    MEDICATION = "medication", _("medication given")
    LOCAL_CARE = "local_care", _("local wound care")
    REOPERATION = "reoperation", _("re-operation")
    RADIOTHERAPY_INTERRUPTED = "rt_interrupted", _("radiotherapy interrupted or modified")
    HOSPITALISED = "hospitalised", _("hospitalised or stay prolonged")
    OTHER = "other", _("other")


class Outcome(models.TextChoices):
    RECOVERED = "recovered", _("recovered / resolved")
    RECOVERING = "recovering", _("recovering / resolving")
    NOT_RECOVERED = "not_recovered", _("not recovered / not resolved")
    SEQUELAE = "sequelae", _("recovered with sequelae")
    FATAL = "fatal", _("fatal")
    UNKNOWN = "unknown", _("unknown")


class AdverseEvent(models.Model):
    """One adverse event report, graded by CTCAE v5.0. A follow-up report points to the
    initial report (``follow_up_of``); the initial report carries the SAE deadline."""

    participant = models.ForeignKey(
        "registry.Participant", on_delete=models.PROTECT, related_name="adverse_events"
    )
    follow_up_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_ups",
        verbose_name=_("follow-up of report"),
    )
    # The trial the event belongs to: the one the member was last randomized in before its
    # onset (blank: a cohort event outside any trial). A follow-up keeps its initial's.
    trial = models.CharField(_("trial"), max_length=20, blank=True, db_index=True)
    term = models.CharField(_("CTCAE v5.0 term"), max_length=40, choices=term_choices())
    other_term = models.CharField(_("other CTCAE term"), max_length=120, blank=True)
    grade = models.PositiveSmallIntegerField(_("CTCAE grade"))
    onset_date = models.DateField(_("onset date"))
    resolved_on = models.DateField(_("resolution date"), null=True, blank=True)
    serious = models.BooleanField(_("serious (SAE)"), default=False)
    seriousness = models.JSONField(_("seriousness criteria"), default=list, blank=True)
    related_sbrt = models.CharField(
        _("relatedness to SBRT"), max_length=20, choices=Relatedness.choices
    )
    related_surgery = models.CharField(
        _("relatedness to surgery"), max_length=20, choices=Relatedness.choices
    )
    action_taken = models.CharField(_("action taken"), max_length=20, choices=Action.choices)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    description = models.TextField(_("description"), blank=True)
    aware_at = models.DateTimeField(_("site became aware"), default=timezone.now)
    reported_at = models.DateTimeField(_("SAE report submitted"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    #: SBRT is given in the intervention arm only (BLEND's same-day SBRT, VERTICAL's
    #: 18 Gy), so the relatedness to SBRT, and beside it to surgery, reads differently by
    #: arm: a reader without ``allocation.view`` in the event's trial sees the
    #: relatedness to trial treatment instead (``allocation.blinding``).
    ARM_SPECIFIC_FIELDS = ("related_sbrt", "related_surgery")

    class Meta:
        ordering = ["-onset_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(grade__gte=1, grade__lte=5), name="ae_grade_1_5"
            ),
            models.CheckConstraint(
                condition=models.Q(resolved_on__isnull=True)
                | models.Q(resolved_on__gte=models.F("onset_date")),
                name="ae_resolution_after_onset",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.term_label} grade {self.grade}"

    @property
    def term_label(self) -> str:
        return (
            self.other_term if self.term == "other" and self.other_term else self.get_term_display()
        )

    @property
    def related(self) -> bool:
        """Related to study treatment: possibly, probably or definitely related to SBRT or surgery."""
        return self.related_sbrt in RELATED_VALUES or self.related_surgery in RELATED_VALUES

    @property
    def initial(self) -> AdverseEvent:
        return self.follow_up_of.initial if self.follow_up_of is not None else self

    def report_due_at(self, hours: int) -> datetime | None:
        return self.aware_at + timedelta(hours=hours) if self.serious else None

    def is_overdue(self, hours: int, now: datetime | None = None) -> bool:
        """An SAE not reported within the deadline (reported late counts too)."""
        due = self.report_due_at(hours)
        if due is None:
            return False
        return (self.reported_at or now or timezone.now()) > due


class DeathReview(models.Model):
    """The investigator's answer to "does this death need an SAE report?"."""

    class Decision(models.TextChoices):
        SAE_REPORTED = "sae_reported", _("reported as SAE")
        NOT_SAE = "not_sae", _("not an SAE (e.g. disease progression outside the reporting period)")

    participant = models.OneToOneField(
        "registry.Participant", on_delete=models.PROTECT, related_name="death_review"
    )
    death_date = models.DateField(_("date of death"))
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    adverse_event = models.ForeignKey(
        AdverseEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"), blank=True)
    reviewed_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"death review {self.participant_id}: {self.decision}"
