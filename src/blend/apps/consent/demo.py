"""Demo consent: most members agree to everything; some decline randomization or
questionnaires, some postpone, a few withdraw an item later."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from blend.apps.consent.models import ConsentFormVersion
from blend.apps.consent.services import record_consent, withdraw_consent

VERSIONS = [
    ("PRESENT v1.0", date(2013, 1, 1), date(2020, 12, 31)),
    ("PRESENT v2.0", date(2021, 1, 1), date(2023, 12, 31)),
    ("PRESENT v3.0", date(2024, 1, 1), None),
]


def _version_on(versions: list[ConsentFormVersion], on: date) -> ConsentFormVersion:
    return next(
        v for v in versions if v.valid_from <= on and (v.valid_until is None or on <= v.valid_until)
    )


def populate(ctx: Any) -> None:
    versions = [
        ConsentFormVersion.objects.get_or_create(
            version=v, defaults={"valid_from": f, "valid_until": u}
        )[0]
        for v, f, u in VERSIONS
    ]
    rng, nurse = ctx.rng, ctx.users["nurse"]
    for participant in ctx.extra.get("vertical_cohort", []):
        # VERTICAL's members: every one was randomized, so every one had consented to it.
        version = _version_on(versions, participant.registered_on)
        for item in "abcde":
            record_consent(
                participant,
                item,
                "yes",
                on=participant.registered_on,
                form_version=version,
                user=nurse,
            )
    for participant in ctx.participants:
        on = participant.registered_on
        version = _version_on(versions, on)
        answers = {
            "a": "yes",
            "b": "yes" if rng.random() < 0.93 else "no",
            "c": rng.choices(["yes", "no", "postponed"], weights=[84, 10, 6])[0],
            "e": rng.choices(["yes", "no", "postponed"], weights=[80, 15, 5])[0],
        }
        answers["d"] = (
            "yes"
            if answers["c"] == "yes" and rng.random() < 0.95
            else rng.choice(["no", "postponed"])
        )
        for item, answer in answers.items():
            record_consent(participant, item, answer, on=on, form_version=version, user=nurse)
        if answers["b"] == "yes" and rng.random() < 0.04 and (ctx.today - on).days > 60:
            withdraw_consent(
                participant,
                "b",
                on=on + timedelta(days=rng.randint(30, 60)),
                reason="Questionnaires too burdensome",
                user=nurse,
            )
