"""The offer of the intervention to participants allocated to it (TwiCs stage 2).

Only intervention-arm participants ever get an Offer row; control participants get
nothing (``offers.services`` refuses them). A row therefore reveals the arm, which is
why Offer has no simple-history table: the participant audit trail is readable with
``audit.view`` alone (the trial administrator), and would show "offer created". Every
change goes through a service function that writes an audit event with the whole new
state (``offer.make``, ``offer.accept``, ``offer.refuse``, ``offer.not_offered``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OfferState(models.TextChoices):
    OFFERED = "offered", _("offered")
    ACCEPTED = "accepted", _("accepted (trial consent signed)")
    REFUSED = "refused", _("refused")
    NOT_OFFERED = "not_offered", _("not offered")


class Offer(models.Model):
    REVEALS_ALLOCATION = True

    participant = models.ForeignKey(
        "registry.Participant", on_delete=models.PROTECT, related_name="offers"
    )
    # The trial's code (blend.protocol trial folders): one record per member and trial.
    trial = models.CharField(_("trial"), max_length=20, db_index=True)
    state = models.CharField(_("state"), max_length=12, choices=OfferState.choices, db_index=True)
    offered_on = models.DateField(_("offered on"), null=True, blank=True)
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_on = models.DateField(_("decision date"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    trial_consent_version = models.CharField(
        _("trial consent form version"), max_length=40, blank=True
    )
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "trial"], name="offer_one_per_member_and_trial"
            ),
            models.CheckConstraint(condition=~models.Q(trial=""), name="offer_names_its_trial"),
            models.CheckConstraint(
                condition=~models.Q(state="accepted") | ~models.Q(trial_consent_version=""),
                name="offer_accepted_has_consent_version",
            ),
            models.CheckConstraint(
                condition=~models.Q(state__in=["refused", "not_offered"]) | ~models.Q(reason=""),
                name="offer_refused_or_not_offered_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(state="not_offered") | models.Q(offered_on__isnull=False),
                name="offer_offered_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"offer to {self.participant_id}: {self.state}"
