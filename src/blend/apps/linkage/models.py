"""Linkage runs (each NCR export and BRP import, append-only) and the conflict queue."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from blend.apps.linkage.domain import ConflictKind


class RunKind(models.TextChoices):
    NCR_EXPORT = "ncr_export", _("NCR linkage export")
    BRP_IMPORT = "brp_import", _("BRP vital-status import")


class LinkageRun(models.Model):
    """One linkage file written or read: what, when, by whom, and the counts that the
    CONSORT diagram and the report state. Append-only (database triggers)."""

    APPEND_ONLY = True

    kind = models.CharField(max_length=20, choices=RunKind.choices)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    via = models.CharField(max_length=10)  # web, cli
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField(default=0)  # rows in the file (export: members sent)
    matched = models.PositiveIntegerField(default=0)  # import: rows that matched a member
    applied = models.PositiveIntegerField(default=0)  # import: vital statuses recorded
    unchanged = models.PositiveIntegerField(default=0)  # import: nothing new
    conflicts = models.PositiveIntegerField(default=0)  # import: queued for the data manager
    eligible = models.PositiveIntegerField(default=0)  # export: cohort members considered

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"

    @property
    def unmatched(self) -> int:
        return self.rows - self.matched if self.kind == RunKind.BRP_IMPORT else 0


class ConflictKindChoice(models.TextChoices):
    """``domain.ConflictKind``, each with the words the data manager reads."""

    DEATH_DATE_DIFFERS = (
        ConflictKind.DEATH_DATE_DIFFERS.value,
        _("the registry's date of death differs from the recorded one"),
    )
    DEATH_BEFORE_QUESTIONNAIRE = (
        ConflictKind.DEATH_BEFORE_QUESTIONNAIRE.value,
        _("the registry's date of death is before a completed questionnaire"),
    )
    DEATH_BEFORE_CONTACT = (
        ConflictKind.DEATH_BEFORE_CONTACT.value,
        _("the registry's date of death is before the recorded last contact"),
    )
    DEATH_BEFORE_ENTRY = (
        ConflictKind.DEATH_BEFORE_ENTRY.value,
        _("the registry's date of death is before cohort entry"),
    )
    ALIVE_AFTER_DEATH = (
        ConflictKind.ALIVE_AFTER_DEATH.value,
        _("the registry says alive after the recorded date of death"),
    )


class ConflictState(models.TextChoices):
    OPEN = "open", _("open")
    ACCEPTED = "accepted", _("registry accepted")
    KEPT = "kept", _("recorded data kept")


class LinkageConflict(models.Model):
    """A registry answer that disagrees with what is recorded: never applied by itself."""

    participant = models.ForeignKey(
        "registry.Participant", on_delete=models.PROTECT, related_name="+"
    )
    run = models.ForeignKey(LinkageRun, on_delete=models.PROTECT, related_name="conflict_rows")
    kind = models.CharField(max_length=40, choices=ConflictKindChoice.choices)
    registry_died_on = models.DateField(null=True, blank=True)
    registry_alive_on = models.DateField(null=True, blank=True)
    recorded_died_on = models.DateField(null=True, blank=True)
    recorded_last_contact_on = models.DateField(null=True, blank=True)
    state = models.CharField(
        max_length=10, choices=ConflictState.choices, default=ConflictState.OPEN
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_reason = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["state", "id"]
        indexes = [models.Index(fields=["state"], name="linkage_conflict_state_idx")]

    def __str__(self) -> str:
        return f"{self.participant_id}: {self.kind} ({self.state})"
