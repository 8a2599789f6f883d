from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class QueryStatus(models.TextChoices):
    OPEN = "open", _("open")
    ANSWERED = "answered", _("answered")
    CLOSED = "closed", _("closed")


class Query(models.Model):
    """A data query on one form (and field) of one participant: open → answered → closed.

    Queries opened by ``blend check-data`` carry the check code and the row they are
    about; the pair (check, object) is unique while the query is not closed, so
    running the checks again opens nothing twice.
    """

    LOCK_EXEMPT = True  # raising and answering queries is how locked data get discussed

    participant = models.ForeignKey(
        "registry.Participant", on_delete=models.PROTECT, related_name="queries"
    )
    form = models.CharField(_("form"), max_length=80)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    field = models.CharField(_("field"), max_length=80, blank=True)
    check_code = models.CharField(_("edit check"), max_length=10, blank=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=QueryStatus.choices, default=QueryStatus.OPEN
    )
    assigned_role = models.CharField(_("assigned role"), max_length=20)
    opened_at = models.DateTimeField(auto_now_add=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name_plural = "queries"

    def __str__(self) -> str:
        return f"query {self.pk} on {self.participant_id} ({self.status})"


class QueryMessage(models.Model):
    """One message in a query's thread; messages are never edited."""

    LOCK_EXEMPT = True

    class Kind(models.TextChoices):
        QUESTION = "question", _("question")
        ANSWER = "answer", _("answer")
        CLOSE = "close", _("closed")
        REOPEN = "reopen", _("re-opened")

    query = models.ForeignKey(Query, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on query {self.query_id}"


class FormState(models.TextChoices):
    ENTERED = "entered", _("entered")
    SOURCE_VERIFIED = "source_verified", _("source-verified")
    LOCKED = "locked", _("locked")


class FormStatus(models.Model):
    """The monitoring state of one form (or one visit's form) of one participant."""

    LOCK_EXEMPT = True  # the lock service itself moves forms to 'locked'

    participant = models.ForeignKey(
        "registry.Participant", on_delete=models.PROTECT, related_name="form_statuses"
    )
    form = models.CharField(_("form"), max_length=60)
    visit = models.CharField(_("visit"), max_length=20, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=FormState.choices, default=FormState.ENTERED
    )
    changed_at = models.DateTimeField(auto_now=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["participant", "form", "visit"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "form", "visit"], name="form_status_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.form} {self.visit}: {self.status}"


class Lock(models.Model):
    """A participant lock (participant set) or the database lock (participant empty),
    of the cohort (``trial`` empty) or of one trial.

    A cohort lock freezes everything: the participant's data (or everyone's), cohort-level
    and of every trial, as the locks did before trials had codes (existing locks keep that
    meaning). A trial's lock freezes only that trial's records (those with that ``trial``:
    its screening, randomization, offer, treatment and attributed adverse events), so
    locking VERTICAL does not lock BLEND or the cohort's routine data.

    Active while ``unlocked_at`` is empty. Unlocking keeps the row, so the history
    of every lock and unlock, with the data manager's reason, stays visible.
    """

    LOCK_EXEMPT = True

    class Scope(models.TextChoices):
        PARTICIPANT = "participant", _("participant")
        DATABASE = "database", _("database")

    scope = models.CharField(max_length=12, choices=Scope.choices, default=Scope.PARTICIPANT)
    participant = models.ForeignKey(
        "registry.Participant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="locks",
    )
    trial = models.CharField(_("trial"), max_length=20, blank=True, default="")  # "": the cohort
    locked_at = models.DateTimeField(auto_now_add=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason for locking"), blank=True)
    unlocked_at = models.DateTimeField(null=True, blank=True)
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unlock_reason = models.TextField(_("reason for unlocking"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-locked_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "trial"],
                condition=models.Q(unlocked_at__isnull=True),
                name="one_active_lock_per_participant_and_trial",
            ),
            models.UniqueConstraint(
                fields=["scope", "trial"],
                condition=models.Q(scope="database", unlocked_at__isnull=True),
                name="lock_database_once_per_trial",
            ),
            models.CheckConstraint(
                condition=models.Q(scope="database", participant__isnull=True)
                | models.Q(scope="participant", participant__isnull=False),
                name="lock_scope_matches_participant",
            ),
        ]

    def __str__(self) -> str:
        return f"lock of {self.participant_id or 'the database'} in {self.trial or 'the cohort'}"


class Signature(models.Model):
    """An investigator's electronic sign-off of a participant's CRFs (21 CFR Part 11 spirit):
    who, when, the meaning shown, and a fingerprint of the data signed.

    A trial's sign-off (``trial`` set) covers the cohort-level data and that trial's
    records, so a change in another trial leaves it current; the cohort's (``trial``
    empty) covers the cohort-level data alone. Sign-offs from before trials had codes are
    BLEND's: they covered the cohort's data and BLEND's, which is what BLEND's covers."""

    LOCK_EXEMPT = True

    participant = models.ForeignKey(
        "registry.Participant", on_delete=models.PROTECT, related_name="signatures"
    )
    trial = models.CharField(_("trial"), max_length=20, blank=True, default="")  # "": the cohort
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signer_name = models.CharField(max_length=150)
    signed_at = models.DateTimeField(auto_now_add=True)
    meaning = models.TextField()
    data_fingerprint = models.CharField(max_length=64)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-signed_at", "-id"]

    def __str__(self) -> str:
        return f"signature of {self.signer_name} on {self.participant_id}"
