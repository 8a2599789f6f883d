"""EORTC QLQ-C30 v3.0 and QLQ-C15-PAL: items, scales and scoring.

Sources (see docs/instruments.md and shared reference instruments.md §1-2):
- QLQ-C30 Scoring Manual, 3rd ed. (Fayers et al. 2001): linear transformation, half rule.
- QLQ-C30 summary score: Giesinger et al., J Clin Epidemiol 2016;69:79-88.
- QLQ-C15-PAL: Groenvold & Petersen 2006 scoring addendum, as implemented in the Stata
  ``qlqc15`` package (Bruun 2016): conversion tables for PF, EF, FA and NV.

The questionnaires are copyrighted by the EORTC; the official Dutch text is licensed
and is loaded from a translation file (``blend.instruments.translations``). Until then
the Dutch wording is a clearly marked placeholder.
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
from blend.instruments.scoring import eortc_linear, half, mean_of_answered, table_lookup

C30_WORDING: dict[int, str] = {
    1: "Do you have any trouble doing strenuous activities, like carrying a heavy shopping bag "
    "or a suitcase?",
    2: "Do you have any trouble taking a long walk?",
    3: "Do you have any trouble taking a short walk outside of the house?",
    4: "Do you need to stay in bed or a chair during the day?",
    5: "Do you need help with eating, dressing, washing yourself or using the toilet?",
    6: "Were you limited in doing either your work or other daily activities?",
    7: "Were you limited in pursuing your hobbies or other leisure time activities?",
    8: "Were you short of breath?",
    9: "Have you had pain?",
    10: "Did you need to rest?",
    11: "Have you had trouble sleeping?",
    12: "Have you felt weak?",
    13: "Have you lacked appetite?",
    14: "Have you felt nauseated?",
    15: "Have you vomited?",
    16: "Have you been constipated?",
    17: "Have you had diarrhea?",
    18: "Were you tired?",
    19: "Did pain interfere with your daily activities?",
    20: "Have you had difficulty in concentrating on things, like reading a newspaper or "
    "watching television?",
    21: "Did you feel tense?",
    22: "Did you worry?",
    23: "Did you feel irritable?",
    24: "Did you feel depressed?",
    25: "Have you had difficulty remembering things?",
    26: "Has your physical condition or medical treatment interfered with your family life?",
    27: "Has your physical condition or medical treatment interfered with your social activities?",
    28: "Has your physical condition or medical treatment caused you financial difficulties?",
    29: "How would you rate your overall health during the past week?",
    30: "How would you rate your overall quality of life during the past week?",
}

# QLQ-C15-PAL item number -> QLQ-C30 item number (shared reference §1.1).
C15_TO_C30: dict[int, int] = {
    1: 3, 2: 4, 3: 5, 4: 8, 5: 9, 6: 11, 7: 12, 8: 13,
    9: 14, 10: 16, 11: 18, 12: 19, 13: 21, 14: 24, 15: 30,
}  # fmt: skip

FOUR_POINT = choice_options(
    range(1, 5),
    {1: "Not at all", 2: "A little", 3: "Quite a bit", 4: "Very much"},
    {
        v: placeholder_nl(t)
        for v, t in {1: "Not at all", 2: "A little", 3: "Quite a bit", 4: "Very much"}.items()
    },
)
SEVEN_POINT = choice_options(
    range(1, 8),
    {1: "1 Very poor", 7: "7 Excellent"},
    {1: placeholder_nl("1 Very poor"), 7: placeholder_nl("7 Excellent")},
)
PAST_WEEK = "During the past week:"
SEVEN_POINT_HEADER = (
    "For the following question please circle the number between 1 and 7 that best applies to you"
)
INSTRUCTIONS = (
    "We are interested in some things about you and your health. Please answer all of the "
    "questions yourself by circling the number that best applies to you. There are no "
    '"right" or "wrong" answers.'
)


def _item(key: str, c30_number: int, past_week: bool) -> Item:
    text = C30_WORDING[c30_number]
    header = SEVEN_POINT_HEADER if c30_number >= 29 else PAST_WEEK if past_week else ""
    return Item(
        key=key,
        text_en=text,
        text_nl=placeholder_nl(text),
        options=SEVEN_POINT if c30_number >= 29 else FOUR_POINT,
        placeholder=True,
        header_en=header,
        header_nl=placeholder_nl(header) if header else "",
    )


# Header "During the past week:" over C30 items 6-28 and C15-PAL items 4-14.
C30_ITEMS = tuple(_item(f"q{n}", n, past_week=n >= 6) for n in range(1, 31))
C15_ITEMS = tuple(_item(f"q{n}", C15_TO_C30[n], past_week=n >= 4) for n in range(1, 16))

# (key, label, C30 items, kind, item range)
C30_SCALES: tuple[tuple[str, str, tuple[int, ...], str, int], ...] = (
    ("QL2", "Global health status / QoL", (29, 30), "global", 6),
    ("PF2", "Physical functioning", (1, 2, 3, 4, 5), "functional", 3),
    ("RF2", "Role functioning", (6, 7), "functional", 3),
    ("EF", "Emotional functioning", (21, 22, 23, 24), "functional", 3),
    ("CF", "Cognitive functioning", (20, 25), "functional", 3),
    ("SF", "Social functioning", (26, 27), "functional", 3),
    ("FA", "Fatigue", (10, 12, 18), "symptom", 3),
    ("NV", "Nausea and vomiting", (14, 15), "symptom", 3),
    ("PA", "Pain", (9, 19), "symptom", 3),
    ("DY", "Dyspnoea", (8,), "symptom", 3),
    ("SL", "Insomnia", (11,), "symptom", 3),
    ("AP", "Appetite loss", (13,), "symptom", 3),
    ("CO", "Constipation", (16,), "symptom", 3),
    ("DI", "Diarrhoea", (17,), "symptom", 3),
    ("FI", "Financial difficulties", (28,), "symptom", 3),
)
SUMMARY_FUNCTIONAL = ("PF2", "RF2", "EF", "CF", "SF")
SUMMARY_SYMPTOM = ("FA", "NV", "PA", "DY", "SL", "AP", "CO", "DI")


def score_c30(x: np.ndarray, options: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """All 15 QLQ-C30 scales (half rule) and the summary score (all 13 scales required)."""
    out: dict[str, np.ndarray] = {}
    for key, _, items, kind, item_range in C30_SCALES:
        cols = [n - 1 for n in items]
        raw = mean_of_answered(x, cols, half(len(cols)))
        out[key] = eortc_linear(raw, kind, item_range)
    # NaN in any of the 13 scales propagates: the summary needs all of them.
    total = np.asarray(
        sum(out[k] for k in SUMMARY_FUNCTIONAL) + sum(100.0 - out[k] for k in SUMMARY_SYMPTOM)
    )
    out["SUM"] = total / 13.0
    return out


# C15-PAL conversion tables (Groenvold & Petersen 2006 addendum via Stata qlqc15),
# indexed by the raw item sum (PF, EF), by (weak-1)*4 + (tired-1) (FA) or by the item (NV).
# Each value is a possible score of the longer C30 scale: k x 100/15, /12, /9, /6.
_NAN3 = [np.nan] * 3
PF_TABLE = np.array(_NAN3 + [14, 11, 9, 7, 5, 4, 3, 2, 1, 0], dtype=float) * 100.0 / 15.0
EF_TABLE = np.array(_NAN3[:2] + [12, 10, 8, 6, 5, 2, 0], dtype=float) * 100.0 / 12.0
FA_TABLE = np.array(
    [[0, 2, 3, 5],  # weak = 1; columns tired = 1..4
     [2, 3, 5, 6],
     [3, 4, 6, 8],
     [4, 6, 8, 9]], dtype=float,
).ravel() * 100.0 / 9.0  # fmt: skip
NV_TABLE = np.array([np.nan, 0, 1, 3, 6], dtype=float) * 100.0 / 6.0

# Standard-scored C15-PAL scales: (key, C15 items, kind, item range).
C15_STANDARD: tuple[tuple[str, tuple[int, ...], str, int], ...] = (
    ("PA", (5, 12), "symptom", 3),
    ("DY", (4,), "symptom", 3),
    ("SL", (6,), "symptom", 3),
    ("AP", (8,), "symptom", 3),
    ("CO", (10,), "symptom", 3),
    ("QL", (15,), "global", 6),
)
C15_MISSING = ("complete", "half-rule")


def score_c15(x: np.ndarray, options: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """All ten QLQ-C15-PAL scales.

    PF/EF/FA/NV use the conversion tables and need every item of the scale (the tables
    are defined on complete item sets). With ``missing="half-rule"`` the standard-scored
    multi-item scale PA uses the C30 half rule (1 of 2 items); the default
    ``"complete"`` requires both, as the Stata reference implementation does.
    """
    q = {n: x[:, n - 1] for n in range(1, 16)}
    out = {
        "PF": table_lookup(PF_TABLE, q[1] + q[2] + q[3]),
        "EF": table_lookup(EF_TABLE, q[13] + q[14]),
        # Integer constants keep complete (integer) answers integer: a direct table index.
        "FA": table_lookup(FA_TABLE, (q[7] - 1) * 4 + (q[11] - 1)),
        "NV": table_lookup(NV_TABLE, q[9]),
    }
    half_rule = options.get("missing") == "half-rule"
    for key, items, kind, item_range in C15_STANDARD:
        cols = [n - 1 for n in items]
        needed = half(len(cols)) if half_rule else len(cols)
        out[key] = eortc_linear(mean_of_answered(x, cols, needed), kind, item_range)
    return {key: out[key] for key in C15_SCORE_KEYS}


C15_SCORE_KEYS = ("PF", "EF", "FA", "NV", "PA", "DY", "SL", "AP", "CO", "QL")
_C15_LABELS = {
    "PF": ("Physical functioning", (1, 2, 3), "functional"),
    "EF": ("Emotional functioning", (13, 14), "functional"),
    "FA": ("Fatigue", (7, 11), "symptom"),
    "NV": ("Nausea and vomiting", (9,), "symptom"),
    "PA": ("Pain", (5, 12), "symptom"),
    "DY": ("Dyspnoea", (4,), "symptom"),
    "SL": ("Insomnia", (6,), "symptom"),
    "AP": ("Appetite loss", (8,), "symptom"),
    "CO": ("Constipation", (10,), "symptom"),
    "QL": ("Overall quality of life", (15,), "global"),
}

QLQ_C15_PAL = Instrument(
    code="qlq-c15-pal",
    title_en="EORTC QLQ-C15-PAL",
    title_nl=placeholder_nl("EORTC QLQ-C15-PAL"),
    source="Groenvold et al., Eur J Cancer 2006;42:55-64; scoring addendum Groenvold & "
    "Petersen 2006 (tables via Stata qlqc15, Bruun 2016); QLQ-C30 Scoring Manual 3rd ed.",
    items=C15_ITEMS,
    scales=tuple(
        Scale(k, label, tuple(f"q{n}" for n in items), kind, 0.0, 100.0)  # type: ignore[arg-type]
        for k, (label, items, kind) in _C15_LABELS.items()
    ),
    missing_rule="PF, EF, FA, NV (conversion tables) and single-item scales need all their "
    "items. PA needs both items by default; option missing='half-rule' accepts 1 of 2 "
    "(QLQ-C30 manual half rule).",
    options=(
        OptionSpec(
            "missing",
            "complete",
            C15_MISSING,
            "PA missing-item rule: 'complete' (both items) or 'half-rule' (1 of 2)",
        ),
    ),
    instructions_en=INSTRUCTIONS,
    instructions_nl=placeholder_nl(INSTRUCTIONS),
    licensed=True,
    version="2006",
    scorer=score_c15,
)

QLQ_C30 = Instrument(
    code="qlq-c30",
    title_en="EORTC QLQ-C30 version 3.0",
    title_nl=placeholder_nl("EORTC QLQ-C30 version 3.0"),
    source="Aaronson et al., JNCI 1993; QLQ-C30 Scoring Manual 3rd ed. (Fayers et al. 2001); "
    "summary score Giesinger et al., J Clin Epidemiol 2016;69:79-88",
    items=C30_ITEMS,
    scales=tuple(
        Scale(k, label, tuple(f"q{n}" for n in items), kind, 0.0, 100.0)  # type: ignore[arg-type]
        for k, label, items, kind, _ in C30_SCALES
    )
    + (
        Scale(
            "SUM", "Summary score", tuple(f"q{n}" for n in range(1, 28)), "functional", 0.0, 100.0
        ),
    ),
    missing_rule="Half rule: a scale is scored from the answered items when at least half "
    "of its items are answered (PF2 3/5, FA 2/3, EF 2/4, two-item scales 1/2, single items "
    "1/1). SUM needs all 13 of its scales.",
    instructions_en=INSTRUCTIONS,
    instructions_nl=placeholder_nl(INSTRUCTIONS),
    licensed=True,
    version="3.0",
    scorer=score_c30,
)

INSTRUMENTS = (QLQ_C15_PAL, QLQ_C30)
