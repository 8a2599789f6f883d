from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Site(models.Model):
    """A recruiting centre (PRESENT+ is multicentre); a candidate randomization stratum."""

    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=120)

    def __str__(self) -> str:
        return self.name


class Sex(models.TextChoices):
    FEMALE = "female", _("female")
    MALE = "male", _("male")


class PrimaryTumour(models.TextChoices):
    BREAST = "breast", _("breast")
    PROSTATE = "prostate", _("prostate")
    LUNG = "lung", _("lung")
    KIDNEY = "kidney", _("kidney")
    MYELOMA = "myeloma", _("multiple myeloma")
    OTHER = "other", _("other")
    UNKNOWN = "unknown", _("unknown primary")


class Participant(models.Model):
    """A PRESENT cohort member, known only by a pseudonymous study ID.

    Direct identifiers live in ``Identity`` so that the roles and exports that
    must not see them never load them.
    """

    study_id = models.CharField(_("study ID"), max_length=20, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="participants")
    registered_on = models.DateField(_("cohort entry date"), db_index=True)
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices)
    birth_year = models.PositiveSmallIntegerField(_("year of birth"))
    primary_tumour = models.CharField(
        _("primary tumour"), max_length=20, choices=PrimaryTumour.choices
    )
    metastases_diagnosed_on = models.DateField(_("date spinal metastases diagnosed"))
    performance_status = models.PositiveSmallIntegerField(_("WHO/ECOG performance status"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-registered_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(performance_status__lte=4), name="participant_ps_0_4"
            ),
        ]

    def __str__(self) -> str:
        return self.study_id


class Language(models.TextChoices):
    DUTCH = "nl", "Nederlands"
    ENGLISH = "en", "English"


class Identity(models.Model):
    """Direct identifiers. Readable only with the ``identifiers.view`` capability; never exported."""

    HOLDS_IDENTIFIERS = True

    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, related_name="identity"
    )
    full_name = models.CharField(_("full name"), max_length=200)
    date_of_birth = models.DateField(_("date of birth"))
    hospital_number = models.CharField(_("hospital number"), max_length=30)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.DUTCH
    )
    history = HistoricalRecords()

    class Meta:
        constraints = [
            # Compared without regard to case (registry.validation.hospital_key): h123 is H123.
            models.UniqueConstraint(
                Upper("hospital_number"), name="identity_unique_hospital_number_ci"
            )
        ]

    def __str__(self) -> str:
        return f"identity of {self.participant_id}"


class StudyIdCounter(models.Model):
    """One row per prefix. Study IDs come from here and are never reused, even after deletion."""

    prefix = models.CharField(max_length=10, unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last_number}"
