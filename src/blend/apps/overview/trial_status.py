"""Each trial's status for one cohort member, as the participant page shows it.

The arm, and anything that reveals it (an offer exists only in the intervention arm),
is shown only to a user with ``allocation.view`` in that trial (it is held per trial);
everyone else sees "randomized".
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from blend.apps.accounts.models import User
from blend.apps.allocation import blinding
from blend.apps.allocation.queries import arm_of
from blend.apps.allocation.services import overlap_refusals
from blend.apps.offers.services import offer_state
from blend.apps.registry.models import Participant
from blend.apps.screening.services import latest_screening
from blend.apps.trials.lookup import status_label, trials_by_code


def trial_rows(participant: Participant, user: User) -> list[dict[str, Any]]:
    today = timezone.localdate()
    rows = []
    for code, trial in trials_by_code().items():
        may_see_arm = blinding.sees_arm(user, code)
        screening = latest_screening(participant, code)
        arm = arm_of(participant, code)
        refusals = [] if arm else overlap_refusals(participant, code, today)
        rows.append(
            {
                "code": code,
                "title": trial.title,
                "works_in": user.works_in(code),
                "status": trial.status,
                "status_label": status_label(trial.status),
                "screening": screening.get_status_display() if screening else None,
                "confirmed": bool(screening and screening.confirmed_at),
                "randomized": arm is not None,
                "arm": arm if may_see_arm else None,
                "offer": offer_state(participant, code) if may_see_arm else None,
                "refusals": [
                    {"rule": r.rule.describe(), "reason": r.reason, "lifts_on": r.lifts_on}
                    for r in refusals
                ],
            }
        )
    return rows
