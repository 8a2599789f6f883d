"""`blend replan-schedules` moves open timepoints to a changed schedule and leaves
completed ones where they were."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from blend.apps.followup.models import Assessment
from blend.protocol import DEFAULTS_DIR, load_protocol
from blend.protocol.schedule import load_schedule

pytestmark = pytest.mark.django_db


def test_replan_follows_a_changed_window_and_keeps_completed_ones(
    make_participant,
    treat,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = treat(make_participant(), days_ago=30)
    done = Assessment.objects.get(participant=p, timepoint="w1")
    Assessment.objects.filter(pk=done.pk).update(
        completed_at=timezone.now(), completed_on=done.target_on
    )
    schedule = (DEFAULTS_DIR / "schedule.toml").read_text(encoding="utf-8")
    (tmp_path / "schedule.toml").write_text(
        schedule.replace(
            'code = "m6"\nlabel_en = "Month 6"\nlabel_nl = "Maand 6"\nday = 182\nbefore = 14\nafter = 14',
            'code = "m6"\nlabel_en = "Month 6"\nlabel_nl = "Maand 6"\nday = 182\nbefore = 21\nafter = 21',
        ),
        encoding="utf-8",
    )
    m6 = Assessment.objects.get(participant=p, timepoint="m6")
    monkeypatch.setattr(
        "blend.protocol.schedule.load_protocol", lambda: load_protocol(str(tmp_path))
    )
    load_schedule.cache_clear()
    try:
        out = StringIO()
        call_command("replan_schedules", stdout=out)
    finally:
        load_schedule.cache_clear()
    assert "1 timepoint(s) moved, 0 added" in out.getvalue()
    moved = Assessment.objects.get(pk=m6.pk)
    assert (moved.target_on - moved.opens_on).days == 21 and moved.target_on == m6.target_on
    assert moved.history.first().history_change_reason == "start of treatment or schedule changed"
    assert Assessment.objects.get(pk=done.pk).opens_on == done.opens_on
