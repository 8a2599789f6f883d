"""Time-to-event estimators matching R `survival`: KM, Cox (Efron ties), log-rank, CIF.

These are small vectorised numpy implementations rather than lifelines calls:
lifelines costs ~1.5 s of import time (which matters for `blend analyze` on 100
participants), and the R conventions we must match (the KM median rule, Efron
ties, `survdiff`'s variance) are a few lines each. Each one is validated against
R in `tests/core/stats/test_stats_survival_against_r.py`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from blend.stats.distributions import chi2_sf, norm_quantile, norm_two_sided_p
from blend.stats.errors import NotEstimable

if TYPE_CHECKING:
    import pandas as pd

_TOL = math.sqrt(np.finfo(float).eps)


def _event_table(durations: Any, events: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct times with the number at risk and the number of events at each."""
    t = np.asarray(durations, float)
    e = np.asarray(events, bool)
    times, inverse = np.unique(t, return_inverse=True)
    removed = np.bincount(inverse, minlength=len(times))
    deaths = np.bincount(inverse, weights=e, minlength=len(times))
    at_risk = removed[::-1].cumsum()[::-1]
    return times, at_risk.astype(float), deaths


class KaplanMeierFitter:
    """Kaplan–Meier estimate with R's median rule (`print.survfit`)."""

    timeline_: np.ndarray
    survival_: np.ndarray
    median_: float | None

    def fit(self, durations: Any, events: Any) -> KaplanMeierFitter:
        times, at_risk, deaths = _event_table(durations, events)
        keep = deaths > 0
        self.timeline_ = times[keep]
        self.survival_ = np.cumprod(1 - deaths[keep] / at_risk[keep])
        self.median_ = self._quantile(0.5)
        return self

    def _quantile(self, p: float) -> float | None:
        """First time S(t) ≤ 1 − p; when S equals 1 − p exactly on an interval, its midpoint."""
        target = 1 - p
        below = np.flatnonzero(self.survival_ <= target + _TOL)
        if not below.size:
            return None
        i = int(below[0])
        if abs(self.survival_[i] - target) < _TOL and i + 1 < len(self.timeline_):
            return float((self.timeline_[i] + self.timeline_[i + 1]) / 2)
        return float(self.timeline_[i])

    def at(self, t: float) -> float:
        """S(t): the estimate at the last event time ≤ t."""
        idx = np.searchsorted(self.timeline_, t, side="right") - 1
        return 1.0 if idx < 0 else float(self.survival_[idx])

    @property
    def summary(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame({"time": self.timeline_, "survival": self.survival_})


class CoxPHFitter:
    """Cox proportional hazards, Efron ties (the `coxph` default), Newton–Raphson.

    Attributes after `fit`: `params_`, `se_`, `hazard_ratio_`, `loglik_`, `n_`, `events_`,
    `iterations_`, `converged_`.

    Each Newton step is halved until the log partial likelihood does not decrease (and
    is finite), so an overflowing step cannot be taken. The fit has converged when the
    step is below `tol`; with a monotone likelihood (all events in one arm, common at
    n = 10) the coefficient runs off to ±∞, the steps stay near 1 and `fit` raises
    `NotEstimable` ("did not converge"), where `coxph` warns "coefficient may be
    infinite" and prints a meaningless HR.
    """

    params_: np.ndarray
    se_: np.ndarray
    loglik_: float
    n_: int
    events_: int
    iterations_: int
    converged_: bool

    def __init__(self, alpha: float = 0.05, max_iter: int = 50, tol: float = 1e-9) -> None:
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, durations: Any, events: Any, covariates: Any) -> CoxPHFitter:
        x = np.asarray(covariates, float)
        x = x[:, None] if x.ndim == 1 else x
        t = np.asarray(durations, float)
        e = np.asarray(events, bool)
        self.n_, self.events_ = len(t), int(e.sum())
        if self.events_ == 0:
            raise NotEstimable("no events: the hazard ratio is not identified")
        order = np.argsort(-t, kind="stable")
        data = _EfronData(t[order], e[order], x[order])
        beta, loglik, hess = self._newton(data, np.zeros(x.shape[1]))
        if not self.converged_ or _monotone(t, e, x):
            raise NotEstimable(
                f"the Cox model did not converge ({self.iterations_} Newton steps, coefficient "
                f"{beta[0]:.1f}): the likelihood is monotone, typically because all events "
                "fall in one arm, so the hazard ratio is 0 or infinite"
            )
        self.params_, self.loglik_ = beta, loglik
        self.se_ = np.sqrt(np.diag(np.linalg.inv(-hess)))
        return self

    def _newton(self, data: _EfronData, beta: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        loglik, grad, hess = data.evaluate(beta)
        self.converged_ = False
        for iteration in range(1, self.max_iter + 1):
            self.iterations_ = iteration
            try:
                step = np.linalg.solve(-hess, grad)
            except np.linalg.LinAlgError:
                break  # a flat likelihood: not converged
            taken = self._halve(data, beta, step, loglik)
            if taken is None:
                break  # no step length improves the likelihood
            new, loglik, grad, hess = taken
            step, beta = new - beta, new
            if np.abs(step).max() < self.tol * (1 + np.abs(beta).max()):
                self.converged_ = bool(np.all(np.isfinite(hess)))
                break
        return beta, loglik, hess

    @staticmethod
    def _halve(
        data: _EfronData, beta: np.ndarray, step: np.ndarray, loglik: float
    ) -> tuple[np.ndarray, float, np.ndarray, np.ndarray] | None:
        """Halve the step until the log likelihood is finite and does not decrease."""
        for _ in range(60):
            new = beta + step
            new_loglik, new_grad, new_hess = data.evaluate(new)
            if math.isfinite(new_loglik) and new_loglik >= loglik - 1e-12:
                return new, new_loglik, new_grad, new_hess
            step = step / 2
        return None

    @property
    def hazard_ratio_(self) -> np.ndarray:
        return np.exp(self.params_)

    def hr_ci(self, i: int = 0) -> list[float]:
        z = norm_quantile(1 - self.alpha / 2)
        return [
            math.exp(self.params_[i] - z * self.se_[i]),
            math.exp(self.params_[i] + z * self.se_[i]),
        ]

    @property
    def summary(self) -> pd.DataFrame:
        import pandas as pd

        rows = [
            {
                "coef": b,
                "exp(coef)": math.exp(b),
                "se(coef)": s,
                "p": norm_two_sided_p(b / s),
                "lower": self.hr_ci(i)[0],
                "upper": self.hr_ci(i)[1],
            }
            for i, (b, s) in enumerate(zip(self.params_, self.se_, strict=True))
        ]
        return pd.DataFrame(rows)


def _monotone(t: np.ndarray, e: np.ndarray, x: np.ndarray) -> bool:
    """True when the partial likelihood increases without bound along ±x (one covariate).

    That happens exactly when every event has the largest (or every event the smallest)
    covariate value of its risk set, e.g. all deaths in one arm. Newton then "converges"
    once exp(β) saturates the floating point, so the data, not the iterations, decide.
    """
    if x.shape[1] != 1:
        return False
    v = x[:, 0]
    order = np.argsort(-t, kind="stable")
    ts, vs = t[order], v[order]
    _, first = np.unique(-ts, return_index=True)
    group_end = np.append(first[1:], len(ts)) - 1
    group = np.searchsorted(first, np.arange(len(ts)), side="right") - 1
    risk_max = np.maximum.accumulate(vs)[group_end][group]
    risk_min = np.minimum.accumulate(vs)[group_end][group]
    ev = e[order]
    return bool(np.all(vs[ev] >= risk_max[ev]) or np.all(vs[ev] <= risk_min[ev]))


class _EfronData:
    """Sorted data (descending time) with the tie structure precomputed."""

    def __init__(self, t: np.ndarray, e: np.ndarray, x: np.ndarray) -> None:
        self.x, self.e = x, e
        times, first = np.unique(-t, return_index=True)  # groups of equal time, descending
        self.group_end = np.append(first[1:], len(t)) - 1  # last row of each time group
        group = np.searchsorted(first, np.arange(len(t)), side="right") - 1
        self.event_rows = np.flatnonzero(e)
        self.event_group = group[self.event_rows]
        d = np.bincount(self.event_group, minlength=len(times))
        # Efron: the l-th of d tied deaths removes the fraction l/d of the tied risk.
        rank = np.arange(len(self.event_rows)) - np.searchsorted(self.event_group, self.event_group)
        self.frac = rank / d[self.event_group]
        self.n_groups = len(times)

    def evaluate(self, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        x, p = self.x, self.x.shape[1]
        eta = x @ beta
        shift = float(eta.max())  # scaling the weights avoids overflow; it cancels in a
        w = np.exp(eta - shift)
        xw = x * w[:, None]
        xxw = (x[:, :, None] * x[:, None, :]) * w[:, None, None]
        s0r = np.cumsum(w)[self.group_end][self.event_group]
        s1r = np.cumsum(xw, axis=0)[self.group_end][self.event_group]
        s2r = np.cumsum(xxw, axis=0)[self.group_end][self.event_group]
        ev = self.event_rows
        g = self.event_group
        s0d = np.bincount(g, weights=w[ev], minlength=self.n_groups)[g]
        s1d = np.stack(
            [np.bincount(g, weights=xw[ev, j], minlength=self.n_groups)[g] for j in range(p)],
            axis=1,
        )
        s2d = np.zeros_like(s2r)
        for j in range(p):
            for k in range(p):
                s2d[:, j, k] = np.bincount(g, weights=xxw[ev, j, k], minlength=self.n_groups)[g]
        f = self.frac
        denom = s0r - f * s0d
        a = (s1r - f[:, None] * s1d) / denom[:, None]
        loglik = float(eta[ev].sum() - np.sum(np.log(denom)) - len(ev) * shift)
        grad = x[ev].sum(axis=0) - a.sum(axis=0)
        c = (s2r - f[:, None, None] * s2d) / denom[:, None, None]
        hess = -(c - a[:, :, None] * a[:, None, :]).sum(axis=0)
        return loglik, grad, hess


def logrank_test(durations: Any, events: Any, group: Any) -> dict[str, float]:
    """Two-group log-rank test, as R `survdiff` (rho = 0)."""
    t = np.asarray(durations, float)
    e = np.asarray(events, bool)
    g = np.asarray(group, bool)
    times, at_risk, deaths = _event_table(t, e)
    _, inverse = np.unique(t, return_inverse=True)
    removed_1 = np.bincount(inverse, weights=g, minlength=len(times))
    at_risk_1 = removed_1[::-1].cumsum()[::-1]
    deaths_1 = np.bincount(inverse, weights=e & g, minlength=len(times))
    keep = deaths > 0
    n, n1, d = at_risk[keep], at_risk_1[keep], deaths[keep]
    expected = d * n1 / n
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(n > 1, d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1), 0.0)
    observed = deaths_1[keep].sum()
    total = float(var.sum())  # 0 when only one group was ever at risk at a death
    chi2 = float((observed - expected.sum()) ** 2 / total) if total > 0 else math.nan
    return {
        "chi2": chi2,
        "p": chi2_sf(chi2, 1),
        "observed": float(observed),
        "expected": float(expected.sum()),
    }


def cumulative_incidence(
    durations: Any, status: Any, cause: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Aalen–Johansen CIF of `cause`; status 0 = censored, other integers = causes.

    Returns event times and the CIF just after each (R `survfit` multi-state).
    """
    t = np.asarray(durations, float)
    s = np.asarray(status, int)
    times, at_risk, any_event = _event_table(t, s > 0)
    _, inverse = np.unique(t, return_inverse=True)
    cause_events = np.bincount(inverse, weights=s == cause, minlength=len(times))
    surv_after = np.cumprod(1 - any_event / at_risk)
    surv_before = np.concatenate([[1.0], surv_after[:-1]])
    cif = np.cumsum(surv_before * cause_events / at_risk)
    keep = any_event > 0
    return times[keep], cif[keep]


def value_at(times: np.ndarray, values: np.ndarray, t: float, before: float = 0.0) -> float:
    """A right-continuous step function's value at t."""
    idx = np.searchsorted(times, t, side="right") - 1
    return before if idx < 0 else float(values[idx])
