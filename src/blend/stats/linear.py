"""Linear estimators: ANCOVA by OLS (R `lm`) and 2SLS (R `AER::ivreg`).

Both are closed-form numpy so that they are exact, fast, and reproduce R to
machine precision: classical (homoskedastic) standard errors with n − k residual
degrees of freedom and t-based CIs and p-values, as the contract requires.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from blend.stats.distributions import t_ci, t_two_sided_p

if TYPE_CHECKING:
    import pandas as pd


def design_matrix(
    df: pd.DataFrame, columns: list[str], strata: str | None = None
) -> tuple[np.ndarray, list[str]]:
    """Intercept, `columns`, and treatment-coded dummies of `strata` (first sorted level dropped).

    That is R's default contrast for a factor, so coefficient names line up with `lm`.
    """
    names = ["(Intercept)", *columns]
    parts = [np.ones((len(df), 1)), df[columns].to_numpy(dtype=float)]
    if strata is not None and df[strata].nunique() > 1:
        levels = sorted(df[strata].unique())
        dummies = np.column_stack([(df[strata] == lv).to_numpy(float) for lv in levels[1:]])
        parts.append(dummies)
        names += [f"{strata}{lv}" for lv in levels[1:]]
    return np.hstack(parts), names


class _LinearFit:
    """Shared result handling: coefficients, SEs, t-tests and a summary table."""

    params_: np.ndarray
    se_: np.ndarray
    names_: list[str]
    n_: int
    df_resid_: int
    sigma2_: float

    def __init__(self, alpha: float = 0.05) -> None:
        self.alpha = alpha

    def _finish(self, beta: np.ndarray, bread: np.ndarray, resid: np.ndarray) -> None:
        n, k = len(resid), len(beta)
        self.n_, self.df_resid_ = n, n - k
        self.sigma2_ = float(resid @ resid) / self.df_resid_
        self.params_ = beta
        self.se_ = np.sqrt(np.diag(bread) * self.sigma2_)

    def effect(self, name: str) -> dict[str, Any]:
        """Estimate, SE, CI, p and n of one coefficient, in the contract's shape."""
        i = self.names_.index(name)
        est, se = float(self.params_[i]), float(self.se_[i])
        return {"estimate": est, "se": se,
                "ci95": t_ci(est, se, self.df_resid_, 1 - self.alpha),
                "p": t_two_sided_p(est / se, self.df_resid_), "n": self.n_}

    @property
    def summary(self) -> pd.DataFrame:
        import pandas as pd

        rows = [self.effect(name) for name in self.names_]
        frame = pd.DataFrame(rows, index=self.names_)
        frame[["lower", "upper"]] = pd.DataFrame(frame.pop("ci95").tolist(), index=frame.index)
        return frame.drop(columns="n")


class AncovaFitter(_LinearFit):
    """OLS of an outcome on treatment and covariates (R `lm`).

    >>> AncovaFitter().fit(df, "pf_w4", ["z", "pf_baseline"], strata="stratum").effect("z")
    """

    def fit(self, df: pd.DataFrame, outcome: str, regressors: list[str],
            strata: str | None = None) -> AncovaFitter:
        x, self.names_ = design_matrix(df, regressors, strata)
        y = df[outcome].to_numpy(float)
        q, r = np.linalg.qr(x)
        beta = np.linalg.solve(r, q.T @ y)
        r_inv = np.linalg.inv(r)
        self._finish(beta, r_inv @ r_inv.T, y - x @ beta)
        return self


class TwoStageLeastSquaresFitter(_LinearFit):
    """2SLS with one endogenous regressor (R `AER::ivreg(y ~ d + x | z + x)`).

    The residuals use the observed endogenous variable, and the variance is
    σ̂²(X̂′X̂)⁻¹ with σ̂² on n − k df: `ivreg`'s default, not a naive second stage.
    """

    def fit(self, df: pd.DataFrame, outcome: str, endogenous: str, instrument: str,
            exogenous: list[str], strata: str | None = None) -> TwoStageLeastSquaresFitter:
        x, names = design_matrix(df, [endogenous, *exogenous], strata)
        w, _ = design_matrix(df, [instrument, *exogenous], strata)
        self.names_ = names
        y = df[outcome].to_numpy(float)
        x_hat = w @ np.linalg.lstsq(w, x, rcond=None)[0]
        bread = np.linalg.inv(x_hat.T @ x_hat)
        beta = bread @ (x_hat.T @ y)
        self._finish(beta, bread, y - x @ beta)
        return self
