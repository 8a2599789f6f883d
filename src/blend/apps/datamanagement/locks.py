"""The lock rule that ``audit.services.audited_save`` / ``audited_delete`` apply to
every write, so no service can change locked data. ``DatamanagementConfig.ready``
registers ``check_writable`` as an audit write guard (``audit.guards``).

Participant data are the Participant row and every model with a ``participant``
link. A participant lock freezes that participant's data; the database lock
freezes everyone's. Models that must stay writable under a lock (queries, the
locks themselves, signatures, form status) set ``LOCK_EXEMPT = True``; the outbox,
accounts and logs are not participant data.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _

from blend.apps.audit.guards import WriteRefused
from blend.apps.datamanagement.models import Lock
from blend.apps.registry.models import Participant

EXEMPT_APPS = {"audit", "accounts", "outbox", "exports", "api", "sessions", "axes"}


class Locked(WriteRefused):
    """A write to locked data. The message says what is locked and who may unlock."""


def participant_id_of(instance: models.Model) -> int | None:
    if instance._meta.label == "registry.Participant":
        return instance.pk
    if any(f.name == "participant" for f in instance._meta.fields):
        return getattr(instance, "participant_id", None)
    return None


def _applies(instance: models.Model) -> bool:
    if getattr(type(instance), "LOCK_EXEMPT", False) or instance._meta.app_label in EXEMPT_APPS:
        return False
    return instance._meta.label == "registry.Participant" or any(
        f.name == "participant" for f in instance._meta.fields
    )


def check_writable(instance: models.Model) -> None:
    """Raise ``Locked`` when ``instance`` is participant data under an active lock."""
    if not _applies(instance):
        return
    pid = participant_id_of(instance)
    # One query for both scopes: this runs on every audited write.
    scopes = set(
        Lock.objects.filter(unlocked_at__isnull=True)
        .filter(
            Q(scope=Lock.Scope.DATABASE) | Q(participant_id=pid)
            if pid is not None
            else Q(scope=Lock.Scope.DATABASE)
        )
        .values_list("scope", flat=True)
        .distinct()
    )
    if Lock.Scope.DATABASE in scopes:
        raise Locked(
            _(
                "%(what)s: the database is locked; a data manager must unlock it "
                "(giving a reason) before any change"
            )
            % {"what": instance._meta.verbose_name}
        )
    if scopes and pid is not None:
        raise Locked(
            _(
                "%(what)s: participant %(study_id)s is locked; a data manager must unlock it "
                "(giving a reason) before any change"
            )
            % {"what": instance._meta.verbose_name, "study_id": _study_id(pid)}
        )


def _study_id(pid: int) -> str:
    return Participant.objects.filter(pk=pid).values_list("study_id", flat=True).first() or str(pid)


def is_locked(participant: Any) -> bool:
    active = Lock.objects.filter(unlocked_at__isnull=True)
    return (
        active.filter(scope=Lock.Scope.DATABASE).exists()
        or active.filter(participant=participant).exists()
    )
