"""Brief Pain Inventory, short form (Cleeland 2009 User Guide): severity and interference.

Severity = mean of worst, least, average and now (items 3-6). The User Guide gives no
missing-item rule for severity; by default all four are required (option
``severity_min_items`` lowers that). Interference = mean of the seven items 9A-G,
scored when at least four are answered (User Guide: "more than 50%, or four of seven").
The BPI is copyrighted (MD Anderson); Dutch wording is a placeholder until the licensed
translation is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from blend.instruments.model import (
    Instrument,
    Item,
    OptionSpec,
    Scale,
    choice_options,
    placeholder_nl,
)
from blend.instruments.scoring import mean_of_answered

SEVERITY = {
    "worst": "Please rate your pain by marking the number that best describes your pain at its "
    "worst in the last 24 hours.",
    "least": "Please rate your pain by marking the number that best describes your pain at its "
    "least in the last 24 hours.",
    "average": "Please rate your pain by marking the number that best describes your pain on "
    "the average.",
    "now": "Please rate your pain by marking the number that tells how much pain you have "
    "right now.",
}
INTERFERENCE = {
    "activity": "General activity",
    "mood": "Mood",
    "walking": "Walking ability",
    "work": "Normal work (includes both work outside the home and housework)",
    "relations": "Relations with other people",
    "sleep": "Sleep",
    "enjoyment": "Enjoyment of life",
}
INTERFERENCE_HEADER = (
    "Mark the number that describes how, during the past 24 hours, pain has interfered with your:"
)
PAIN_ANCHORS = {0: "No pain", 10: "Pain as bad as you can imagine"}
INTERFERENCE_ANCHORS = {0: "Does not interfere", 10: "Completely interferes"}


def _options(anchors: dict[int, str]) -> tuple:
    return choice_options(range(11), anchors, {k: placeholder_nl(v) for k, v in anchors.items()})


def _items() -> tuple[Item, ...]:
    severity = tuple(
        Item(key, text, placeholder_nl(text), _options(PAIN_ANCHORS), placeholder=True)
        for key, text in SEVERITY.items()
    )
    interference = tuple(
        Item(
            key,
            text,
            placeholder_nl(text),
            _options(INTERFERENCE_ANCHORS),
            placeholder=True,
            header_en=INTERFERENCE_HEADER,
            header_nl=placeholder_nl(INTERFERENCE_HEADER),
        )
        for key, text in INTERFERENCE.items()
    )
    return severity + interference


INTERFERENCE_MIN_ITEMS = 4


def score_bpi(x: np.ndarray, options: Mapping[str, Any]) -> dict[str, np.ndarray]:
    return {
        "severity": mean_of_answered(x, range(4), int(options["severity_min_items"])),
        "interference": mean_of_answered(x, range(4, 11), INTERFERENCE_MIN_ITEMS),
    }


BPI_SF = Instrument(
    code="bpi-sf",
    title_en="Brief Pain Inventory (short form)",
    title_nl=placeholder_nl("Brief Pain Inventory (short form)"),
    source="Cleeland CS. The Brief Pain Inventory User Guide, 2009 (MD Anderson)",
    items=_items(),
    scales=(
        Scale(
            "severity", "Pain severity (mean of items 3-6)", tuple(SEVERITY), "symptom", 0.0, 10.0
        ),
        Scale(
            "interference",
            "Pain interference (mean of items 9A-G)",
            tuple(INTERFERENCE),
            "symptom",
            0.0,
            10.0,
        ),
    ),
    missing_rule="severity: all 4 items by default (option severity_min_items, 1-4); "
    "interference: at least 4 of 7 items (BPI User Guide).",
    options=(
        OptionSpec(
            "severity_min_items",
            4,
            (1, 2, 3, 4),
            "how many of the 4 severity items must be answered",
        ),
    ),
    licensed=True,
    version="2009",
    scorer=score_bpi,
)

INSTRUMENTS = (BPI_SF,)
