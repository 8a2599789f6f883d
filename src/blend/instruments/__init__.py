"""``blend.instruments``: questionnaires and clinical scores, exact and validated.

Pure Python + numpy (no Django). One library used by the forms, the patient
questionnaires, the exports and the analysis::

    from blend.instruments import score, score_frame, get_instrument
    score("qlq-c15-pal", {"q1": 1, "q2": 2, ...})   # {"PF": 73.33..., ...}

See docs/instruments.md for the codes, scoring rules and every ambiguity choice.
"""

from __future__ import annotations

from blend.instruments.api import get_instrument, instrument_codes, score, score_frame
from blend.instruments.errors import InstrumentError
from blend.instruments.model import (
    PLACEHOLDER_PREFIX,
    Instrument,
    Item,
    Option,
    OptionSpec,
    Scale,
    ScoreValue,
)

__all__ = [
    "PLACEHOLDER_PREFIX",
    "Instrument",
    "InstrumentError",
    "Item",
    "Option",
    "OptionSpec",
    "Scale",
    "ScoreValue",
    "get_instrument",
    "instrument_codes",
    "score",
    "score_frame",
]
