"""How a TwiCs trial's offers are going: counts, the acceptance rate with its Wilson CI,
refusal reasons, time to decision, and the same over time (no Django).

Refusal dilutes the ITT effect (docs/design.md §1), so the PI, the statistician and the
DSMB watch acceptance as it happens; ``blend design reestimate`` turns it into N. The
inputs are the offer records of one trial: offers exist only in the intervention arm, so
whoever sees this must hold ``allocation.view`` there (``offers.acceptance``).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from blend.stats.endpoints import wilson

STATES = ("offered", "accepted", "refused", "not_offered")


@dataclass(frozen=True)
class OfferRecord:
    state: str  # one of STATES
    offered_on: date | None  # None only for "not offered" without an offer
    decided_on: date | None  # accepted, refused or not offered on
    reason: str = ""  # refused or not offered: why


@dataclass(frozen=True)
class Point:
    """The running totals on one day on which something happened."""

    on: date
    offered: int
    accepted: int
    refused: int
    pending: int
    rate: float | None  # accepted / (accepted + refused) so far
    low: float | None  # its Wilson 95% CI
    high: float | None


@dataclass(frozen=True)
class AcceptanceSummary:
    offered: int  # offers made (whatever came of them)
    accepted: int
    refused: int
    pending: int  # offered, not yet decided
    not_offered: int  # allocated to the intervention, the offer could not go ahead
    rate: float | None  # acceptance among decided offers
    interval: tuple[float, float] | None  # Wilson 95% CI
    reasons: tuple[tuple[str, int], ...]  # refusal reasons, most frequent first
    decision_days: tuple[float, float, float] | None  # median, Q1, Q3 offer → decision
    decided_with_days: int  # decisions whose days are known (both dates recorded)
    series: tuple[Point, ...]

    @property
    def decided(self) -> int:
        return self.accepted + self.refused


def _rate(accepted: int, refused: int) -> tuple[float | None, tuple[float, float] | None]:
    decided = accepted + refused
    if not decided:
        return None, None
    return accepted / decided, wilson(accepted, decided)


def _reason_key(reason: str) -> str:
    return re.sub(r"\s+", " ", reason).strip().casefold()


def refusal_reasons(records: Iterable[OfferRecord]) -> tuple[tuple[str, int], ...]:
    """Refusal reasons grouped regardless of case and spacing, shown as first written."""
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for record in records:
        if record.state != "refused":
            continue
        key = _reason_key(record.reason) or "(no reason given)"
        shown.setdefault(key, re.sub(r"\s+", " ", record.reason).strip() or key)
        counts[key] += 1
    return tuple(
        (shown[key], n) for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def _decision_days(records: Sequence[OfferRecord]) -> list[int]:
    return [
        (r.decided_on - r.offered_on).days
        for r in records
        if r.state in ("accepted", "refused") and r.offered_on and r.decided_on
    ]


def _quartiles(days: list[int]) -> tuple[float, float, float] | None:
    if not days:
        return None
    if len(days) == 1:
        return (float(days[0]),) * 3
    q1, median, q3 = statistics.quantiles(days, n=4, method="inclusive")
    return median, q1, q3


def _series(records: Sequence[OfferRecord]) -> tuple[Point, ...]:
    """Running totals on each day an offer was made or decided (one pass per day set)."""

    def on_days(states: tuple[str, ...], *, offered_first: bool = False) -> Counter[date]:
        return Counter(
            r.decided_on
            for r in records
            if r.state in states and r.decided_on and (r.offered_on or not offered_first)
        )

    made = Counter(r.offered_on for r in records if r.offered_on)
    accepted_on, refused_on = on_days(("accepted",)), on_days(("refused",))
    dropped_on = on_days(("not_offered",), offered_first=True)  # offered, then not gone ahead
    points, offered, accepted, refused, dropped = [], 0, 0, 0, 0
    for day in sorted({*made, *accepted_on, *refused_on, *dropped_on}):
        offered += made[day]
        accepted += accepted_on[day]
        refused += refused_on[day]
        dropped += dropped_on[day]
        rate, interval = _rate(accepted, refused)
        low, high = interval if interval else (None, None)
        pending = offered - accepted - refused - dropped
        points.append(Point(day, offered, accepted, refused, pending, rate, low, high))
    return tuple(points)


def summarise(records: Sequence[OfferRecord]) -> AcceptanceSummary:
    """Everything the acceptance monitor shows, from one trial's offer records."""
    for record in records:
        if record.state not in STATES:
            raise ValueError(f"state: expected one of {list(STATES)}, got {record.state!r}")
    by_state = Counter(r.state for r in records)
    rate, interval = _rate(by_state["accepted"], by_state["refused"])
    days = _decision_days(records)
    return AcceptanceSummary(
        offered=sum(1 for r in records if r.offered_on is not None),
        accepted=by_state["accepted"],
        refused=by_state["refused"],
        pending=by_state["offered"],
        not_offered=by_state["not_offered"],
        rate=rate,
        interval=interval,
        reasons=refusal_reasons(records),
        decision_days=_quartiles(days),
        decided_with_days=len(days),
        series=_series(records),
    )
