"""The treatment panel on the participant page. The pathway reveals the arm, so it is
shown only to roles with ``allocation.view``; others see the start of treatment only."""

from __future__ import annotations

from typing import Any

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.treatment.domain import load_treatment_config
from blend.apps.treatment.services import start_from_record, treatment_of
from blend.apps.trials.http import current_trial


def participant_panel(request: AuthenticatedHttpRequest, participant: Any) -> dict[str, Any] | None:
    trial = current_trial(request)
    record = treatment_of(participant, trial)
    may_see = request.user.can(Cap.ALLOCATION_VIEW, trial=trial)
    return {
        "template": "treatment/_panel.html",
        "context": {
            "participant": participant,
            "trial": trial,
            "record": record if may_see else None,
            "start": start_from_record(record) if record else None,
            "flags": record.flags(load_treatment_config()) if record and may_see else [],
            "may_edit": may_see and request.user.can(Cap.CLINICAL_WRITE),
        },
    }
