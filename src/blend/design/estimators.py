"""Closed-form OLS, 2SLS and MI estimators batched over replicates (numpy).

Every function takes stacked designs of shape (reps, n, k), an outcome (reps, n) and a
0/1 weight (reps, n) that selects the analysed rows of each replicate (e.g. complete
cases), and returns per-replicate estimates, standard errors and residual df. The
results equal statsmodels ``OLS`` (``nonrobust`` or ``HC3``) and linearmodels
``IV2SLS(...).fit(cov_type="unadjusted" | "robust", debiased=True)`` on the selected
rows to ~1e-12 (tests check 1e-9). A replicate whose design is singular (e.g. nobody
received the intervention) gets NaN and is counted as failed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_HADAMARD_LIMIT = 1e-10


@dataclass(frozen=True)
class Fit:
    beta: np.ndarray  # (reps, k)
    cov: np.ndarray  # (reps, k, k)
    df: np.ndarray  # (reps,) residual degrees of freedom

    def coef(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """(estimate, SE) of coefficient j."""
        return self.beta[:, j], np.sqrt(self.cov[:, j, j])


def _weighted(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``a * w[..., None]``, the same products in half the time, laid out like ``a``.

    Broadcasting over a last axis of 2 or 3 columns runs numpy's slow short inner loop;
    a column at a time runs its long one (issue 15: the Gram matrices' share of a run).
    """
    out = np.empty_like(a)
    for i in range(a.shape[-1]):
        np.multiply(a[..., i], w, out=out[..., i])
    return out


def _gram(a: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ_i w_i a_i b_iᵀ per replicate (a batched matmul; faster than einsum here)."""
    return _gram_weighted(_weighted(a, w), b)


def _gram_weighted(aw: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ_i (w_i a_i) b_iᵀ from the weighted rows, so two Gram matrices can share them."""
    return np.matmul(aw.transpose(0, 2, 1), b)


def _join(*blocks: np.ndarray) -> np.ndarray:
    """``np.concatenate(blocks, axis=-1)``: the same array, stacked from the columns.

    np.concatenate copies the (reps, n, k) blocks three times slower than np.stack copies
    their columns (issue 15); the values and the C layout are the same.
    """
    return np.stack([b[..., i] for b in blocks for i in range(b.shape[-1])], axis=-1)


def _project(z: np.ndarray, proj: np.ndarray) -> np.ndarray:
    """``np.einsum("rni,rij->rnj", z, proj)``, the same bits in a sixth of the time.

    That einsum was the slowest step of a default ``blend simulate`` (issue 15): its generic
    loop multiplies one element at a time. It accumulates each output from zero over i in
    increasing order, with no fused multiply-add; so do these whole-plane multiplies and
    adds (on contiguous copies of z's columns, the fast case of numpy's loops), so every
    estimate stays identical: tests/core/design/test_estimators.py compares the two bit
    for bit, and the pinned estimates hold. The result is C-contiguous like the einsum's,
    so the sums over it that follow run in the same order too.
    """
    planes = [np.ascontiguousarray(z[..., i]) for i in range(z.shape[-1])]
    out = np.empty(z.shape[:-1] + proj.shape[-1:])
    for j in range(proj.shape[-1]):
        column = np.zeros(z.shape[:-1])
        for i, plane in enumerate(planes):
            column += plane * proj[:, i, j, None]
        out[..., j] = column
    return out


def _inverse(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inverse, ok) of positive semi-definite Gram matrices; near-singular ones get NaN.

    The Hadamard ratio det(A)/Π diag(A) lies in [0, 1] for PSD A and is ~0 when A is
    (near) singular; it is much cheaper than an SVD condition number.
    """
    diag = np.prod(np.diagonal(matrix, axis1=1, axis2=2), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = np.linalg.det(matrix) > _HADAMARD_LIMIT * diag
    safe = np.where(ok[:, None, None], matrix, np.eye(matrix.shape[-1]))
    inv = np.linalg.inv(safe)
    inv[~ok] = np.nan
    return inv, ok


def ols(x: np.ndarray, y: np.ndarray, w: np.ndarray, se: str = "model") -> Fit:
    """OLS of y on x over rows with w = 1; ``se`` = "model" (classical) or "robust" (HC3)."""
    w = w.astype(float)
    bread, _ = _inverse(_gram(x, w, x))
    beta = np.einsum("rij,rj->ri", bread, np.einsum("rni,rn,rn->ri", x, w, y))
    resid = (y - np.einsum("rni,ri->rn", x, beta)) * w
    nobs, k = w.sum(axis=1), x.shape[-1]
    df = nobs - k
    if se == "model":
        cov = bread * ((resid**2).sum(axis=1) / df)[:, None, None]
    else:
        leverage = np.einsum("rni,rij,rnj->rn", x, bread, x)
        scale = w * resid**2 / np.where(w > 0, 1 - leverage, 1.0) ** 2
        cov = bread @ _gram(x, scale, x) @ bread
    return Fit(beta, cov, df)


def tsls(
    exog: np.ndarray,
    endog: np.ndarray,
    instruments: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    se: str = "model",
) -> Fit:
    """2SLS of y on [exog, endog] with instruments [exog, instruments] over rows with w = 1.

    Coefficients are ordered [exog..., endog...] as in linearmodels. SEs are linearmodels'
    "unadjusted" (``se="model"``) or "robust" (HC0), both with ``debiased=True``
    (scaled by n/(n−k)); residuals use the actual, not the fitted, endogenous values.
    """
    w = w.astype(float)
    x = _join(exog, endog)
    z = _join(exog, instruments)
    zw = _weighted(z, w)  # shared by ZᵀZ and ZᵀX
    zz_inv, ok_z = _inverse(_gram_weighted(zw, z))
    proj = zz_inv @ _gram_weighted(zw, x)  # (ZᵀZ)⁻¹ZᵀX
    xhat = _project(z, proj)  # P_Z X
    bread, _ = _inverse(_gram(xhat, w, xhat))
    beta = np.einsum("rij,rj->ri", bread, np.einsum("rni,rn,rn->ri", xhat, w, y))
    resid = (y - np.einsum("rni,ri->rn", x, beta)) * w
    nobs, k = w.sum(axis=1), x.shape[-1]
    df = nobs - k
    if se == "model":
        cov = bread * ((resid**2).sum(axis=1) / df)[:, None, None]
    else:
        cov = bread @ _gram(xhat, w * resid**2, xhat) @ bread * (nobs / df)[:, None, None]
    cov[~ok_z] = np.nan
    return Fit(beta, cov, df)


def rubin(
    estimates: np.ndarray, variances: np.ndarray, df_complete: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Pool (M, reps) estimates with Rubin's rules; df by Barnard & Rubin (1999).

    Returns (estimate, SE, df) per replicate (analysis-methods.md §2.3).
    """
    m = estimates.shape[0]
    qbar = estimates.mean(axis=0)
    ubar = variances.mean(axis=0)
    b = estimates.var(axis=0, ddof=1)
    t = ubar + (1 + 1 / m) * b
    gamma = np.where(t > 0, (1 + 1 / m) * b / t, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        nu_rubin = (m - 1) / gamma**2
        nu_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - gamma)
        nu = 1 / (1 / nu_rubin + 1 / nu_obs)
    return qbar, np.sqrt(t), np.where(gamma > 0, nu, df_complete)


def impute_normal(
    rng: np.random.Generator,
    x: np.ndarray,
    y: np.ndarray,
    observed: np.ndarray,
    target: np.ndarray,
) -> np.ndarray:
    """One proper draw of y where ``target & ~observed`` from a Bayesian normal linear model.

    Fit y ~ x on rows ``target & observed``; draw σ*² = RSS/χ²(df), β* ~ N(β̂, σ*²(XᵀX)⁻¹),
    impute x·β* + σ*·ε (Rubin 1987, the "norm" method of mice).
    """
    w = (target & observed).astype(float)
    bread, ok = _inverse(_gram(x, w, x))
    bread = np.where(ok[:, None, None], bread, np.eye(x.shape[-1]))  # failed later, not here
    beta_hat = np.einsum("rij,rj->ri", bread, np.einsum("rni,rn,rn->ri", x, w, y))
    resid = (y - np.einsum("rni,ri->rn", x, beta_hat)) * w
    df = np.maximum(w.sum(axis=1) - x.shape[-1], 1)
    sigma = np.sqrt((resid**2).sum(axis=1) / rng.chisquare(df))
    noise = np.einsum("rij,rj->ri", np.linalg.cholesky(bread), rng.standard_normal(beta_hat.shape))
    beta = beta_hat + sigma[:, None] * noise
    draw = np.einsum("rni,ri->rn", x, beta) + sigma[:, None] * rng.standard_normal(y.shape)
    return np.where(target & ~observed, draw, y)
