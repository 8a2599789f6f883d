"""What a user may see of the arms: the one rule for everything that exists, or reads
differently, in one arm only.

``allocation.view`` is held per trial (docs/roles.md). A user without it in a trial must
not be able to tell that trial's intervention participants from its controls, in any
page, API answer, export or audit row. What is arm-specific is declared where it lives,
and this module is the one place that decides who sees it:

- **Models whose rows reveal the arm** (``REVEALS_ALLOCATION = True``: the allocation,
  its log, the offer, the treatment record), each with a ``trial`` field: their rows,
  and the audit events about them, are shown only in the trials of :func:`sees_arms_in`.
- **Fields whose values read differently by arm** (``ARM_SPECIFIC_FIELDS`` on a model
  with a ``trial`` field: an adverse event's relatedness to SBRT, which only the
  intervention arm receives, and so also to surgery): left out of the record's audit
  rows where its trial's arms are not seen; the record's pages and API show an
  arm-neutral field instead (safety: "Relatedness to trial treatment").
- **Casebook forms that exist for one arm only** (``ARM_SPECIFIC_FORMS`` in an app's
  ``casebook.py``: offers' "Offer", one per trial by ``trials.lookup.form_name``): left
  out of the form-status table, the sign-off and lock lists a user reads, and every
  audit row or event that names them (``hidden_forms``).

Every panel, page and export that shows an arm, or something that reveals one, asks
:func:`sees_arm` (the allocation, offer and treatment panels, the trial table of the
participant page, the follow-up completeness by arm), so a grep for ``blinding.`` finds
every place that decides. A record outside any trial (``trial`` blank: a cohort event
before randomization) has no arm to hide.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models

from blend.apps import discover
from blend.apps.accounts.domain import Cap
from blend.apps.trials.lookup import form_name as trial_form_name
from blend.apps.trials.lookup import known_trial_codes


def sees_arm(user: Any, trial: str | None) -> bool:
    """Whether ``user`` may see the arm of a record of ``trial`` ("" : of no trial)."""
    if trial == "":
        return True
    return bool(user is not None and user.can(Cap.ALLOCATION_VIEW, trial=trial))


def sees_arms_in(user: Any) -> frozenset[str]:
    """The trial codes whose arms ``user`` may see (``allocation.view`` there)."""
    return frozenset(code for code in known_trial_codes() if sees_arm(user, code))


def arm_specific_forms() -> dict[str, str]:
    """Casebook form name → the trial whose arm it reveals, for every declared
    ``ARM_SPECIFIC_FORMS`` base name and every trial."""
    bases = [
        name
        for module in discover("casebook")
        for name in getattr(module, "ARM_SPECIFIC_FORMS", ())
    ]
    return {trial_form_name(base, code): code for base in bases for code in known_trial_codes()}


def hidden_forms(user: Any) -> frozenset[str]:
    """The casebook forms ``user`` must not learn exist (their trial's arms are not seen)."""
    return frozenset(
        form for form, trial in arm_specific_forms().items() if not sees_arm(user, trial)
    )


def visible_forms(user: Any, forms: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``forms`` as (form, visit) without those of :func:`hidden_forms`."""
    hidden = hidden_forms(user)
    return [(form, visit) for form, visit in forms if form not in hidden]


def arm_specific_fields(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(getattr(model, "ARM_SPECIFIC_FIELDS", ()))


def shows_arm_specific_fields(user: Any, record: models.Model) -> bool:
    """Whether ``user`` may read ``record``'s ``ARM_SPECIFIC_FIELDS`` (its trial's arms are seen)."""
    return sees_arm(user, getattr(record, "trial", ""))
