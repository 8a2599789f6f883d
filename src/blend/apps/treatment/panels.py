"""The treatment panel on the participant page. The pathway reveals the arm, so it is
shown only to roles with ``allocation.view``; others see the start of treatment only."""

from __future__ import annotations

from typing import Any

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.allocation import blinding
from blend.apps.treatment.models import TreatmentRecord
from blend.apps.treatment.services import (
    is_configured,
    start_from_record,
    treatment_flags,
    treatment_of,
)
from blend.apps.trials.http import current_trial
from blend.apps.trials.lookup import form_name, get_trial


def participant_panel(request: AuthenticatedHttpRequest, participant: Any) -> dict[str, Any] | None:
    trial = current_trial(request)
    record = treatment_of(participant, trial)
    may_see = blinding.sees_arm(request.user, trial)
    return {
        "template": "treatment/_panel.html",
        "context": {
            "participant": participant,
            "trial": trial,
            "form": form_name("Treatment", trial),  # the casebook form a query is raised on
            "record": record if may_see else None,
            "start": start_from_record(record) if record else None,
            "flags": treatment_flags(record) if record and may_see else [],
            **(_configured(record) if record and may_see and is_configured(record) else {}),
            "may_edit": may_see and request.user.can(Cap.CLINICAL_WRITE),
        },
    }


def _configured(record: TreatmentRecord) -> dict[str, Any]:
    """What the panel shows of a treatment recorded as the trial's treatment.toml says."""
    plan = get_trial(record.trial).treatment
    arm = plan.arms.get(record.arm_given)
    procedures = [
        {"label": p.label, **(record.procedures.get(p.code) or {})}
        for p in (arm.procedures if arm else ())
    ]
    return {
        "configured": True,
        "arm_label": arm.label if arm else record.arm_given,
        "procedures": procedures,
    }
