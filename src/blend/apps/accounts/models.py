from __future__ import annotations

from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from blend.apps.accounts.domain import (
    ROLE_LABELS,
    Cap,
    Role,
    describe_holding,
    is_trial_scoped,
    role_has,
)
from blend.apps.trials.lookup import default_trial_code

ROLE_CHOICES = [(role.value, ROLE_LABELS[role]) for role in Role]


class User(AbstractUser):
    """A staff member. One role for the cohort; patients never log in (they use token links).

    Per trial (``TrialRole``): a user with no trial roles works in every trial of the
    cohort with ``role``; a user with at least one works only in those trials, each with
    the role given there. Capabilities that act on a trial's records
    (``domain.TRIAL_CAPABILITIES``) follow the trial's role; the rest follow ``role``.
    """

    role = models.CharField(_("role"), max_length=20, choices=ROLE_CHOICES, blank=True)
    site = models.ForeignKey(
        "registry.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    # True from the moment an administrator creates the account until its owner has set
    # their own password through the one-time link (``services.set_own_password``): until
    # then the account has no usable password and holds no capability (docs/security.md §6).
    must_set_password = models.BooleanField(_("must set own password"), default=False)
    password_set_at = models.DateTimeField(_("own password set at"), null=True, blank=True)

    def can(self, capability: Cap | str, trial: str | None = None) -> bool:
        """Whether the user holds ``capability``; a per-trial one in ``trial`` (the default
        trial for None). An account whose owner has not set their password holds none."""
        if not self.is_active or self.must_set_password:
            return False
        if not is_trial_scoped(capability):
            return role_has(self.role, capability)
        return role_has(self.role_in(trial or default_trial_code()), capability)

    @cached_property
    def trial_roles(self) -> dict[str, str]:
        """trial code → role, from this user's ``TrialRole`` rows (read once per object;
        ``services.grant_trial_role`` and ``revoke_trial_role`` refresh it)."""
        if self.pk is None:
            return {}
        return {grant.trial: grant.role for grant in self.trial_role_set.all()}

    def role_in(self, trial: str) -> str | None:
        """The user's role in ``trial``: ``role`` when the user has no trial roles, else
        the role given for that trial, or None when the user does not work in it."""
        roles = self.trial_roles
        if not roles:
            return self.role or None
        return roles.get(trial)

    def works_in(self, trial: str) -> bool:
        return not self.trial_roles or trial in self.trial_roles

    def open_trials(self) -> frozenset[str] | None:
        """The trial codes the user may work in; None for every trial (no trial roles)."""
        return frozenset(self.trial_roles) if self.trial_roles else None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[Role(self.role)] if self.role else ""


class TrialRole(models.Model):
    """The role of a staff member in one trial of the cohort (``services.grant_trial_role``).

    Once a user has one, they work only in the trials they have one for."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="trial_role_set")
    # The trial's code (blend.protocol trial folders), checked against the known trials.
    trial = models.CharField(_("trial"), max_length=20)
    role = models.CharField(_("role"), max_length=20, choices=ROLE_CHOICES)
    granted_at = models.DateTimeField(_("granted at"), auto_now=True)

    class Meta:
        ordering = ["user_id", "trial"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "trial"], name="trialrole_one_per_user_and_trial"
            ),
            models.CheckConstraint(condition=~models.Q(trial=""), name="trialrole_names_its_trial"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.trial}: {self.role}"


class GrantStatus(models.TextChoices):
    PENDING = "pending", _("waiting for a second person")
    APPROVED = "approved", _("approved")
    REFUSED = "refused", _("refused")
    # Applied by the server operator while no second person could approve yet (the first
    # accounts of a new installation, the demo); shown as such on the dashboard.
    BOOTSTRAP = "bootstrap", _("applied without a second person (installation)")


class GrantRequest(models.Model):
    """A change of a staff member's access that gives them a guarded capability
    (``domain.GUARDED_CAPABILITIES``: the arms, direct identifiers, staff administration),
    held until a second person approves it (``services.approve_grant``).

    ``changes`` is what applying does: ``{"role": ROLE, "trials": {CODE: ROLE or None},
    "active": true}`` (each key optional; a trial's None revokes the role there);
    ``gains`` the guarded (capability, trial) pairs it gives, as computed when asked."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="grant_requests")
    changes = models.JSONField(_("changes"))
    gains = models.JSONField(_("gains"))
    status = models.CharField(
        _("status"), max_length=10, choices=GrantStatus.choices, default=GrantStatus.PENDING
    )
    # None: the server operator (the command line or the demo loader).
    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "requested_at"])]

    def __str__(self) -> str:
        return f"grant #{self.pk} for {self.user_id} ({self.status})"

    @property
    def gains_text(self) -> str:
        return ", ".join(describe_holding(gain) for gain in self.gains)
