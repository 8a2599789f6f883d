"""After the demo, each trial's worklist has members to screen and the screening log starts
from the cohort denominator."""

from __future__ import annotations

import pytest

from blend.apps.demo.services import load_demo
from blend.apps.prescreening.models import CohortFact
from blend.apps.prescreening.services import cohort_denominator, worklist

pytestmark = pytest.mark.django_db


def test_the_demo_fills_both_trials_worklists(personas) -> None:
    load_demo(participants=80, seed=20221015, force=True)
    assert CohortFact.objects.exists()
    for trial in ("BLEND", "VERTICAL"):
        found = worklist(trial)
        assert found.to_screen, trial
        assert {row.status for row in found.to_screen} == {"eligible", "pending"}, trial
    counts = cohort_denominator("BLEND")
    assert counts["assessed"] > counts["potentially_eligible"] > 0
    assert counts["potentially_eligible_not_screened"] > 0
