"""The acceptance monitor's numbers, checked against a direct count of the records."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from blend.stats.acceptance import OfferRecord, summarise
from blend.stats.endpoints import wilson

D = date(2025, 3, 3)


def synthetic(seed: int = 11, n: int = 80) -> list[OfferRecord]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        offered = D + timedelta(days=3 * i)
        decided = offered + timedelta(days=rng.randint(0, 12))
        u = rng.random()
        if i >= n - 5:
            records.append(OfferRecord("offered", offered, None))
        elif u < 0.7:
            records.append(OfferRecord("accepted", offered, decided))
        elif u < 0.93:
            reason = rng.choice(["Too tired", "too  tired ", "travel distance"])
            records.append(OfferRecord("refused", offered, decided, reason))
        elif u < 0.97:
            records.append(OfferRecord("not_offered", offered, decided, "died before the offer"))
        else:
            records.append(OfferRecord("not_offered", None, decided, "deteriorated"))
    return records


def test_counts_rate_and_interval_equal_a_direct_count() -> None:
    records = synthetic()
    s = summarise(records)
    accepted = sum(r.state == "accepted" for r in records)
    refused = sum(r.state == "refused" for r in records)
    assert (s.accepted, s.refused, s.pending) == (accepted, refused, 5)
    assert s.not_offered == sum(r.state == "not_offered" for r in records)
    assert s.offered == sum(r.offered_on is not None for r in records)
    assert s.rate == pytest.approx(accepted / (accepted + refused))
    assert s.interval == pytest.approx(wilson(accepted, accepted + refused))


def test_reasons_group_case_and_spacing_and_days_are_quartiles() -> None:
    records = synthetic()
    s = summarise(records)
    tired = sum(r.state == "refused" and "tired" in r.reason.lower() for r in records)
    first = next(r.reason for r in records if r.state == "refused" and "tired" in r.reason.lower())
    assert s.reasons[0] == (" ".join(first.split()), tired)  # shown as first written
    assert sum(n for _, n in s.reasons) == s.refused
    days = sorted(
        (r.decided_on - r.offered_on).days  # type: ignore[operator]
        for r in records
        if r.state in ("accepted", "refused")
    )
    assert s.decided_with_days == len(days)
    assert s.decision_days is not None
    median = (days[len(days) // 2] + days[(len(days) - 1) // 2]) / 2
    assert s.decision_days[0] == pytest.approx(median)


def test_the_series_on_each_day_equals_the_records_up_to_that_day() -> None:
    records = synthetic()
    s = summarise(records)
    for point in s.series[::7]:
        upto = [r for r in records if r.decided_on and r.decided_on <= point.on]
        accepted = sum(r.state == "accepted" for r in upto)
        refused = sum(r.state == "refused" for r in upto)
        offered = sum(1 for r in records if r.offered_on and r.offered_on <= point.on)
        dropped = sum(r.state == "not_offered" and r.offered_on is not None for r in upto)
        assert (point.offered, point.accepted, point.refused) == (offered, accepted, refused)
        assert point.pending == offered - accepted - refused - dropped
    last = s.series[-1]
    assert (last.accepted, last.refused, last.pending) == (s.accepted, s.refused, s.pending)
    assert [p.on for p in s.series] == sorted({p.on for p in s.series})


def test_no_offers_and_bad_states() -> None:
    empty = summarise([])
    assert (empty.rate, empty.interval, empty.series, empty.decision_days) == (None, None, (), None)
    with pytest.raises(ValueError, match="state: expected one of"):
        summarise([OfferRecord("maybe", D, None)])


def test_the_figure_draws_and_says_when_there_is_nothing(tmp_path) -> None:
    from blend.stats.acceptance_plot import acceptance_figure, acceptance_png

    png = acceptance_png(summarise(synthetic()), trial="BLEND", assumed_acceptance=0.73)
    assert png.startswith(b"\x89PNG")
    fig = acceptance_figure(summarise(synthetic()), trial="BLEND", assumed_acceptance=0.73)
    legends = [ax.get_legend() for ax in fig.axes]
    legend = [t.get_text() for lg in legends if lg is not None for t in lg.get_texts()]
    assert "assumed in the sample size (73%)" in legend and "Wilson 95% CI" in legend
    nothing = acceptance_figure(summarise([]), trial="VERTICAL")
    assert [t.get_text() for t in nothing.texts] == ["VERTICAL: no offers yet"]
