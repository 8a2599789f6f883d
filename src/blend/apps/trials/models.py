from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TrialRegistration(models.Model):
    """A trial folder a trial team added with ``blend trial add``. The folder itself is
    copied under ``BLEND_TRIALS_DIR``; this row records who added which version, and when.
    The shipped trials (BLEND, VERTICAL) need no row."""

    code = models.CharField(_("trial"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=300)
    folder = models.CharField(_("folder"), max_length=500)
    source = models.CharField(_("copied from"), max_length=500)
    config_sha256 = models.CharField(_("configuration checksum"), max_length=64)
    registered_at = models.DateTimeField(_("registered at"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["registered_at", "code"]

    def __str__(self) -> str:
        return self.code
