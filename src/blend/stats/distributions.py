"""Reference distributions (normal, Student t, χ² with 1 df) in pure Python.

`scipy.special` costs half a second of import time, which is a quarter of
`blend analyze`'s budget on 100 participants. The few distribution functions the
analyses need are short: the t distribution through the regularized incomplete
beta function (continued fraction, modified Lentz, as in Numerical Recipes §6.4),
its quantile by safeguarded Newton steps. Tests compare them with R to 1e-10.
"""

from __future__ import annotations

import math
from statistics import NormalDist

_NORMAL = NormalDist()
_EPS = 1e-16
_TINY = 1e-300


def _beta_cf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + aa / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < _EPS:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_cf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_cf(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """Two-sided p of a t statistic with `df` degrees of freedom (normal when df = ∞)."""
    if math.isinf(df):
        return norm_two_sided_p(t)
    return betainc(df / 2.0, 0.5, df / (df + t * t))


def t_cdf(t: float, df: float) -> float:
    tail = t_two_sided_p(t, df) / 2.0
    return 1.0 - tail if t > 0 else tail


def t_pdf(t: float, df: float) -> float:
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return math.exp(log_c - (df + 1) / 2 * math.log1p(t * t / df))


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t, by Newton steps from the normal quantile."""
    if math.isinf(df):
        return norm_quantile(p)
    if p == 0.5:
        return 0.0
    x = norm_quantile(p)
    for _ in range(100):
        step = (t_cdf(x, df) - p) / max(t_pdf(x, df), _TINY)
        step = max(min(step, 1.0 + abs(x)), -1.0 - abs(x))  # keep early steps bounded
        x -= step
        if abs(step) <= 1e-14 * max(1.0, abs(x)):
            break
    return x


def norm_two_sided_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2.0))


def norm_quantile(p: float) -> float:
    return _NORMAL.inv_cdf(p)


def chi2_sf(x: float, df: float) -> float:
    """Upper tail of χ²; only df = 1 (the log-rank test) is needed."""
    if df != 1:
        raise ValueError(f"chi2_sf: expected df = 1, got {df}")
    return math.erfc(math.sqrt(max(x, 0.0) / 2.0))


def t_ci(estimate: float, se: float, df: float, level: float = 0.95) -> list[float]:
    q = t_quantile(0.5 + level / 2.0, df)
    return [estimate - q * se, estimate + q * se]
