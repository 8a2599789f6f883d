"""The public scoring API: ``score``, ``score_frame``, ``get_instrument``.

Every instrument is scored by one vectorized function over a float matrix, so a
single response (``score``) and a million (``score_frame``) go through the same
arithmetic.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

from blend.instruments.errors import InstrumentError, describe
from blend.instruments.model import Instrument, ScoreValue
from blend.instruments.translations import translate
from blend.instruments.validation import answers_to_row, frame_to_matrix, resolve_options

if TYPE_CHECKING:
    import pandas as pd


@cache
def _registry() -> dict[str, Instrument]:
    from blend.instruments import bpi, clinical, ctcae, eortc, eq5d, opioids, pain

    modules = (eortc, bpi, eq5d, opioids, pain, clinical, ctcae)
    return {inst.code: inst for module in modules for inst in module.INSTRUMENTS}


def instrument_codes() -> tuple[str, ...]:
    """All instrument codes, in a stable order."""
    return tuple(_registry())


def _definition(code: object) -> Instrument:
    registry = _registry()
    if not isinstance(code, str) or code not in registry:
        raise InstrumentError(
            f"instrument code: expected one of {', '.join(registry)}; received {describe(code)}"
        )
    return registry[code]


def untranslated(code: str) -> Instrument:
    """The definition as shipped, before any translation file (what a file is checked
    against)."""
    return _definition(code)


def get_instrument(code: str, translations: str | os.PathLike[str] | None = None) -> Instrument:
    """The definition of an instrument, for rendering forms.

    Dutch wording comes from the licensed translation file given here or in the
    ``BLEND_INSTRUMENT_TRANSLATIONS`` environment variable; without one, licensed
    questionnaires carry placeholder Dutch text and ``item.placeholder`` is True.
    """
    return translate(_definition(code), translations)


def score(code: str, answers: Mapping[str, Any], **options: Any) -> dict[str, ScoreValue]:
    """Score one response.

    Returns ``{score key: value}``; numeric scores are floats, ``None`` where a scale
    cannot be scored (missing items beyond the instrument's rule). Categorical results
    (pain-response ``category``, SINS ``category``, grades such as Bilsky ``grade``)
    are strings, flags are bools. Raises ``InstrumentError`` for bad input.
    """
    instrument = _definition(code)
    resolved = resolve_options(instrument, options)
    special = _special(instrument)
    if special is not None:
        return special.score_one(answers, resolved)
    row = answers_to_row(instrument, answers)
    arrays = _score_matrix(instrument, row, resolved)
    return {key: _scalar(values[0]) for key, values in arrays.items()}


def score_frame(code: str, df: pd.DataFrame, **options: Any) -> pd.DataFrame:
    """Score many responses (one per row of ``df``, columns = item keys), vectorized.

    Returns a DataFrame with one column per score key and the same index; NaN (numeric)
    or None (categorical) where a scale cannot be scored. Bad values raise
    ``InstrumentError`` naming the item and the row.
    """
    import pandas as pd

    instrument = _definition(code)
    resolved = resolve_options(instrument, options)
    special = _special(instrument)
    if special is not None:
        return special.score_frame(df, resolved)
    matrix = frame_to_matrix(instrument, df)
    arrays = _score_matrix(instrument, matrix, resolved)
    floats = {k: v.astype(float) if v.dtype.kind in "iub" else v for k, v in arrays.items()}
    return pd.DataFrame(floats, index=df.index, columns=list(floats))


def _score_matrix(
    instrument: Instrument, matrix: np.ndarray, options: Mapping[str, Any]
) -> dict[str, np.ndarray]:
    assert instrument.scorer is not None
    return instrument.scorer(matrix, options)


def _special(instrument: Instrument) -> Any:
    """Instruments whose answers are not a flat item -> value mapping (OMED)."""
    from blend.instruments import opioids

    return opioids if instrument.code == opioids.CODE else None


def _scalar(value: Any) -> ScoreValue:
    if value is None or isinstance(value, str | bool | np.bool_):
        return bool(value) if isinstance(value, np.bool_) else value
    number = float(value)
    return None if math.isnan(number) else number
