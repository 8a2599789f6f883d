"""The lock rule that ``audit.services.audited_save`` / ``audited_delete`` apply to
every write, so no service can change locked data. ``DatamanagementConfig.ready``
registers ``check_writable`` as an audit write guard (``audit.guards``).

Participant data are the Participant row and every model with a ``participant``
link. A participant lock freezes that participant's data; the database lock
freezes everyone's. A lock belongs to the cohort (``Lock.trial`` empty: it freezes
everything, as locks did before trials had codes) or to one trial: a trial's lock
freezes only the records of that trial (a model with a ``trial`` field holding that
code), so locking VERTICAL leaves BLEND and the cohort's routine data open. Models that must stay writable under a lock (queries, the
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


def trial_of(instance: models.Model) -> str:
    """The trial a record belongs to: its ``trial`` field ("" for cohort-level data)."""
    if any(f.name == "trial" for f in instance._meta.fields):
        return str(getattr(instance, "trial", "") or "")
    return ""


def _scopes(pid: int | None, trial: str) -> Q:
    """The active locks that cover a record of member ``pid`` in ``trial``: the cohort's
    and, for a trial's record, that trial's."""
    trials = ["", trial] if trial else [""]
    covers = Q(scope=Lock.Scope.DATABASE, trial__in=trials)
    if pid is not None:
        covers |= Q(participant_id=pid, trial__in=trials)
    return covers


def check_writable(instance: models.Model) -> None:
    """Raise ``Locked`` when ``instance`` is participant data under an active lock."""
    if not _applies(instance):
        return
    pid, trial = participant_id_of(instance), trial_of(instance)
    # One query for every scope: this runs on every audited write.
    found = set(
        Lock.objects.filter(unlocked_at__isnull=True)
        .filter(_scopes(pid, trial))
        .values_list("scope", "trial")
        .distinct()
    )
    what = instance._meta.verbose_name
    for lock_trial in ("", trial):
        if (Lock.Scope.DATABASE, lock_trial) in found:
            raise Locked(
                _(
                    "%(what)s: the database is locked; a data manager must unlock it "
                    "(giving a reason) before any change"
                )
                % {"what": what}
                if not lock_trial
                else _(
                    "%(what)s: the %(trial)s database is locked; a data manager must unlock "
                    "it (giving a reason) before any change"
                )
                % {"what": what, "trial": lock_trial}
            )
    if found and pid is not None:
        lock_trial = "" if (Lock.Scope.PARTICIPANT, "") in found else trial
        raise Locked(
            _(
                "%(what)s: participant %(study_id)s is locked; a data manager must unlock it "
                "(giving a reason) before any change"
            )
            % {"what": what, "study_id": _study_id(pid)}
            if not lock_trial
            else _(
                "%(what)s: participant %(study_id)s is locked in %(trial)s; a data manager "
                "must unlock it (giving a reason) before any change"
            )
            % {"what": what, "study_id": _study_id(pid), "trial": lock_trial}
        )


def _study_id(pid: int) -> str:
    return Participant.objects.filter(pk=pid).values_list("study_id", flat=True).first() or str(pid)


def is_locked(participant: Any, trial: str = "") -> bool:
    """Whether a record of ``participant`` in ``trial`` ("" for cohort-level data) is
    frozen by an active lock (the cohort's, or that trial's)."""
    pid = getattr(participant, "pk", participant)
    return Lock.objects.filter(unlocked_at__isnull=True).filter(_scopes(pid, trial)).exists()
