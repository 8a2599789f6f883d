"""The outbox: every message to a participant or staff member, queued, then delivered.

The table is the delivery log. A message to a participant never stores the personal
questionnaire link: the body keeps the ``[[link]]`` mark and the link is minted at
delivery, into the outgoing copy only (the database holds token hashes alone).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

LINK_MARK = "[[link]]"


class Audience(models.TextChoices):
    PARTICIPANT = "participant", _("participant")
    STAFF = "staff", _("staff")


class Channel(models.TextChoices):
    EMAIL = "email", _("e-mail")
    SMS = "sms", _("SMS")


class Status(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("cancelled")


class Message(models.Model):
    participant = models.ForeignKey(
        "registry.Participant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
    )
    audience = models.CharField(_("audience"), max_length=12, choices=Audience.choices)
    channel = models.CharField(_("channel"), max_length=5, choices=Channel.choices)
    to_address = models.CharField(_("to"), max_length=254)
    language = models.CharField(_("language"), max_length=2, default="nl")
    template_code = models.CharField(_("template"), max_length=60)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    link_factory = models.CharField(max_length=120, blank=True)
    link_args = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    send_after = models.DateTimeField(_("send after"), db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    claim = models.CharField(max_length=32, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    dedup_key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "send_after"])]

    def __str__(self) -> str:
        return f"{self.template_code} to {self.participant_id or self.to_address} ({self.status})"
