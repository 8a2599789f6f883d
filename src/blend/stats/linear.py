"""Linear estimators: ANCOVA by OLS (R `lm`) and 2SLS (R `AER::ivreg`).

Both are closed-form numpy so that they are exact, fast, and reproduce R to
machine precision: classical (homoskedastic) standard errors with n − k residual
degrees of freedom and t-based CIs and p-values, as the contract requires.

A rank-deficient design is detected as R's `lm` does (QR, tolerance 1e-7 relative
to the column norm). An aliased nuisance term (a stratum level with nobody in the
sample) is dropped, as `lm` reports `NA` for it and estimates the rest; an aliased
coefficient of interest (the arm, when one arm has no outcomes) raises
`NotEstimable` with the reason, instead of the ~10^15 estimate a plain solve gives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from blend.stats.distributions import t_ci, t_two_sided_p
from blend.stats.errors import NotEstimable

if TYPE_CHECKING:
    import pandas as pd

ALIAS_TOL = 1e-7  # R's lm.fit / dqrdc2 tolerance


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


def aliased_columns(x: np.ndarray, tol: float = ALIAS_TOL) -> list[int]:
    """Columns that are linear combinations of the columns before them (R `lm`'s NA terms).

    A column whose norm falls below `tol` times its own norm once the earlier kept
    columns are projected out is aliased; as in R, the later of two collinear
    columns is the one reported.
    """
    norms = np.linalg.norm(x, axis=0)
    if x.shape[0] >= x.shape[1] and np.all(norms > 0):
        diag = np.abs(np.diag(np.linalg.qr(x, mode="r")))
        if np.all(diag > tol * norms):
            return []  # the common full-rank case costs one QR
    kept: list[int] = []
    aliased: list[int] = []
    for j in range(x.shape[1]):
        residual = x[:, j]
        if kept:
            q = np.linalg.qr(x[:, kept])[0]
            residual = residual - q @ (q.T @ residual)
        if norms[j] == 0 or np.linalg.norm(residual) <= tol * norms[j]:
            aliased.append(j)
        else:
            kept.append(j)
    return aliased


def drop_aliased(
    x: np.ndarray, names: list[str], protected: list[str]
) -> tuple[np.ndarray, list[str], list[str]]:
    """Drop aliased nuisance columns; raise `NotEstimable` if a `protected` one is aliased."""
    aliased = [names[j] for j in aliased_columns(x)]
    hit = [name for name in protected if name in aliased]
    if hit:
        raise NotEstimable(
            f"{hit[0]} is aliased: in this sample it is a linear combination of "
            f"{_other_terms(names, hit[0])}, so its coefficient is not identified "
            "(R's lm reports NA)"
        )
    keep = [j for j, name in enumerate(names) if name not in aliased]
    return x[:, keep], [names[j] for j in keep], aliased


def _other_terms(names: list[str], term: str) -> str:
    others = [n for n in names if n != term]
    return ", ".join(others) if others else "nothing (it is zero)"


def require_residual_df(n: int, k: int) -> None:
    if n - k < 1:
        raise NotEstimable(f"no residual degrees of freedom: {n} observations for {k} coefficients")


class _LinearFit:
    """Shared result handling: coefficients, SEs, t-tests and a summary table."""

    params_: np.ndarray
    se_: np.ndarray
    names_: list[str]
    dropped_: list[str]
    n_: int
    df_resid_: int
    sigma2_: float

    def __init__(self, alpha: float = 0.05) -> None:
        self.alpha = alpha

    def _finish(self, beta: np.ndarray, bread: np.ndarray, resid: np.ndarray) -> None:
        n, k = len(resid), len(beta)
        self.n_, self.df_resid_ = n, n - k
        self.sigma2_ = float(resid @ resid) / self.df_resid_
        if not self.sigma2_ > 0:
            raise NotEstimable(
                "the residual variance is zero: the model fits the outcome "
                "exactly, so no standard error exists"
            )
        self.params_ = beta
        self.se_ = np.sqrt(np.diag(bread) * self.sigma2_)

    def effect(self, name: str) -> dict[str, Any]:
        """Estimate, SE, CI, p and n of one coefficient, in the contract's shape."""
        i = self.names_.index(name)
        est, se = float(self.params_[i]), float(self.se_[i])
        out = {
            "estimate": est,
            "se": se,
            "ci95": t_ci(est, se, self.df_resid_, 1 - self.alpha),
            "p": t_two_sided_p(est / se, self.df_resid_),
            "n": self.n_,
        }
        if self.dropped_:
            out["dropped_terms"] = list(self.dropped_)
        return out

    @property
    def summary(self) -> pd.DataFrame:
        import pandas as pd

        rows = [self.effect(name) for name in self.names_]
        frame = pd.DataFrame(rows, index=self.names_)
        frame[["lower", "upper"]] = pd.DataFrame(frame.pop("ci95").tolist(), index=frame.index)
        return frame.drop(columns=["n", "dropped_terms"], errors="ignore")


def ols(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS coefficients and the unscaled covariance (X′X)⁻¹ by QR; y may have several columns."""
    q, r = np.linalg.qr(x)
    beta = np.linalg.solve(r, q.T @ y)
    r_inv = np.linalg.inv(r)
    return beta, r_inv @ r_inv.T


class AncovaFitter(_LinearFit):
    """OLS of an outcome on treatment and covariates (R `lm`).

    >>> AncovaFitter().fit(df, "pf_w4", ["z", "pf_baseline"], strata="stratum").effect("z")

    `regressors[0]` is the coefficient of interest: if it is aliased the fit raises
    `NotEstimable`; other aliased terms are dropped (`dropped_`).
    """

    def fit(
        self, df: pd.DataFrame, outcome: str, regressors: list[str], strata: str | None = None
    ) -> AncovaFitter:
        x, names = design_matrix(df, regressors, strata)
        x, self.names_, self.dropped_ = drop_aliased(x, names, regressors[:1])
        require_residual_df(*x.shape)
        y = df[outcome].to_numpy(float)
        beta, bread = ols(x, y)
        self._finish(beta, bread, y - x @ beta)
        return self


class TwoStageLeastSquaresFitter(_LinearFit):
    """2SLS with one endogenous regressor (R `AER::ivreg(y ~ d + x | z + x)`).

    The residuals use the observed endogenous variable, and the variance is
    σ̂²(X̂′X̂)⁻¹ with σ̂² on n − k df: `ivreg`'s default, not a naive second stage.

    `first_stage_` holds the weak-instrument diagnostics of the first-stage OLS of
    the endogenous variable on the instrument and the exogenous terms: the F
    statistic of the excluded instrument (R `summary(ivreg, diagnostics = TRUE)`,
    "Weak instruments"), its p and the partial R² of the instrument.

    `robust=True` replaces the variance by the heteroskedasticity-consistent HC1
    sandwich (X̂′X̂)⁻¹ X̂′ diag(e²) X̂ (X̂′X̂)⁻¹ · n/(n − k), still with t on n − k df:
    R `lmtest::coeftest(iv, vcov = sandwich::vcovHC(iv, type = "HC1"),
    df = df.residual(iv))`, and `linearmodels` `cov_type="robust", debiased=True`. It is
    what a binary outcome (a linear probability model) needs; `covariance_` says which.
    The first-stage F stays the classical one.
    """

    first_stage_: dict[str, Any]
    covariance_: str = "classical"

    def fit(
        self,
        df: pd.DataFrame,
        outcome: str,
        endogenous: str,
        instrument: str,
        exogenous: list[str],
        strata: str | None = None,
        robust: bool = False,
    ) -> TwoStageLeastSquaresFitter:
        w, w_names = design_matrix(df, [instrument, *exogenous], strata)
        w, w_names, dropped = drop_aliased(w, w_names, [instrument])
        x_names = [endogenous if name == instrument else name for name in w_names]
        x = np.column_stack(
            [
                df[endogenous].to_numpy(float) if name == endogenous else w[:, w_names.index(name)]
                for name in x_names
            ]
        )
        # An exogenous term aliased with the endogenous one in this sample leaves the second
        # stage but stays an instrument, as ivreg reports NA for it.
        x, x_names, aliased = drop_aliased(x, x_names, [endogenous])
        require_residual_df(*x.shape)
        self.names_, self.dropped_ = x_names, dropped + aliased
        y = df[outcome].to_numpy(float)
        coef, w_bread = ols(w, x)
        x_hat = w @ coef
        drop_aliased(x_hat, x_names, [endogenous])  # a first stage without the instrument
        at = x_names.index(endogenous)
        self.first_stage_ = _first_stage(
            x[:, at], w, coef[:, at], w_bread, w_names.index(instrument)
        )
        bread = np.linalg.inv(x_hat.T @ x_hat)
        beta = bread @ (x_hat.T @ y)
        resid = y - x @ beta
        self._finish(beta, bread, resid)
        if robust:
            n, k = x.shape
            meat = (x_hat * (resid**2)[:, None]).T @ x_hat
            self.se_ = np.sqrt(np.diag(bread @ meat @ bread) * n / (n - k))
            if not self.se_[x_names.index(endogenous)] > 0:
                raise NotEstimable(
                    "the robust standard error is zero: every participant with a nonzero "
                    "residual has no leverage on the effect"
                )
            self.covariance_ = "HC1"
        return self


WEAK_INSTRUMENT_F = 10.0  # Staiger & Stock's rule of thumb


def _first_stage(
    d: np.ndarray, w: np.ndarray, gamma: np.ndarray, bread: np.ndarray, j: int
) -> dict[str, Any]:
    """F, p and partial R² of the one excluded instrument (column j of w) for d.

    With one instrument F = t² of its first-stage coefficient and the partial R² is
    F / (F + n − k).
    """
    n, k = w.shape
    resid = d - w @ gamma
    rss = float(resid @ resid)
    df2 = n - k
    if rss <= 1e-12 * max(float(d @ d), 1.0):
        return {
            "f_statistic": None,
            "df": [1, df2],
            "p": 0.0,
            "partial_r2": 1.0,
            "weak": False,
            "notes": {
                "f_statistic": "infinite: the instrument and covariates predict "
                "receipt of the intervention exactly"
            },
        }
    f = float(gamma[j]) ** 2 / (rss / df2 * bread[j, j])
    return {
        "f_statistic": f,
        "df": [1, df2],
        "p": t_two_sided_p(f**0.5, df2),
        "partial_r2": f / (f + df2),
        "weak": bool(f < WEAK_INSTRUMENT_F),
    }
