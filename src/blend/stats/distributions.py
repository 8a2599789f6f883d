"""Reference distributions through `scipy.special` only.

`scipy.stats` costs about a second of import time; the special functions give the
same numbers (they are what `scipy.stats` calls) and keep `blend analyze` lean.
"""

from __future__ import annotations

import math

from scipy import special


def t_two_sided_p(t: float, df: float) -> float:
    """Two-sided p of a t statistic with `df` degrees of freedom."""
    return float(2.0 * special.stdtr(df, -abs(t)))


def t_quantile(p: float, df: float) -> float:
    return float(special.stdtrit(df, p))


def norm_two_sided_p(z: float) -> float:
    return float(2.0 * special.ndtr(-abs(z)))


def norm_quantile(p: float) -> float:
    return float(special.ndtri(p))


def chi2_sf(x: float, df: float) -> float:
    return float(special.chdtrc(df, x))


def t_ci(estimate: float, se: float, df: float, level: float = 0.95) -> list[float]:
    q = t_quantile(0.5 + level / 2.0, df) if math.isfinite(df) else norm_quantile(0.5 + level / 2)
    return [estimate - q * se, estimate + q * se]
