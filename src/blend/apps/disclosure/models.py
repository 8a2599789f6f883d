"""Results releases, the messages per group the PI reviews, and who is told what."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class ArmGroup(models.TextChoices):
    INTERVENTION = "intervention", _("intervention group")
    CONTROL = "control", _("control group")


class ResultsRelease(models.Model):
    """The PI's release of one trial's results (once per trial)."""

    trial = models.CharField(_("trial"), max_length=20, unique=True)
    released_on = models.DateField(_("released on"))
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    summary = models.TextField(_("summary of the results (for the trial file)"))
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"results of {self.trial}"


class DisclosureTemplate(models.Model):
    """The message one group is sent, in both languages; sent only once the PI reviewed it."""

    release = models.ForeignKey(ResultsRelease, on_delete=models.PROTECT, related_name="templates")
    arm_group = models.CharField(_("group"), max_length=12, choices=ArmGroup.choices)
    subject_en = models.CharField(_("subject (English)"), max_length=200)
    body_en = models.TextField(_("message (English)"))
    subject_nl = models.CharField(_("subject (Dutch)"), max_length=200)
    body_nl = models.TextField(_("message (Dutch)"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["release", "arm_group"], name="disclosure_one_template_per_group"
            )
        ]

    def __str__(self) -> str:
        return f"{self.release.trial} {self.arm_group} message"


class DisclosureState(models.TextChoices):
    LISTED = "listed", _("on the list")
    QUEUED = "queued", _("message queued")
    SENT = "sent", _("message sent")
    FAILED = "failed", _("delivery failed")
    NO_ADDRESS = "no_address", _("no address: tell in person")
    CANCELLED = "cancelled", _("cancelled")


class Disclosure(models.Model):
    """One participant of a released trial: their group, their message, and any question
    they asked back."""

    release = models.ForeignKey(ResultsRelease, on_delete=models.PROTECT, related_name="members")
    participant = models.ForeignKey(
        "registry.Participant", on_delete=models.PROTECT, related_name="disclosures"
    )
    arm_group = models.CharField(_("group"), max_length=12, choices=ArmGroup.choices)
    state = models.CharField(
        _("state"), max_length=12, choices=DisclosureState.choices, default=DisclosureState.LISTED
    )
    why = models.CharField(_("why"), max_length=200, blank=True)  # why cancelled, or the error
    message = models.ForeignKey(
        "outbox.Message", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    question = models.TextField(_("question asked back"), blank=True)
    question_on = models.DateField(_("asked on"), null=True, blank=True)
    answer = models.TextField(_("answer given"), blank=True)
    answered_on = models.DateField(_("answered on"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["release", "participant"], name="disclosure_once_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"{self.release.trial} disclosure to {self.participant_id}: {self.state}"
