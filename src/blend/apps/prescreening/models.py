"""The cohort's recorded facts: what the cohort knows about a member, one current value
per fact key of the cohort's catalogue (``cohort/facts.toml``), read by every trial's
pre-screening. Earlier values stay in the history table (``audited_save`` with a reason)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Origin(models.TextChoices):
    """How a cohort fact came in: entered by staff, or pre-filled by an import."""

    ENTERED = "entered", _("entered")
    FHIR = "fhir", _("FHIR import")


class CohortFact(models.Model):
    """One fact the cohort knows about a member. A fact pre-filled by an import
    (``origin`` not ``entered``) is unconfirmed until the research nurse confirms it
    (``confirmed_at``); a member's eligibility cannot be confirmed for any trial while
    one is (``fhir_import.unconfirmed_imports_block``)."""

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
    origin = models.CharField(
        _("origin"), max_length=10, choices=Origin.choices, default=Origin.ENTERED
    )
    # The value an import replaced (None: the import added the fact), for the nurse who confirms.
    replaced_value = models.JSONField(_("replaced value"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
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

    @property
    def to_confirm(self) -> bool:
        return self.origin != Origin.ENTERED and self.confirmed_at is None


class Rank(models.IntegerChoices):
    """How a stored verdict sorts on the worklist (eligible first, then pending)."""

    ELIGIBLE = 0, "eligible"
    PENDING = 1, "pending"
    INELIGIBLE = 2, "ineligible"
    UNREADABLE = 3, "unreadable"  # recorded facts that no longer fit the catalogue


class MemberVerdict(models.Model):
    """A member's pre-screening verdict on one trial, as the prescreening service last
    computed it from the cohort's facts: derived data, never entered, so it has no
    history of its own (the facts it reads have). ``services.sync_verdicts`` keeps it
    current: a member whose facts, registration, identity or consent records changed,
    whose verdict's ``valid_until`` has come (an age that turns over on a birthday) or
    whose trial's criteria changed (``fingerprint``) is assessed again before the
    worklist reads the table. ``registered_on`` and ``study_id`` are copied from the
    participant so the worklist sorts and pages on one index."""

    participant = models.ForeignKey(
        "registry.Participant", on_delete=models.CASCADE, related_name="prescreen_verdicts"
    )
    trial = models.CharField(max_length=20)
    rank = models.PositiveSmallIntegerField(choices=Rank.choices)
    registered_on = models.DateField()
    study_id = models.CharField(max_length=20)
    missing = models.JSONField(default=list)  # fact keys still missing (pending), form order
    undecided = models.JSONField(default=dict)  # criterion code → what is missing
    error = models.TextField(blank=True)  # why the facts are unreadable
    fingerprint = models.CharField(max_length=64)  # of the trial's criteria and the catalogue
    computed_on = models.DateField()  # the assessment date the verdict holds for
    valid_until = models.DateField(null=True)  # first day it may differ (None: no date)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "trial"], name="member_verdict_one_per_member_and_trial"
            )
        ]
        indexes = [
            models.Index(
                fields=["trial", "rank", "registered_on", "study_id"], name="verdict_worklist"
            ),
            models.Index(fields=["trial", "valid_until"], name="verdict_expiry"),
            models.Index(fields=["trial", "computed_on"], name="verdict_computed_on"),
        ]

    def __str__(self) -> str:
        return f"{self.trial} verdict on {self.participant_id}: {self.status}"

    @property
    def status(self) -> str:
        return Rank(self.rank).label


class VerdictSync(models.Model):
    """Where each trial's stored verdicts stand: the fingerprint they were computed with
    and when the last check for changed members started (the next one reads the history
    tables from a margin before it, so a transaction that committed late is not missed)."""

    trial = models.CharField(max_length=20, primary_key=True)
    fingerprint = models.CharField(max_length=64)
    started_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.trial} verdicts as of {self.started_at}"
