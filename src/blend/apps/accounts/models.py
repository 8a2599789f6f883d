from __future__ import annotations

from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from blend.apps.accounts.domain import ROLE_LABELS, Cap, Role, is_trial_scoped, role_has
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

    def can(self, capability: Cap | str, trial: str | None = None) -> bool:
        """Whether the user holds ``capability``; a per-trial one in ``trial`` (the default
        trial for None)."""
        if not self.is_active:
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
