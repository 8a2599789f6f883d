"""EQ-5D-5L with the Dutch value set (Versteegh et al., Value Health 2016;19:343-352).

index = 1 - constant - MO[l] - SC[l] - UA[l] - PD[l] - AD[l]; the constant applies to
every state except 11111. Option ``coefficients``: ``published`` (the paper's 3-decimal
coefficients, default; result rounded to 3 decimals, which is exact for sums of
3-decimal numbers) or ``unrounded`` (derived exactly from EuroQol's eq5dsuite NL value
set; result rounded to 7 decimals, the precision of that set). The VAS (0-100) is
returned as given. EQ-5D is a EuroQol trademark; Dutch wording is a placeholder until
the licensed version is loaded.
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

DIMENSIONS = ("mobility", "self_care", "usual_activities", "pain_discomfort", "anxiety_depression")

# Decrements for levels 1..5 per dimension, and the constant (shared reference §8).
COEFFICIENTS: dict[str, dict[str, tuple[float, ...]]] = {
    "published": {
        "constant": (0.047,),
        "mobility": (0.0, 0.035, 0.057, 0.166, 0.203),
        "self_care": (0.0, 0.038, 0.061, 0.168, 0.168),
        "usual_activities": (0.0, 0.039, 0.087, 0.192, 0.192),
        "pain_discomfort": (0.0, 0.066, 0.092, 0.360, 0.415),
        "anxiety_depression": (0.0, 0.070, 0.145, 0.356, 0.421),
    },
    "unrounded": {
        "constant": (0.0469233,),
        "mobility": (0.0, 0.0354544, 0.0565962, 0.1660030, 0.2032975),
        "self_care": (0.0, 0.0381079, 0.0605347, 0.1677852, 0.1677852),
        "usual_activities": (0.0, 0.0391539, 0.0867559, 0.1924631, 0.1924631),
        "pain_discomfort": (0.0, 0.0658959, 0.0919691, 0.3599300, 0.4152142),
        "anxiety_depression": (0.0, 0.0696220, 0.1445222, 0.3563913, 0.4206361),
    },
}
DECIMALS = {"published": 3, "unrounded": 7}

LEVELS_EN: dict[str, tuple[str, ...]] = {
    "mobility": (
        "I have no problems in walking about",
        "I have slight problems in walking about",
        "I have moderate problems in walking about",
        "I have severe problems in walking about",
        "I am unable to walk about",
    ),
    "self_care": (
        "I have no problems washing or dressing myself",
        "I have slight problems washing or dressing myself",
        "I have moderate problems washing or dressing myself",
        "I have severe problems washing or dressing myself",
        "I am unable to wash or dress myself",
    ),
    "usual_activities": (
        "I have no problems doing my usual activities",
        "I have slight problems doing my usual activities",
        "I have moderate problems doing my usual activities",
        "I have severe problems doing my usual activities",
        "I am unable to do my usual activities",
    ),
    "pain_discomfort": (
        "I have no pain or discomfort",
        "I have slight pain or discomfort",
        "I have moderate pain or discomfort",
        "I have severe pain or discomfort",
        "I have extreme pain or discomfort",
    ),
    "anxiety_depression": (
        "I am not anxious or depressed",
        "I am slightly anxious or depressed",
        "I am moderately anxious or depressed",
        "I am severely anxious or depressed",
        "I am extremely anxious or depressed",
    ),
}
TITLES_EN = {
    "mobility": "MOBILITY", "self_care": "SELF-CARE",
    "usual_activities": "USUAL ACTIVITIES (e.g. work, study, housework, family or leisure "
    "activities)",
    "pain_discomfort": "PAIN / DISCOMFORT", "anxiety_depression": "ANXIETY / DEPRESSION",
}  # fmt: skip
VAS_TEXT = (
    "We would like to know how good or bad your health is TODAY. 100 means the best health "
    "you can imagine, 0 means the worst health you can imagine. Please indicate on the scale "
    "how your health is TODAY."
)


def _dimension_item(key: str) -> Item:
    labels = dict(enumerate(LEVELS_EN[key], start=1))
    options = choice_options(range(1, 6), labels, {k: placeholder_nl(v) for k, v in labels.items()})
    return Item(key, TITLES_EN[key], placeholder_nl(TITLES_EN[key]), options, placeholder=True)


ITEMS = (
    *(_dimension_item(key) for key in DIMENSIONS),
    Item(
        "vas",
        VAS_TEXT,
        placeholder_nl(VAS_TEXT),
        placeholder=True,
        kind="number",
        minimum=0,
        maximum=100,
        integer=True,
    ),
)


def _tables(name: str) -> tuple[float, np.ndarray]:
    coefficients = COEFFICIENTS[name]
    # Row per dimension, column per level; column 0 is padding for the 1-based index.
    table = np.array([(np.nan, *coefficients[d]) for d in DIMENSIONS], dtype=float)
    return coefficients["constant"][0], table


def index_values(levels: np.ndarray, coefficients: str) -> np.ndarray:
    """Utility index for an n x 5 matrix of levels (NaN where any level is missing)."""
    constant, table = _tables(coefficients)
    missing = np.isnan(levels).any(axis=1)
    safe = np.where(np.isnan(levels), 1, levels).astype(np.intp)
    decrement = table[np.arange(5), safe].sum(axis=1)
    any_problem = (safe > 1).any(axis=1)
    value = 1.0 - decrement - np.where(any_problem, constant, 0.0)
    return np.where(missing, np.nan, np.round(value, DECIMALS[coefficients]))


def score_eq5d(x: np.ndarray, options: Mapping[str, Any]) -> dict[str, np.ndarray]:
    return {"index": index_values(x[:, :5], options["coefficients"]), "vas": x[:, 5].copy()}


EQ5D5L_NL = Instrument(
    code="eq5d5l-nl",
    title_en="EQ-5D-5L (Dutch value set)",
    title_nl=placeholder_nl("EQ-5D-5L"),
    source="Versteegh MM et al. Dutch Tariff for the Five-Level Version of EQ-5D. "
    "Value Health 2016;19(4):343-352 (3-decimal set); EuroQol eq5dsuite NL.csv (unrounded)",
    items=ITEMS,
    scales=(
        Scale("index", "Utility index (Dutch tariff)", DIMENSIONS, "global", -0.4463194, 1.0),
        Scale("vas", "EQ VAS", ("vas",), "global", 0.0, 100.0),
    ),
    missing_rule="index: all five dimensions required (no imputation); vas: missing if not "
    "answered.",
    options=(
        OptionSpec(
            "coefficients",
            "published",
            tuple(COEFFICIENTS),
            "'published' 3-decimal coefficients or EuroQol's 'unrounded' set",
        ),
    ),
    licensed=True,
    version="5L",
    scorer=score_eq5d,
)

INSTRUMENTS = (EQ5D5L_NL,)
