"""Vectorized building blocks shared by the scorers (numpy only).

Scorers receive an n x n_items matrix and return arrays, so one implementation
serves both ``score`` (one row) and ``score_frame``. The matrix is float with NaN for
missing answers, or integer when the answers are complete (a validated integer
DataFrame): the helpers then skip every missing-value step, which keeps
``score_frame`` close to the speed of a bare table lookup.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def mean_of_answered(x: np.ndarray, cols: Sequence[int], min_items: int) -> np.ndarray:
    """Mean of the answered items per row; NaN when fewer than ``min_items`` are answered."""
    cols = list(cols)
    if x.dtype.kind != "f":  # complete answers
        total = x[:, cols[0]].astype(float)
        for c in cols[1:]:
            total += x[:, c]
        return total / len(cols)
    sub = x[:, cols]
    answered = ~np.isnan(sub)
    count = answered.sum(axis=1)
    total = np.where(answered, sub, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    return np.where(count >= min_items, mean, np.nan)


def eortc_linear(raw: np.ndarray, kind: str, item_range: float) -> np.ndarray:
    """EORTC linear transformation of a raw (mean) score to 0-100 (QLQ-C30 manual)."""
    if kind == "functional":
        return (1.0 - (raw - 1.0) / item_range) * 100.0
    return (raw - 1.0) / item_range * 100.0


def table_lookup(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``table[index]`` with NaN where the index is NaN (a missing input)."""
    if index.dtype.kind != "f":
        return table[index]
    missing = np.isnan(index)
    if not missing.any():
        return table[index.astype(np.intp)]
    safe = np.where(missing, 0, index).astype(np.intp)
    return np.where(missing, np.nan, table[safe])


def half(n_items: int) -> int:
    """The EORTC half rule: at least half of the items answered (ceil(n/2))."""
    return (n_items + 1) // 2
