"""Allocations, their hash-chained log and the commitment to the seed and design.

Arms are sensitive: only roles with ``allocation.view`` see them, so these models have
no simple-history tables (the participant audit trail is readable with ``audit.view``
alone); the append-only ``AllocationLog`` is their audit trail. ``REVEALS_ALLOCATION``
marks models whose mere rows reveal an arm.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Arm(models.TextChoices):
    INTERVENTION = "intervention", _("intervention (same-day SBRT and surgery)")
    CONTROL = "control", _("control (standard care)")


class RandomizationCommitment(models.Model):
    """SHA-256 over the design's canonical JSON and the secret seed, recorded before the
    first allocation. Every later allocation checks that seed and design still match."""

    APPEND_ONLY = True

    trial_code = models.CharField(max_length=20, unique=True)
    digest = models.CharField(max_length=64)
    design_json = models.TextField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.trial_code} commitment {self.digest[:12]}…"


class AllocationSequence(models.Model):
    """The trial's allocation counter: locked (SELECT … FOR UPDATE) by every allocation,
    so sequence numbers are gapless and the log chain is linear."""

    trial_code = models.CharField(max_length=20, unique=True)
    last_number = models.PositiveIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    # Copy of RandomizationCommitment.digest, read with the lock (no extra query per allocation).
    commitment = models.CharField(max_length=64, blank=True)
    # stratum -> the arms allocated so far in order ("I"/"C"), read with the lock so the
    # design needs no query over the stratum's allocations. verify checks it against the log.
    arms_by_stratum = models.JSONField(default=dict, blank=True)
    # The chain key's seal over a chain of unkeyed (version 1) records only, written when
    # the key first meets such a chain (blend.randomization.chain.legacy_seal); verify
    # with the key refuses an unkeyed chain without it.
    legacy_seal = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"{self.trial_code}: {self.last_number}"


class Allocation(models.Model):
    REVEALS_ALLOCATION = True
    APPEND_ONLY = True

    participant = models.ForeignKey(
        "registry.Participant", on_delete=models.PROTECT, related_name="allocations"
    )
    # The trial's code (blend.protocol trial folders): one record per member and trial.
    trial = models.CharField(_("trial"), max_length=20, db_index=True)
    arm = models.CharField(_("arm"), max_length=12, choices=Arm.choices)
    sequence_number = models.PositiveIntegerField(_("sequence number"))
    stratum = models.CharField(_("stratum"), max_length=200, blank=True)
    stratum_index = models.PositiveIntegerField(_("number within stratum"))
    # The stratification / minimisation factor levels used (replayed by verify).
    profile = models.JSONField(default=dict, blank=True)
    allocated_at = models.DateTimeField(_("allocated at"))
    allocated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["trial", "sequence_number"]
        constraints = [
            # The backstop against a double allocation, whatever the service does.
            models.UniqueConstraint(
                fields=["participant", "trial"], name="allocation_one_per_member_and_trial"
            ),
            models.CheckConstraint(
                condition=~models.Q(trial=""), name="allocation_names_its_trial"
            ),
            models.UniqueConstraint(
                fields=["trial", "sequence_number"], name="allocation_sequence_number_unique"
            ),
            models.UniqueConstraint(
                fields=["trial", "stratum", "stratum_index"],
                name="allocation_stratum_index_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trial} allocation #{self.sequence_number} of {self.participant_id}"


class AllocationLog(models.Model):
    """One chained record per allocation: hash = SHA-256(previous hash ‖ canonical record),
    and from chain version 2 a MAC of that hash with the trial's chain key
    (``blend.randomization.chain``)."""

    REVEALS_ALLOCATION = True
    APPEND_ONLY = True

    # Each trial has its own chain; version-1 records do not hash the trial, so the
    # records of the chain that existed before trials had codes keep their hashes.
    trial = models.CharField(max_length=20, db_index=True)
    sequence_number = models.PositiveIntegerField()
    participant = models.ForeignKey(
        "registry.Participant", on_delete=models.PROTECT, related_name="+"
    )
    study_id = models.CharField(max_length=20)
    arm = models.CharField(max_length=12, choices=Arm.choices)
    stratum = models.CharField(max_length=200, blank=True)
    stratum_index = models.PositiveIntegerField()
    profile = models.JSONField(default=dict, blank=True)
    allocated_at = models.DateTimeField()
    allocated_by = models.CharField(max_length=150)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # 1: written before chains were keyed (SHA-256 only); 2: keyed (trial hashed, MAC).
    chain_version = models.PositiveSmallIntegerField(default=1)
    mac = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["trial", "sequence_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "sequence_number"], name="allocationlog_sequence_number_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(trial=""), name="allocationlog_names_its_trial"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trial} log #{self.sequence_number} {self.hash[:12]}…"
