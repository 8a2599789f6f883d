from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One state change made through a service function (enrol, consent, randomize ...).

    Field-level old/new values live in the django-simple-history tables of each model;
    this row says which business action caused them. Append-only: database triggers
    forbid UPDATE (and DELETE on PostgreSQL); see ``blend.apps.audit.append_only``.
    """

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=60, db_index=True)
    participant = models.ForeignKey(
        "registry.Participant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=60, blank=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class AuditChainLink(models.Model):
    """One link of the hash chain of one audit table: written by the database itself, by a
    trigger on every INSERT into an append-only table (``blend.apps.audit.chain``), so no
    code path can forget it and a raw INSERT is chained too.

    ``row_digest`` is SHA-256 over the row's ``columns`` as the database renders them;
    ``digest`` is SHA-256 over ``previous_digest`` ‖ ``row_digest``; ``seq`` counts the
    table's links from 1. ``blend check-audit`` recomputes all three, so an edited, deleted
    or inserted-behind-the-trigger row breaks the chain. Append-only itself, and not
    chained (it is the chain).
    """

    APPEND_ONLY = True

    table_name = models.CharField(max_length=63)
    seq = models.PositiveBigIntegerField()
    row_id = models.CharField(max_length=40)
    columns = models.TextField()
    row_digest = models.CharField(max_length=64)
    previous_digest = models.CharField(max_length=64)
    digest = models.CharField(max_length=64)

    class Meta:
        ordering = ["table_name", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["table_name", "seq"], name="chainlink_one_per_place"),
            models.UniqueConstraint(fields=["table_name", "row_id"], name="chainlink_one_per_row"),
        ]

    def __str__(self) -> str:
        return f"{self.table_name} #{self.seq} {self.digest[:12]}…"
