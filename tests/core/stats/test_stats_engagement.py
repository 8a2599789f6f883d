"""Questionnaire return rates, checked against a direct count."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from blend.stats.endpoints import wilson
from blend.stats.engagement import (
    Window,
    by_quarter,
    by_timepoint_and_site,
    engagement_png,
    quarter,
)

STATUSES = ("completed", "missed", "stopped", "due", "upcoming")


def windows(seed: int = 5, n: int = 400) -> list[Window]:
    rng = random.Random(seed)
    return [
        Window(
            rng.choice(["w4", "w12", "m6"]),
            rng.choice(["UMCU", "NKI"]),
            date(2025, 1, 1) + timedelta(days=rng.randint(0, 500)),
            rng.choices(STATUSES, weights=(6, 2, 1, 1, 1))[0],
        )
        for _ in range(n)
    ]


def test_rates_per_timepoint_and_site_count_closed_windows_only() -> None:
    data = windows()
    rates = by_timepoint_and_site(data)
    for (timepoint, site), rate in rates.items():
        mine = [w for w in data if (w.timepoint, w.site) == (timepoint, site)]
        done = sum(w.status == "completed" for w in mine)
        closed = done + sum(w.status == "missed" for w in mine)
        assert (rate.completed, rate.closed) == (done, closed)
        assert rate.interval == pytest.approx(wilson(done, closed))
    assert sum(r.closed for r in rates.values()) == sum(
        w.status in ("completed", "missed") for w in data
    )


def test_rates_per_quarter_and_the_figure() -> None:
    data = windows()
    rates = by_quarter(data)
    assert quarter(date(2025, 3, 31)) == "2025-Q1" and quarter(date(2025, 4, 1)) == "2025-Q2"
    assert sum(r.closed for r in rates.values()) == sum(
        r.closed for r in by_timepoint_and_site(data).values()
    )
    assert engagement_png(rates, ["w4", "w12", "m6"], "Return").startswith(b"\x89PNG")
    assert engagement_png({}, ["w4"], "Return").startswith(b"\x89PNG")
