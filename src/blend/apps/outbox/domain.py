"""Arm-blindness of participant messages (TwiCs).

A control participant does not know there is a trial, and every cohort member gets
the same messages, so no text a participant receives may mention the trial, arms,
randomization or the intervention. ``check_text`` returns the forbidden terms found;
the system check ``outbox.E001`` runs it over every participant template at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cache

from blend.protocol import ProtocolError, Trial, load_protocol, load_trials

# English and Dutch words that reveal a trial, an allocation or the experimental treatment.
FORBIDDEN_TERMS = (
    "trial",
    "randomi",
    "allocat",
    "arm",
    "arms",
    "intervention",
    "control group",
    "controlegroep",
    "controle-groep",
    "experimental",
    "experimenteel",
    "experimentele",
    "same-day",
    "same day",
    "sbrt",
    "stereotact",
    "stereotactisch",
    "loting",
    "geloot",
    "gerandomiseerd",
    "toewijzing",
    "toegewezen",
    "interventie",
    "dezelfde dag",
    "twics",
    "placebo",
)


def _compile(terms: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    patterns = []
    for term in terms:
        # Prefixes such as "randomi" match whole word starts; other terms match whole words.
        tail = r"\w*" if term in {"randomi", "allocat", "stereotact"} else r"\b"
        patterns.append((term, re.compile(r"\b" + re.escape(term) + tail, re.IGNORECASE)))
    return tuple(patterns)


def _shipped_trials() -> Mapping[str, Trial]:
    return load_trials()


# Where the hosted trials come from: the shipped ones (and BLEND_TRIALS_DIRS) here, in pure
# code; the outbox app points it at every registered trial too (``OutboxConfig.ready``).
_trials_source: Callable[[], Mapping[str, Trial]] = _shipped_trials


def use_trials(source: Callable[[], Mapping[str, Trial]]) -> None:
    """Read the hosted trials from ``source`` from now on (and forget what was read)."""
    global _trials_source
    _trials_source = source
    for cached in (_trial_names, _patterns, _disclosure_patterns):
        cached.cache_clear()


@cache
def _trial_names() -> tuple[tuple[str, str, bool], ...]:
    """(code, registration, still running) of every trial the cohort hosts."""
    protocol = load_protocol()
    names = {protocol.trial_code: (protocol.registration, True)}
    try:
        hosted = _trials_source()
    except ProtocolError:  # a broken registered folder: trials.E001 reports it at start-up
        hosted = _shipped_trials()
    for trial in hosted.values():
        names[trial.code] = (trial.registration, trial.status != "completed")
    return tuple((code, registration, running) for code, (registration, running) in names.items())


@cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    names = tuple(name for code, reg, _ in _trial_names() for name in (code, reg) if name)
    return _compile((*FORBIDDEN_TERMS, *names))


def _any_pattern() -> re.Pattern[str]:
    """Every forbidden term in one alternation (same flags): one search finds whether any is
    there. Keyed on the terms themselves, so it is never older than ``_patterns``."""
    return _alternation(_patterns())


@cache
def _alternation(patterns: tuple[tuple[str, re.Pattern[str]], ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p.pattern})" for _t, p in patterns), re.IGNORECASE)


def check_text(text: str) -> list[str]:
    """The forbidden terms found in ``text`` (empty when it is arm-blind). An arm-blind
    text, the common case, costs one search instead of one per term (a reminder run
    checks every message twice)."""
    if not _any_pattern().search(text):
        return []
    return [term for term, pattern in _patterns() if pattern.search(text)]


@cache
def _disclosure_patterns(trial: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    running = tuple(
        name
        for code, reg, still_running in _trial_names()
        if still_running and code != trial
        for name in (code, reg)
        if name
    )
    return _compile(running)


def check_disclosure_text(text: str, trial: str) -> list[str]:
    """Stage 3 of staged consent: once ``trial`` is completed and its results released,
    its participants are told the results and their own group, so the message may name
    the trial, randomization and the arms. It still may not name a trial that is running:
    the arm-blind check stays on for every other trial."""
    return [term for term, pattern in _disclosure_patterns(trial) if pattern.search(text)]
