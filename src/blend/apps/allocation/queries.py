"""Read-only questions about allocations that other apps ask."""

from __future__ import annotations

from blend.apps.allocation.models import Allocation
from blend.apps.registry.models import Participant
from blend.apps.trials.lookup import trial_code_or_default

SCREENING_FINAL = "the participant is randomized: the screening is final"


def arm_of(participant: Participant, trial: str | None = None) -> str | None:
    """ "intervention", "control", or None when not (yet) allocated in ``trial``.

    Callers must check ``allocation.view`` before showing the result to a person.
    """
    return (
        Allocation.objects.filter(participant=participant, trial=trial_code_or_default(trial))
        .values_list("arm", flat=True)
        .first()
    )


def is_randomized(participant: Participant, trial: str | None = None) -> bool:
    return Allocation.objects.filter(
        participant=participant, trial=trial_code_or_default(trial)
    ).exists()


def randomized_trials(participant: Participant) -> list[str]:
    """The trials the member is randomized in (no arms), in order of randomization."""
    return list(
        Allocation.objects.filter(participant=participant)
        .order_by("allocated_at")
        .values_list("trial", flat=True)
    )


def screening_final_once_randomized(participant: Participant, trial: str) -> str | None:
    """Why the participant's screening for ``trial`` may no longer change, or None.

    The allocation rests on the screening's facts (eligibility, stratification), so once
    a participant is randomized the screening is final. Registered with the screening
    app at start-up (``AllocationConfig.ready``)."""
    return SCREENING_FINAL if is_randomized(participant, trial) else None
