"""An adverse event belongs to the trial the member was last randomized in before its
onset (or to no trial), and each trial's analysis dataset holds its own events."""

from __future__ import annotations

import csv
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from blend.apps.allocation.services import randomize
from blend.apps.safety.services import report_adverse_event, update_adverse_event
from tests.web.safety.test_adverse_events import ae_data
from tests.web.trials.flow import confirm_for_vertical

pytestmark = pytest.mark.django_db


def test_events_are_attributed_to_the_trial_and_exported_with_it(
    make_participant: Any, personas: dict[str, Any], tmp_path: Path
) -> None:
    nurse = personas["nurse_nina"]
    member, outsider = make_participant(), make_participant()
    confirm_for_vertical(member, personas)
    randomize(member, user=nurse, trial="VERTICAL")
    today = timezone.localdate()
    before = report_adverse_event(member, ae_data(onset_date=today - timedelta(days=3)), user=nurse)
    during = report_adverse_event(member, ae_data(onset_date=today), user=nurse)
    follow_up = report_adverse_event(
        member, ae_data(onset_date=today, grade=3), user=nurse, follow_up_of=during
    )
    cohort_only = report_adverse_event(outsider, ae_data(onset_date=today), user=nurse)
    assert (before.trial, during.trial, follow_up.trial, cohort_only.trial) == (
        "",
        "VERTICAL",
        "VERTICAL",
        "",
    )
    moved = update_adverse_event(
        during, {"onset_date": today - timedelta(days=1)}, user=nurse, reason="onset corrected"
    )
    assert moved.trial == ""  # before the randomization: not the trial's event

    update_adverse_event(moved, {"onset_date": today}, user=nurse, reason="onset was right")
    call_command(
        "export", "analysis", str(tmp_path / "v"), "--trial", "VERTICAL", stdout=StringIO()
    )
    call_command("export", "analysis", str(tmp_path / "b"), stdout=StringIO())
    with (tmp_path / "v" / "adverse_events.csv").open(encoding="utf-8") as handle:
        vertical = list(csv.DictReader(handle))
    with (tmp_path / "b" / "adverse_events.csv").open(encoding="utf-8") as handle:
        blend = list(csv.DictReader(handle))
    assert [(r["study_id"], r["grade"]) for r in vertical] == [(member.study_id, "3")]
    assert blend == []
