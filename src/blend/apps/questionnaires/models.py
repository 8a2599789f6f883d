"""Questionnaire responses (one per scheduled assessment, all its instruments; one per
trial extra measurement, apart) and the personal links that open them. Only a SHA-256
hash of each link's token is stored."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Mode(models.TextChoices):
    WEB = "web", _("web (patient link)")
    PAPER = "paper", _("paper")
    TELEPHONE = "telephone", _("telephone")


class ResponseStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("in progress")
    SUBMITTED = "submitted", _("submitted")


class Response(models.Model):
    participant = models.ForeignKey(
        "registry.Participant", on_delete=models.PROTECT, related_name="responses"
    )
    assessment = models.OneToOneField(
        "followup.Assessment", on_delete=models.PROTECT, related_name="response"
    )
    mode = models.CharField(_("mode of administration"), max_length=10, choices=Mode.choices)
    language = models.CharField(_("language"), max_length=2)
    answers = models.JSONField(_("answers"), default=dict)
    scores = models.JSONField(_("scores"), default=dict)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ResponseStatus.choices,
        default=ResponseStatus.IN_PROGRESS,
    )
    started_at = models.DateTimeField(_("started at"))
    updated_at = models.DateTimeField(_("last saved at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="in_progress") | models.Q(submitted_at__isnull=False),
                name="response_submitted_has_time",
            )
        ]

    def __str__(self) -> str:
        return f"response {self.assessment_id} ({self.status})"


class ExtraResponse(models.Model):
    """The answers to a trial's extra measurement (``followup.ExtraAssessment``), kept
    apart from the routine ``Response`` rows that everyone sees and that are the same for
    both arms.

    Only those who accepted the trial's offer have extras, so a row reveals the arm:
    pages, exports and the audit trail show it only with ``allocation.view`` in its
    ``trial`` (``REVEALS_ALLOCATION``, ``allocation.blinding``). Entered by staff, on
    paper or by telephone (``services.enter_extra_by_staff``)."""

    REVEALS_ALLOCATION = True

    participant = models.ForeignKey(
        "registry.Participant", on_delete=models.PROTECT, related_name="extra_responses"
    )
    extra = models.OneToOneField(
        "followup.ExtraAssessment", on_delete=models.PROTECT, related_name="response"
    )
    # Copied from the extra: every arm-revealing model names its trial, which is what the
    # exports and the audit trail filter on.
    trial = models.CharField(_("trial"), max_length=20, db_index=True)
    mode = models.CharField(_("mode of administration"), max_length=10, choices=Mode.choices)
    language = models.CharField(_("language"), max_length=2)
    answers = models.JSONField(_("answers"), default=dict)
    scores = models.JSONField(_("scores"), default=dict)
    submitted_at = models.DateTimeField(_("submitted at"))
    completed_on = models.DateField(_("completed on"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~models.Q(trial=""), name="extra_response_trial")
        ]

    def __str__(self) -> str:
        return f"extra response {self.extra_id}"


class AccessToken(models.Model):
    """A personal questionnaire link. The token itself exists only in the sent message."""

    assessment = models.ForeignKey(
        "followup.Assessment", on_delete=models.PROTECT, related_name="tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"link for assessment {self.assessment_id}"
