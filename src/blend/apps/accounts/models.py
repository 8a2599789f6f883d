from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from blend.apps.accounts.domain import ROLE_LABELS, Cap, Role, role_has

ROLE_CHOICES = [(role.value, ROLE_LABELS[role]) for role in Role]


class User(AbstractUser):
    """A staff member. Exactly one role; patients never log in (they use token links)."""

    role = models.CharField(_("role"), max_length=20, choices=ROLE_CHOICES, blank=True)
    site = models.ForeignKey(
        "registry.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )

    def can(self, capability: Cap | str) -> bool:
        return self.is_active and role_has(self.role, capability)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[Role(self.role)] if self.role else ""
