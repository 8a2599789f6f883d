"""Arm-blindness of participant messages (TwiCs).

A control participant does not know there is a trial, and every cohort member gets
the same messages, so no text a participant receives may mention the trial, arms,
randomization or the intervention. ``check_text`` returns the forbidden terms found;
the system check ``outbox.E001`` runs it over every participant template at start-up.
"""

from __future__ import annotations

import re
from functools import cache

from blend.protocol import load_protocol

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


@cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    protocol = load_protocol()
    terms = (*FORBIDDEN_TERMS, protocol.trial_code, protocol.registration)
    patterns = []
    for term in terms:
        # Prefixes such as "randomi" match whole word starts; other terms match whole words.
        tail = r"\w*" if term in {"randomi", "allocat", "stereotact"} else r"\b"
        patterns.append((term, re.compile(r"\b" + re.escape(term) + tail, re.IGNORECASE)))
    return tuple(patterns)


def check_text(text: str) -> list[str]:
    """The forbidden terms found in ``text`` (empty when it is arm-blind)."""
    return [term for term, pattern in _patterns() if pattern.search(text)]
