"""Overlap rules between the trials of one cohort (a trial's ``overlap.toml``; no Django).

A cohort member may be eligible for several trials. Each trial says, as configuration,
when a member already in another trial may not be randomized into it:

- ``not_during_primary_window``: not while in another trial's primary-outcome window
  (from randomization until that trial's primary timepoint window closes);
- ``one_treatment_episode``: one treatment episode, one trial;
- ``never_after``: never after having been randomized in one of ``trials``.

``refusals`` evaluates them for one member; the allocation service calls it under its
lock, and the screening pages show each refusal with the date it stops applying.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from blend.protocol.errors import ProtocolError, Said
from blend.protocol.reading import Table

NOT_DURING_PRIMARY_WINDOW = "not_during_primary_window"
ONE_TREATMENT_EPISODE = "one_treatment_episode"
NEVER_AFTER = "never_after"
KINDS = (NOT_DURING_PRIMARY_WINDOW, ONE_TREATMENT_EPISODE, NEVER_AFTER)


@dataclass(frozen=True)
class OverlapRule:
    kind: str
    trials: tuple[str, ...] = ()  # () = every other trial (never for never_after)

    def covers(self, trial: str) -> bool:
        return not self.trials or trial in self.trials

    def describe(self) -> str:
        others = ", ".join(self.trials) if self.trials else "another trial"
        if self.kind == NOT_DURING_PRIMARY_WINDOW:
            return f"not while in the primary-outcome window of {others}"
        if self.kind == ONE_TREATMENT_EPISODE:
            return f"one treatment episode, one trial ({others})"
        return f"never after {others}"


@dataclass(frozen=True)
class Membership:
    """A member's randomization in one trial: what the rules of the others read."""

    trial: str
    randomized_on: date
    treatment_started_on: date | None = None
    episode: str = ""  # the treatment episode it was randomized for, when recorded


@dataclass(frozen=True)
class Refusal:
    """One rule that keeps the member out. ``lifts_on`` is the first day it no longer
    applies; None when no date can be given (it never lifts, or not before the other
    trial's start of treatment is recorded)."""

    rule: OverlapRule
    trial: str  # the other trial
    reason: str
    lifts_on: date | None


def parse_overlap(
    overlap: Table, own: str, known_trials: Collection[str]
) -> tuple[OverlapRule, ...]:
    """Validate ``overlap.toml``; a rule may name only other trials of the cohort."""
    overlap.only({"rules"})
    rules = []
    for table in overlap.tables("rules", default=[]):
        table.only({"kind", "trials"})
        kind = table.choice("kind", KINDS)
        trials = table.texts("trials", default=(), non_empty=kind == NEVER_AFTER)
        if kind == NEVER_AFTER and not trials:
            raise table.error(
                "trials", "the trials it names (never_after needs at least one)", None
            )
        for code in trials:
            if code == own:
                raise table.error("trials", f"another trial than {own} itself", code)
            if code not in known_trials:
                raise table.error(
                    "trials",
                    f"a trial of the cohort ({', '.join(sorted(known_trials)) or 'none other'})",
                    Said(f"{code!r}, which is no registered trial"),
                )
        rules.append(OverlapRule(kind, trials))
    return tuple(rules)


def refusals(
    rules: Iterable[OverlapRule],
    memberships: Iterable[Membership],
    *,
    on: date,
    episode: str = "",
    primary_window_ends: Mapping[str, int],
) -> list[Refusal]:
    """Every rule that refuses randomizing the member on ``on`` (empty: none does).

    ``memberships`` are the member's randomizations in other trials; ``episode`` the
    treatment episode being screened; ``primary_window_ends`` maps each trial to the last
    day of its primary-outcome window, in days after the start of treatment
    (``Trial.primary_window``).
    """
    found = []
    memberships = list(memberships)
    for rule in rules:
        for membership in memberships:
            if rule.covers(membership.trial):
                refusal = _refusal(rule, membership, on, episode, primary_window_ends)
                if refusal is not None:
                    found.append(refusal)
    return found


def _refusal(
    rule: OverlapRule,
    membership: Membership,
    on: date,
    episode: str,
    window_ends: Mapping[str, int],
) -> Refusal | None:
    other = membership.trial
    if rule.kind == NEVER_AFTER:
        return Refusal(rule, other, f"randomized in {other} on {membership.randomized_on}", None)
    if rule.kind == ONE_TREATMENT_EPISODE:
        if episode and membership.episode == episode:
            return Refusal(rule, other, f"treatment episode {episode!r} is in {other}", None)
        return None
    if membership.treatment_started_on is None:
        return Refusal(
            rule,
            other,
            f"in {other} since {membership.randomized_on}; its primary-outcome "
            "window ends a set time after the start of treatment, not yet recorded",
            None,
        )
    if other not in window_ends:
        raise ProtocolError(f"membership in {other}: expected a trial of {sorted(window_ends)}")
    last_day = membership.treatment_started_on + timedelta(days=window_ends[other])
    if on > last_day:
        return None
    return Refusal(
        rule,
        other,
        f"in the primary-outcome window of {other} until {last_day}",
        last_day + timedelta(days=1),
    )
