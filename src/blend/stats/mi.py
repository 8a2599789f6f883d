"""Multiple imputation: chained equations with predictive mean matching, Rubin pooling.

`ChainedEquationsImputer` follows `mice`'s default for numeric data (`pmm`, type-1
matching, 5 donors, `maxit = 5`): each incomplete variable is regressed on all
others, coefficients are drawn from their posterior (`mice:::.norm.draw`), the
missing values get the observed value of a donor whose predicted mean is among the
5 closest. PMM only ever imputes observed values, so the discrete C15-PAL PF grid
is respected.

`usable_columns` removes constant, empty and collinear variables before imputing,
as `mice` does (`mice:::edit.setup`, `find.collinear`), and says which it removed.

`pool_rubin` implements Rubin's rules with the Barnard–Rubin (1999) small-sample
degrees of freedom exactly as `mice::pool` / `mice::pool.scalar` do.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from blend.stats.distributions import t_ci, t_two_sided_p

if TYPE_CHECKING:
    import pandas as pd


def barnard_rubin_df(m: int, b: float, t: float, df_complete: float) -> float:
    """Barnard–Rubin df, as `mice:::barnard.rubin` (λ floored at 1e-4)."""
    lam = max((1 + 1 / m) * b / t, 1e-4)
    df_old = (m - 1) / lam**2
    if math.isinf(df_complete):
        return df_old
    df_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
    return df_old * df_obs / (df_old + df_obs)


def pool_rubin(
    estimates: Any, variances: Any, df_complete: float = math.inf, alpha: float = 0.05
) -> dict[str, Any]:
    """Pool m estimates and their squared SEs by Rubin's rules."""
    q = np.asarray(estimates, float)
    u = np.asarray(variances, float)
    m = len(q)
    qbar, ubar = float(q.mean()), float(u.mean())
    b = float(q.var(ddof=1)) if m > 1 else 0.0
    t = ubar + (1 + 1 / m) * b
    df = barnard_rubin_df(m, b, t, df_complete) if m > 1 else df_complete
    se = math.sqrt(t)
    riv = (1 + 1 / m) * b / ubar if ubar > 0 else math.inf
    return {
        "estimate": qbar,
        "se": se,
        "ci95": t_ci(qbar, se, df, 1 - alpha),
        "p": t_two_sided_p(qbar / se, df),
        "df": df,
        "imputations": m,
        "ubar": ubar,
        "b": b,
        "t": t,
        "riv": riv,
        "lambda": (1 + 1 / m) * b / t,
    }


CONSTANT_VARIANCE = 1000 * np.finfo(float).eps  # mice's threshold for "constant"
COLLINEAR = 0.999  # mice:::find.collinear threshold on |r|


def usable_columns(
    df: pd.DataFrame, impute: list[str], predictors: list[str], protected: tuple[str, ...] = ()
) -> tuple[list[str], list[str], list[dict[str, str]]]:
    """`impute` and `predictors` without the variables `mice` would remove, and why.

    - Constant: fewer than two observed values or a variance below 1000 machine
      epsilons; an entirely missing auxiliary (an interim before its visit) is one.
    - Collinear: |r| ≥ 0.999 with a variable observed at least as often (pairwise
      complete cases), the less observed one goes.

    Unlike mice, a `protected` variable (one of the analysis model) is never removed:
    it goes first in the collinearity order, so its collinear partner is removed, and
    if it is itself constant the caller gets it back in `dropped` to decide.
    """
    columns = [*impute, *predictors]
    values = df[columns].to_numpy(float)
    variance = np.array(
        [np.nanvar(v, ddof=1) if np.sum(~np.isnan(v)) > 1 else np.nan for v in values.T]
    )
    dropped = [
        {"variable": name, "reason": _constant_reason(int(np.sum(~np.isnan(col))))}
        for name, v, col in zip(columns, variance, values.T, strict=True)
        if not v >= CONSTANT_VARIANCE
    ]
    gone = {d["variable"] for d in dropped}
    dropped += _collinear([c for c in columns if c not in gone], df, protected)
    gone = {d["variable"] for d in dropped}
    return ([c for c in impute if c not in gone], [c for c in predictors if c not in gone], dropped)


def _constant_reason(observed: int) -> str:
    if observed == 0:
        return "no observed values"
    if observed == 1:
        return "a single observed value"
    return f"constant (all {observed} observed values are equal)"


def _collinear(
    columns: list[str], df: pd.DataFrame, protected: tuple[str, ...]
) -> list[dict[str, str]]:
    observed = {c: int(df[c].notna().sum()) for c in columns}
    order = sorted(columns, key=lambda c: (c not in protected, -observed[c]))
    corr = df[order].astype(float).corr(min_periods=2).to_numpy()
    out = []
    for j, name in enumerate(order):
        partners = [order[i] for i in range(j) if abs(corr[i, j]) >= COLLINEAR]
        if partners and name not in protected:
            out.append(
                {"variable": name, "reason": f"collinear with {partners[0]} (|r| ≥ {COLLINEAR})"}
            )
    return out


class ChainedEquationsImputer:
    """MICE with predictive mean matching.

    Parameters
    ----------
    imputations : number of completed datasets (m).
    iterations : Gibbs sweeps per dataset (`mice` maxit).
    donors : PMM donor pool size.
    seed : seed of the `numpy` generator; the same seed gives the same imputations.
    """

    imputations_: list[np.ndarray]
    columns_: list[str]
    missing_: np.ndarray

    def __init__(
        self, imputations: int = 20, iterations: int = 5, donors: int = 5, seed: int = 20260701
    ) -> None:
        self.imputations = imputations
        self.iterations = iterations
        self.donors = donors
        self.seed = seed

    def fit(
        self, df: pd.DataFrame, impute: list[str], predictors: list[str]
    ) -> ChainedEquationsImputer:
        """Impute the columns `impute` using each other and the complete `predictors`."""
        rng = np.random.default_rng(self.seed)
        data = df[impute].to_numpy(float)
        fixed = df[predictors].to_numpy(float)
        self.columns_ = list(impute)
        self.missing_ = np.isnan(data)
        self.imputations_ = [self._one(data, fixed, rng) for _ in range(self.imputations)]
        return self

    def completed(self, i: int, df: pd.DataFrame) -> pd.DataFrame:
        """Dataset `i` with the imputed columns filled in."""
        out = df.copy()
        out[self.columns_] = self.imputations_[i]
        return out

    def _one(self, data: np.ndarray, fixed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        filled = data.copy()
        for j in range(data.shape[1]):
            miss = self.missing_[:, j]
            observed = data[~miss, j]
            if miss.any() and observed.size:
                filled[miss, j] = rng.choice(observed, miss.sum())
        for _ in range(self.iterations):
            for j in range(data.shape[1]):
                if self.missing_[:, j].any():
                    filled[:, j] = self._impute_column(filled, fixed, j, rng)
        return filled

    def _impute_column(
        self, filled: np.ndarray, fixed: np.ndarray, j: int, rng: np.random.Generator
    ) -> np.ndarray:
        miss = self.missing_[:, j]
        x = np.column_stack([np.ones(len(filled)), fixed, np.delete(filled, j, axis=1)])
        y = filled[~miss, j]
        beta_hat, beta_star = _norm_draw(x[~miss], y, rng)
        yhat_obs = x[~miss] @ beta_hat
        yhat_mis = x[miss] @ beta_star
        out = filled[:, j].copy()
        out[miss] = y[_match(yhat_obs, yhat_mis, self.donors, rng)]
        return out


def _norm_draw(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior draw of regression coefficients (`mice:::.norm.draw`, ridge 1e-5)."""
    xtx = x.T @ x
    # mice's ridge; the floor keeps a constant (all-zero) predictor from making it singular
    xtx = xtx + np.diag(np.maximum(np.diag(xtx) * 1e-5, 1e-8))
    v = np.linalg.inv(xtx)
    v = (v + v.T) / 2
    coef = v @ (x.T @ y)
    resid = y - x @ coef
    df = max(len(y) - x.shape[1], 1)
    sigma = math.sqrt(float(resid @ resid) / rng.chisquare(df))
    chol = np.linalg.cholesky(v + np.eye(len(v)) * 1e-12)
    return coef, coef + sigma * (chol @ rng.standard_normal(len(coef)))


def _match(
    yhat_obs: np.ndarray, yhat_mis: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """For each missing case, the index of one of the k observed cases closest in prediction."""
    order = np.argsort(yhat_obs, kind="stable")
    sorted_obs = yhat_obs[order]
    n = len(sorted_obs)
    k = min(k, n)
    pos = np.searchsorted(sorted_obs, yhat_mis)
    # A window of 2k consecutive sorted cases holds the k nearest; shifting it inside
    # the array at the edges avoids counting one donor twice.
    start = np.clip(pos - k, 0, max(n - 2 * k, 0))
    window = np.minimum(start[:, None] + np.arange(2 * k)[None, :], n - 1)
    dist = np.abs(sorted_obs[window] - yhat_mis[:, None])
    nearest = (
        np.argpartition(dist, k - 1, axis=1)[:, :k]
        if k < dist.shape[1]
        else (np.argsort(dist, axis=1))
    )
    pick = nearest[np.arange(len(yhat_mis)), rng.integers(0, k, len(yhat_mis))]
    return order[window[np.arange(len(yhat_mis)), pick]]
