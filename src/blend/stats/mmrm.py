"""MMRM: a linear model with an unstructured covariance over visits, fitted by REML.

y_i = X_i β + ε_i, ε_i ~ N(0, Σ[O_i, O_i]) with Σ (T × T) unrestricted and O_i the
visits participant i attended: R `nlme::gls(..., correlation = corSymm(form = ~ visit |
id), weights = varIdent(form = ~ 1 | visit), method = "REML")` and `mmrm::mmrm(... +
us(visit | id))` fit the same model. Degrees of freedom for each coefficient are
Satterthwaite's, as `mmrm` (and SAS `DDFM=SATTERTHWAITE`) compute them:
ν = 2 (ℓ′Cℓ)² / (gᵀ A g), with C = (X′V⁻¹X)⁻¹, g = ∂(ℓ′Cℓ)/∂θ and A the inverse of
the observed REML information of the covariance parameters θ.

How it stays fast at 10,000 participants: participants are grouped by their pattern
of attended visits, and each pattern keeps only Σᵢ xᵢₐxᵢᵦ′, Σᵢ xᵢₐyᵢᵦ and Σᵢ yᵢₐyᵢᵦ
(a, b visits of the pattern). The REML criterion, β̂, C and the analytic gradient
are contractions of those with Σ_O⁻¹, so one evaluation costs O(patterns · T² · p²)
whatever the number of participants. Σ = LL′ is parametrised by its Cholesky
factor (log diagonal) and the criterion minimised by BFGS with a backtracking line
search; the information matrix and g come from central differences of the analytic
gradient and of C.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from blend.stats.distributions import t_ci, t_two_sided_p
from blend.stats.errors import NotEstimable

MAX_STEP = 2.0  # largest change of any θ in one BFGS step (a factor e² on an SD)


@dataclass(frozen=True)
class _Patterns:
    """Sufficient statistics per pattern g of attended visits, embedded in T × T arrays
    (zero where a visit was not attended), so one evaluation is a few batched einsums.

    A row of visit a is non-zero only in the columns `support[a]` (its own intercept,
    arm and baseline slope, and the strata in the MMRM design), so the statistics keep
    those q columns only: q² instead of p² numbers per visit pair. Column index p stands
    for "none" (padding when visits have supports of different sizes).
    """

    mask: np.ndarray  # (G, T): visits attended in pattern g
    count: np.ndarray  # (G,): participants with pattern g
    support: np.ndarray  # (T, q): the columns that can be non-zero at each visit
    sxx: np.ndarray  # (G, T, T, q, q): Σᵢ xᵢₐ xᵢᵦ′ on the supports
    sxy: np.ndarray  # (G, T, T, q): Σᵢ xᵢₐ yᵢᵦ
    syy: np.ndarray  # (G, T, T): Σᵢ yᵢₐ yᵢᵦ
    pairs: np.ndarray  # (T, T, q, q): flat index of (support[a][k], support[b][l]) in (p+1)²


def _supports(x: np.ndarray, visit: np.ndarray, n_visits: int) -> np.ndarray:
    columns = [np.flatnonzero(np.any(x[visit == v] != 0, axis=0)) for v in range(n_visits)]
    q = max(len(c) for c in columns)
    p = x.shape[1]
    return np.array([np.concatenate([c, np.full(q - len(c), p)]) for c in columns], int)


def _patterns(
    x: np.ndarray, y: np.ndarray, groups: Any, visit: np.ndarray, n_visits: int
) -> _Patterns:
    """Group participants by attended visits and keep the sufficient statistics."""
    _, person = np.unique(np.asarray(groups), return_inverse=True)
    if len(np.unique(person * n_visits + visit)) != len(y):
        raise NotEstimable("a participant has two PF values at one visit")
    n_people, p = person.max() + 1, x.shape[1]
    support = _supports(x, visit, n_visits)
    q = support.shape[1]
    attended = np.zeros((n_people, n_visits), bool)
    attended[person, visit] = True
    padded_x = np.hstack([x, np.zeros((len(x), 1))])
    xs = np.zeros((n_people, n_visits, q))
    ys = np.zeros((n_people, n_visits))
    xs[person, visit] = padded_x[np.arange(len(x))[:, None], support[visit]]
    ys[person, visit] = y  # zero rows where a visit is missing
    codes, pattern = np.unique(attended @ (1 << np.arange(n_visits)), return_inverse=True)
    g = len(codes)
    mask = (codes[:, None] >> np.arange(n_visits)[None, :]) & 1 == 1
    sxx = np.zeros((g, n_visits, n_visits, q, q))
    sxy = np.zeros((g, n_visits, n_visits, q))
    syy = np.zeros((g, n_visits, n_visits))
    for k in range(g):
        who = pattern == k
        xg, yg = xs[who], ys[who]
        sxx[k] = np.einsum("iak,ibl->abkl", xg, xg)
        sxy[k] = np.einsum("iak,ib->abk", xg, yg)
        syy[k] = np.einsum("ia,ib->ab", yg, yg)
    pairs = support[:, None, :, None] * (p + 1) + support[None, :, None, :]
    return _Patterns(
        mask, np.bincount(pattern, minlength=g).astype(float), support, sxx, sxy, syy, pairs
    )


@dataclass
class _Evaluation:
    criterion: float  # −2 × REML log likelihood, without constants
    beta: np.ndarray
    cov_beta: np.ndarray  # C = (X′V⁻¹X)⁻¹
    gradient: np.ndarray  # ∂criterion/∂Σ (T × T, symmetric)


def _evaluate(pat: _Patterns, sigma: np.ndarray, p: int) -> _Evaluation:
    """REML criterion, GLS estimates and the gradient at Σ.

    Each pattern's Σ_O is padded with the identity on the visits it lacks, so its
    inverse, zeroed there, is Σ_O⁻¹ embedded in T × T, and its log-determinant is
    log|Σ_O|: every pattern is handled in one batched call.
    """
    both = pat.mask[:, :, None] & pat.mask[:, None, :]
    padded = np.where(both, sigma[None], 0.0) + np.eye(len(sigma))[None] * ~pat.mask[:, :, None]
    chol = np.linalg.cholesky(padded)  # LinAlgError if some Σ_O is not positive definite
    inv = np.linalg.inv(padded) * both
    logdet = 2 * float(pat.count @ np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1))
    size = (p + 1) ** 2
    xvx = np.bincount(
        pat.pairs.ravel(), np.einsum("gab,gabkl->abkl", inv, pat.sxx).ravel(), minlength=size
    ).reshape(p + 1, p + 1)[:p, :p]
    xvy = np.bincount(
        np.broadcast_to(pat.support[:, None, :], pat.sxy.shape[1:]).ravel(),
        np.einsum("gab,gabk->abk", inv, pat.sxy).ravel(),
        minlength=p + 1,
    )[:p]
    yvy = float(np.sum(inv * pat.syy))
    sign, logdet_xvx = np.linalg.slogdet(xvx)
    if sign <= 0:
        raise NotEstimable("the fixed-effects design is singular under the fitted covariance")
    cov_beta = np.linalg.inv(xvx)
    beta = cov_beta @ xvy
    criterion = logdet + logdet_xvx + yvy - float(beta @ xvy)
    c_pad = np.zeros((p + 1, p + 1))
    c_pad[:p, :p] = cov_beta
    b_pad = np.append(beta, 0.0)[pat.support]  # (T, q)
    xcx = np.einsum("gabkl,abkl->gab", pat.sxx, c_pad.ravel()[pat.pairs])
    bxy = np.einsum("gabk,ak->gab", pat.sxy, b_pad)
    bxxb = np.einsum("gabkl,ak,bl->gab", pat.sxx, b_pad, b_pad, optimize=True)
    rr = pat.syy - bxy - bxy.transpose(0, 2, 1) + bxxb
    parts = pat.count[:, None, None] * inv - inv @ (xcx + rr) @ inv
    return _Evaluation(criterion, beta, cov_beta, parts.sum(axis=0))


class _Cholesky:
    """θ ↔ Σ = LL′ with L lower triangular, log of its diagonal in θ."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.rows, self.cols = np.tril_indices(n)
        self.diag = self.rows == self.cols

    def sigma(self, theta: np.ndarray) -> np.ndarray:
        lower = np.zeros((self.n, self.n))
        lower[self.rows, self.cols] = np.where(self.diag, np.exp(theta), theta)
        return lower @ lower.T

    def theta(self, sigma: np.ndarray) -> np.ndarray:
        lower = np.linalg.cholesky(sigma)[self.rows, self.cols]
        return np.where(self.diag, np.log(np.where(self.diag, lower, 1.0)), lower)

    def gradient(self, theta: np.ndarray, d_sigma: np.ndarray) -> np.ndarray:
        """∂f/∂θ from the symmetric ∂f/∂Σ (df = tr(G dΣ) = 2 tr(L′G dL))."""
        lower = np.zeros((self.n, self.n))
        lower[self.rows, self.cols] = np.where(self.diag, np.exp(theta), theta)
        d_lower = 2 * (d_sigma @ lower)[self.rows, self.cols]
        return np.where(self.diag, d_lower * np.exp(theta), d_lower)


class MixedModelRepeatedMeasures:
    """REML MMRM with unstructured covariance and Satterthwaite degrees of freedom.

    `fit(x, y, groups, visit, names)`: `visit` holds 0-based visit indices, one row per
    participant × attended visit. After fitting: `params_`, `se_`, `df_` (Satterthwaite,
    per coefficient), `covariance_` (Σ̂), `cov_params_`, `iterations_`, `names_`.
    """

    params_: np.ndarray
    se_: np.ndarray
    df_: np.ndarray
    covariance_: np.ndarray
    cov_params_: np.ndarray
    iterations_: int
    names_: list[str]

    def __init__(self, alpha: float = 0.05, max_iter: int = 500, gtol: float = 1e-9) -> None:
        self.alpha = alpha
        self.max_iter = max_iter
        self.gtol = gtol

    def fit(
        self, x: np.ndarray, y: np.ndarray, groups: Any, visit: np.ndarray, names: list[str]
    ) -> MixedModelRepeatedMeasures:
        visit = np.asarray(visit, int)
        n_visits = int(visit.max()) + 1
        self.names_ = list(names)
        _require_estimable_covariance(x, visit, n_visits)
        patterns = _patterns(x, y, groups, visit, n_visits)
        self._param = _Cholesky(n_visits)
        self._patterns, self._p = patterns, x.shape[1]
        theta = self._minimise(self._param.theta(_start(x, y, visit, n_visits)))
        best = self._at(theta)
        self.covariance_ = self._param.sigma(theta)
        self.params_, self.cov_params_ = best.beta, best.cov_beta
        self.se_ = np.sqrt(np.diag(best.cov_beta))
        self.df_ = self._satterthwaite(theta)
        return self

    def _at(self, theta: np.ndarray) -> _Evaluation:
        return _evaluate(self._patterns, self._param.sigma(theta), self._p)

    def _objective(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            ev = self._at(theta)
        except (np.linalg.LinAlgError, NotEstimable):
            return math.inf, np.zeros_like(theta)
        return ev.criterion, self._param.gradient(theta, ev.gradient)

    def _minimise(self, theta: np.ndarray) -> np.ndarray:
        """BFGS with Armijo backtracking (see the convergence rule in the loop)."""
        f, grad = self._objective(theta)
        if not math.isfinite(f):
            raise NotEstimable("the starting covariance is not positive definite")
        # The first step moves θ (log SDs, Cholesky factors) by at most 0.5; the gradient
        # grows with the number of participants, so a fixed scale would overshoot.
        h_inv = np.eye(len(theta)) * min(0.1, 0.5 / max(np.abs(grad).max(), 1e-12))
        for iteration in range(1, self.max_iter + 1):
            self.iterations_ = iteration
            direction = -h_inv @ grad
            longest = np.abs(direction).max()
            if longest > MAX_STEP:
                direction *= MAX_STEP / longest
            # Converged when the gradient is small, or when the decrease BFGS still
            # predicts is below what the criterion can resolve in floating point.
            if np.abs(grad).max() < self.gtol * (1 + abs(f)) or 0 <= -(direction @ grad) < 1e-13 * (
                1 + abs(f)
            ):
                return theta
            if direction @ grad >= 0:  # not a descent direction: restart from the gradient
                scale = min(0.1, 0.5 / max(np.abs(grad).max(), 1e-12))
                h_inv, direction = np.eye(len(theta)) * scale, -scale * grad
            step, new_f, new_grad = _backtrack(self._objective, theta, f, grad, direction)
            if step is None:
                break
            s, yk = step, new_grad - grad
            if s @ yk > 1e-12:
                if iteration == 1:  # Nocedal & Wright (6.20): rescale before the first update
                    h_inv = np.eye(len(theta)) * float(s @ yk) / float(yk @ yk)
                rho = 1 / (s @ yk)
                v = np.eye(len(theta)) - rho * np.outer(s, yk)
                h_inv = v @ h_inv @ v.T + rho * np.outer(s, s)
            theta, f, grad = theta + s, new_f, new_grad
        if np.abs(grad).max() < 1e-6 * (1 + abs(f)):
            return theta  # the line search stalled at the optimum within rounding
        raise NotEstimable(
            f"the MMRM did not converge in {self.iterations_} iterations "
            "(largest REML gradient "
            f"{np.abs(grad).max():.2g}): too few participants per visit to "
            "estimate an unstructured covariance"
        )

    def _satterthwaite(self, theta: np.ndarray) -> np.ndarray:
        """Per-coefficient Satterthwaite df from the observed REML information."""
        k = len(theta)
        steps = 1e-4 * np.maximum(1.0, np.abs(theta))
        hessian = np.empty((k, k))
        jac = np.empty((k, self._p))
        for r in range(k):
            e = np.zeros(k)
            e[r] = steps[r]
            up, down = self._at(theta + e), self._at(theta - e)
            hessian[r] = (
                self._param.gradient(theta + e, up.gradient)
                - self._param.gradient(theta - e, down.gradient)
            ) / (2 * steps[r])
            jac[r] = (np.diag(up.cov_beta) - np.diag(down.cov_beta)) / (2 * steps[r])
        hessian = (hessian + hessian.T) / 2
        cov_theta = 2 * np.linalg.inv(hessian)  # criterion = −2ℓ: Cov(θ̂) = (½ H)⁻¹
        var = np.diag(self.cov_params_)
        spread = np.einsum("rk,rs,sk->k", jac, cov_theta, jac)
        df = 2 * var**2 / spread
        if not np.all(np.isfinite(df) & (df > 0)):
            raise NotEstimable(
                "the Satterthwaite degrees of freedom are not estimable: the "
                "REML information of the covariance is not positive definite "
                "(a variance or correlation at its boundary)"
            )
        return df

    def effect(self, name: str) -> dict[str, Any]:
        """Estimate, SE, Satterthwaite df, t-based CI and p of one coefficient."""
        i = self.names_.index(name)
        est, se, df = float(self.params_[i]), float(self.se_[i]), float(self.df_[i])
        return {
            "estimate": est,
            "se": se,
            "df": df,
            "ci95": t_ci(est, se, df, 1 - self.alpha),
            "p": t_two_sided_p(est / se, df),
        }


def _backtrack(
    objective: Any, theta: np.ndarray, f: float, grad: np.ndarray, direction: np.ndarray
) -> tuple[np.ndarray | None, float, np.ndarray]:
    scale = 1.0
    slope = float(direction @ grad)
    for _ in range(50):
        step = scale * direction
        new_f, new_grad = objective(theta + step)
        if math.isfinite(new_f) and new_f <= f + 1e-4 * scale * slope:
            return step, new_f, new_grad
        scale /= 2
    return None, f, grad


def _require_estimable_covariance(x: np.ndarray, visit: np.ndarray, n_visits: int) -> None:
    """Each visit needs more observations than its own coefficients to have a variance."""
    counts = np.bincount(visit, minlength=n_visits)
    if counts.min() < 2:
        raise NotEstimable(
            f"a visit has {counts.min()} PF value(s): an unstructured "
            "covariance needs at least 2 per visit"
        )
    if len(visit) <= x.shape[1]:
        raise NotEstimable(f"{len(visit)} observations for {x.shape[1]} coefficients")


def _start(x: np.ndarray, y: np.ndarray, visit: np.ndarray, n_visits: int) -> np.ndarray:
    """Diagonal Σ from the OLS residual variance at each visit (positive definite)."""
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    resid = y - x @ beta
    var = np.array([np.mean(resid[visit == v] ** 2) for v in range(n_visits)])
    floor = max(float(np.var(y)) * 1e-3, 1e-6)
    return np.diag(np.maximum(var, floor))
