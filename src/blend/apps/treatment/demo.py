"""Demo treatments: same-day SBRT and surgery for intervention participants who accepted,
standard care (surgery, then radiotherapy) for the others and for controls, a few
protocol deviations to review, some still planned, and routine radiotherapy for part
of the cohort outside the trial (they get the cohort's routine questionnaires too)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from blend.apps.allocation.models import Allocation
from blend.apps.consent.services import may_send_questionnaires
from blend.apps.offers.services import offer_state
from blend.apps.treatment.models import TreatmentRecord
from blend.apps.treatment.services import default_pathway, record_treatment, start_from_record
from blend.apps.trials.lookup import default_trial_code, get_trial

LEVELS = ["T4-T8", "T9-T12", "T10-L1", "T11-L1", "T12-L2", "L1-L3", "L2-L4", "T6-T9"]


def _aware(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _same_day(rng: Any, planned: date, today: date) -> dict[str, Any]:
    data: dict[str, Any] = {
        "pathway": "same_day",
        "planned_on": planned,
        "sbrt_dose_gy": 18,
        "sbrt_fractions": 1,
        "surgical_site_dose_gy": rng.choice([3, 4, 5]),
        "levels_stabilized": rng.choice(LEVELS),
        "levels_count": rng.randint(2, 5),
        "decompression": rng.random() < 0.3,
        "approach": rng.choice(["percutaneous", "percutaneous", "open"]),
    }
    if planned <= today:
        sbrt = _aware(planned, rng.randint(7, 10), rng.choice([0, 15, 30, 45]))
        gap = rng.uniform(3, 8) if rng.random() > 0.06 else rng.uniform(25, 40)  # a few deviations
        data.update(sbrt_started_at=sbrt, surgery_started_at=sbrt + timedelta(hours=gap))
    return data


def _standard(rng: Any, planned: date, today: date, *, surgery: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "pathway": "standard",
        "planned_on": planned,
        "radiotherapy_type": rng.choice(["1x8 Gy", "5x4 Gy", "SBRT 1x18 Gy", "10x3 Gy"]),
    }
    if surgery:
        data.update(
            levels_stabilized=rng.choice(LEVELS),
            levels_count=rng.randint(2, 5),
            decompression=rng.random() < 0.35,
            approach=rng.choice(["open", "percutaneous"]),
        )
        if planned <= today:
            data["surgery_on"] = planned
        gap = rng.randint(8, 21) if rng.random() > 0.08 else rng.randint(3, 6)  # a few too early
        if planned + timedelta(days=gap) <= today:
            data["radiotherapy_on"] = planned + timedelta(days=gap)
    elif planned <= today:
        data["radiotherapy_on"] = planned
    return data


def _randomized(ctx: Any) -> list[Any]:
    people = ctx.extra.get("randomized")
    if people is None:
        ids = set(
            Allocation.objects.filter(trial=default_trial_code()).values_list(
                "participant_id", flat=True
            )
        )
        people = [p for p in ctx.participants if p.pk in ids]
    return list(people)


def populate(ctx: Any) -> None:
    rng, nurse, today = ctx.rng, ctx.users["nurse"], ctx.today
    randomized = _randomized(ctx)
    for participant in randomized:
        allocation = participant.allocations.get(trial=default_trial_code())
        allocated_on = timezone.localdate(allocation.allocated_at)
        planned = allocated_on + timedelta(days=rng.randint(4, 12))
        if default_pathway(participant) == "same_day":
            data = _same_day(rng, planned, today)
        else:
            data = _standard(rng, planned, today)
        record_treatment(participant, data, user=nurse)
    trial = {p.pk for p in randomized}
    for participant in ctx.participants:
        if (
            participant.pk in trial
            or rng.random() > 0.3
            or not may_send_questionnaires(participant)
        ):
            continue
        planned = participant.registered_on + timedelta(days=rng.randint(1, 10))
        record_treatment(participant, _standard(rng, planned, today, surgery=False), user=nurse)
    _treat_vertical(ctx, nurse)
    ctx.extra["treated"] = True
    # What the follow-up demo needs of each treatment, handed on so that it need not import this app.
    ctx.extra["treatments"] = [
        {
            "participant": record.participant,
            "start": start_from_record(record),
            "surgery_day": record.surgery_day,
            "pathway": record.pathway,
            "randomized": record.participant.allocations.exists(),
        }
        for record in TreatmentRecord.objects.select_related("participant").order_by(
            "participant_id"
        )
    ]


def _treat_vertical(ctx: Any, nurse: Any) -> None:
    """VERTICAL's single fractions, recorded as its treatment.toml says, within a week of
    randomization: SBRT 1 x 18 Gy for those who accepted, 1 x 8 Gy otherwise (a refuser
    gets the usual treatment); now and then a fraction is given at another dose."""
    rng = random.Random("vertical-treatment")
    plan = get_trial("VERTICAL").treatment
    for participant in ctx.extra.get("randomized_by_trial", {}).get("VERTICAL", []):
        allocation = participant.allocations.get(trial="VERTICAL")
        given = allocation.arm
        if given == "intervention" and offer_state(participant, "VERTICAL") != "accepted":
            given = "control"
        day = timezone.localdate(allocation.allocated_at) + timedelta(days=rng.randint(1, 7))
        (procedure,) = plan.arm(given).procedures
        dose = procedure.dose_gy if rng.random() > 0.04 else 16.0
        record_treatment(
            participant,
            {
                "planned_on": day,
                "arm_given": given,
                "procedures": {
                    procedure.code: {
                        "on": day.isoformat(),
                        "dose_gy": dose,
                        "fractions": procedure.fractions,
                    }
                },
            },
            user=nurse,
            trial="VERTICAL",
        )
