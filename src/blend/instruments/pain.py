"""Worst-pain NRS and the consensus pain response (CR, PR, PP, IR).

Pain response follows the update of the international consensus on palliative
radiotherapy endpoints for bone metastases (Chow et al., IJROBP 2012;82:1730-1737),
from worst pain (0-10) at the treated site and OMED (mg/day) at baseline and
follow-up. The published definitions leave several choices open; each is an explicit
option, with the literal reading as the default (docs/instruments.md, "Pain response"):

a ``analgesic_increase``  what disqualifies CR/PR: ``any`` OMED increase (default) or
                          only an increase of ``25pct`` or more.
b ``stable_omed``         "stable OMED" in PP: ``within_25pct`` (0.75 bl < fu < 1.25 bl,
                          exactly unchanged when bl = 0; default) or ``unchanged``.
c ``zero_baseline_omed``  baseline OMED 0: ``any_increase`` (default; any follow-up
                          OMED > 0 is a >=25% increase) or ``not_evaluable`` (None).
d ``contradictory``       pain +2 or more together with OMED +25% or more:
                          ``indeterminate`` (default, literal) or ``progression``.
e ``cr_rule``             ``cr_overrides_pr`` (default: CR whenever its definition holds)
                          or ``cr_requires_pr`` (CR also needs a >=2-point reduction).
f ``pain_stable``         "pain stable or 1 point above baseline" in PP: change of
                          ``0_or_plus1`` (default) or ``minus1_to_plus1``.
- ``min_baseline_pain``   None (default) or 0-10: below it the category is None
                          (not evaluable), e.g. 2 per the usual consensus eligibility.

Any missing input gives category None.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from blend.instruments.model import Instrument, Item, OptionSpec, Scale, choice_options

NRS_EN = {0: "No pain", 10: "Pain as bad as you can imagine"}
NRS_NL = {0: "Geen pijn", 10: "Ergst denkbare pijn"}
NRS_OPTIONS = choice_options(range(11), NRS_EN, NRS_NL)
WORST_EN = (
    "Please rate the pain at the treated site at its worst in the last 24 hours "
    "(0 = no pain, 10 = pain as bad as you can imagine)."
)
WORST_NL = (
    "Hoe erg was de pijn op de behandelde plek op zijn ergst in de afgelopen 24 uur "
    "(0 = geen pijn, 10 = ergst denkbare pijn)?"
)

PAIN_NRS = Instrument(
    code="pain-nrs",
    title_en="Worst pain at the treated site (NRS 0-10)",
    title_nl="Ergste pijn op de behandelde plek (NRS 0-10)",
    source="11-point numeric rating scale as used by the consensus endpoints (Chow 2012) "
    "and BPI item 3; wording is BLEND's own (not licensed text)",
    items=(Item("worst_pain", WORST_EN, WORST_NL, NRS_OPTIONS),),
    scales=(Scale("worst_pain", "Worst pain (0-10)", ("worst_pain",), "symptom", 0.0, 10.0),),
    missing_rule="Missing when not answered.",
    scorer=lambda x, _options: {"worst_pain": x[:, 0].copy()},
)

CATEGORIES = ("CR", "PR", "PP", "IR")
RESPONSE_OPTIONS = (
    OptionSpec(
        "analgesic_increase", "any", ("any", "25pct"), "(a) OMED increase that rules out CR/PR"
    ),
    OptionSpec(
        "stable_omed",
        "within_25pct",
        ("within_25pct", "unchanged"),
        "(b) meaning of 'stable OMED' in PP",
    ),
    OptionSpec(
        "zero_baseline_omed",
        "any_increase",
        ("any_increase", "not_evaluable"),
        "(c) baseline OMED 0 and follow-up OMED > 0",
    ),
    OptionSpec(
        "contradictory",
        "indeterminate",
        ("indeterminate", "progression"),
        "(d) pain +2 or more together with OMED +25% or more",
    ),
    OptionSpec(
        "cr_rule", "cr_overrides_pr", ("cr_overrides_pr", "cr_requires_pr"), "(e) CR precedence"
    ),
    OptionSpec(
        "pain_stable",
        "0_or_plus1",
        ("0_or_plus1", "minus1_to_plus1"),
        "(f) 'pain stable or 1 point above baseline' in PP",
    ),
    OptionSpec(
        "min_baseline_pain",
        None,
        (None, *range(11)),
        "baseline worst pain below this is not evaluable (None)",
    ),
)


def _omed_changes(bl: np.ndarray, fu: np.ndarray, options: Mapping[str, Any]) -> dict[str, Any]:
    zero = bl == 0
    with np.errstate(invalid="ignore"):
        up25 = np.where(zero, fu > 0, fu >= 1.25 * bl)
        down25 = ~zero & (fu <= 0.75 * bl)
        within = np.where(zero, fu == 0, (fu > 0.75 * bl) & (fu < 1.25 * bl))
    stable = within if options["stable_omed"] == "within_25pct" else fu == bl
    no_increase = fu <= bl if options["analgesic_increase"] == "any" else ~up25
    return {"up25": up25, "down25": down25, "stable": stable, "no_increase": no_increase}


def classify(
    bl_pain: np.ndarray,
    bl_omed: np.ndarray,
    fu_pain: np.ndarray,
    fu_omed: np.ndarray,
    options: Mapping[str, Any],
) -> np.ndarray:
    """Consensus category per row (object array of 'CR', 'PR', 'PP', 'IR' or None)."""
    change = fu_pain - bl_pain
    omed = _omed_changes(bl_omed, fu_omed, options)
    low = -1 if options["pain_stable"] == "minus1_to_plus1" else 0
    cr = (fu_pain == 0) & omed["no_increase"]
    if options["cr_rule"] == "cr_requires_pr":
        cr &= change <= -2
    pr = ((change <= -2) & omed["no_increase"]) | (omed["down25"] & (change <= 0))
    pp = ((change >= 2) & omed["stable"]) | (omed["up25"] & (change >= low) & (change <= 1))
    if options["contradictory"] == "progression":
        pp |= (change >= 2) & omed["up25"]
    category = np.select([cr, pr, pp], ["CR", "PR", "PP"], default="IR").astype(object)
    missing = np.isnan(bl_pain) | np.isnan(bl_omed) | np.isnan(fu_pain) | np.isnan(fu_omed)
    if options["zero_baseline_omed"] == "not_evaluable":
        missing |= (bl_omed == 0) & (fu_omed > 0)
    if options["min_baseline_pain"] is not None:
        missing |= bl_pain < options["min_baseline_pain"]
    category[missing] = None
    return category


def score_response(x: np.ndarray, options: Mapping[str, Any]) -> dict[str, np.ndarray]:
    return {"category": classify(x[:, 0], x[:, 1], x[:, 2], x[:, 3], options)}


def _omed_item(key: str, when_en: str, when_nl: str) -> Item:
    return Item(
        key,
        f"OMED at {when_en} (mg/day)",
        f"OMED bij {when_nl} (mg/dag)",
        kind="number",
        minimum=0.0,
        maximum=math.inf,
        unit="mg/day",
    )


PAIN_RESPONSE = Instrument(
    code="pain-response",
    title_en="Pain response (international consensus, Chow 2012)",
    title_nl="Pijnrespons (internationale consensus, Chow 2012)",
    source="Chow E et al. Update of the international consensus on palliative radiotherapy "
    "endpoints for future clinical trials in bone metastases. IJROBP 2012;82:1730-1737",
    items=(
        Item(
            "baseline_worst_pain",
            "Worst pain at baseline (0-10)",
            "Ergste pijn bij baseline (0-10)",
            NRS_OPTIONS,
        ),
        _omed_item("baseline_omed", "baseline", "baseline"),
        Item(
            "followup_worst_pain",
            "Worst pain at follow-up (0-10)",
            "Ergste pijn bij follow-up (0-10)",
            NRS_OPTIONS,
        ),
        _omed_item("followup_omed", "follow-up", "follow-up"),
    ),
    scales=(Scale("category", "Consensus pain response: CR, PR, PP or IR", categorical=True),),
    missing_rule="Any missing input gives category None.",
    options=RESPONSE_OPTIONS,
    scorer=score_response,
)

INSTRUMENTS = (PAIN_NRS, PAIN_RESPONSE)
