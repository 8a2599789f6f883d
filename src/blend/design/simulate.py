"""The ADEMP simulator: many trials per scenario, analysed, summarised with Monte Carlo SEs.

Methods per simulated trial (``analyse``):

- ``itt_cc``: complete-case ITT ANCOVA, PF4 ~ 1 + arm + PF0 (OLS);
- ``cace_2sls``: CACE by 2SLS, PF4 ~ 1 + PF0 + [received ~ arm], complete cases;
- ``itt_mi`` (when ``mi`` ≥ 2): ITT ANCOVA among survivors after ``mi`` proper normal
  imputations by arm of the missing 4-week PF (on PF0 and the prognostic score X),
  pooled with Rubin's rules (Barnard–Rubin df). Deaths are not imputed.

Tests and CIs use t with the residual (or Barnard–Rubin) df.

Reproducibility: replicates run in fixed chunks of ``CHUNK`` (independent of the number
of worker processes). Chunk i of a scenario uses ``SeedSequence(scenario.entropy()).spawn``
child i + 1, child 0 draws the population for the true estimands. The results therefore
do not depend on the number of workers, and a scenario's results do not depend on the
other scenarios in the grid; raising ``reps`` keeps the earlier complete chunks unchanged.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from .dgm import Trials, distinct, generate, true_estimands
from .estimators import impute_normal, ols, rubin, tsls
from .samplesize import Assumptions, analytic_power
from .scenario import Scenario

if TYPE_CHECKING:
    from concurrent.futures import Executor


def t_quantile(p: float, df: np.ndarray) -> np.ndarray:
    """The p-quantile of Student's t per df: the very function ``scipy.stats.t.ppf`` calls.

    Solved once per distinct df (replicates share few: n − k without missing data).
    """
    from scipy.special import stdtrit  # only when a decision needs the exact value

    unique, where = np.unique(df, return_inverse=True)
    return np.asarray(stdtrit(unique, p))[where].reshape(np.shape(df))


# Where blend.stats.distributions.t_quantile (pure Python) is within 1e-9 of stdtrit
# (tests/core/design/test_simulate_pinned.py checks the whole domain; the worst seen is
# 1.4e-10, at df near 10^5); _BAND is 10× that bound.
_PURE_DF = (1.0, 1e5)
_PURE_P = (0.75, 0.9995)
_PURE_MAX_DISTINCT = 200
_BAND = 1e-8


def _pure_quantile(p: float, df: np.ndarray) -> np.ndarray | None:
    """t quantiles to 1e-9 without importing scipy, or None outside the checked domain."""
    unique, where = distinct(df)  # df > 0 here: performance() dropped the failed replicates
    inside = (
        _PURE_P[0] <= p <= _PURE_P[1]
        and unique.size <= _PURE_MAX_DISTINCT
        and unique.size > 0
        and _PURE_DF[0] <= unique[0]
        and unique[-1] <= _PURE_DF[1]
    )
    if not inside:
        return None
    from blend.stats.distributions import t_quantile as pure

    return np.array([pure(p, float(v)) for v in unique])[where].reshape(np.shape(df))


def _decisions(
    theta: np.ndarray, se: np.ndarray, df: np.ndarray, truth: float, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """(reject, cover) per replicate, exactly as with ``scipy.stats.t.ppf`` critical values.

    Importing scipy.special for the quantile cost more than the closed form of a whole run
    (issue 15). The pure quantile is within 1e-9 of stdtrit; a decision can differ only
    when a statistic lies within that of the critical value, so when none lies within
    ``_BAND`` (10× more) the pure values decide, and otherwise the exact ones are used.
    """
    p = 1 - alpha / 2
    near = _pure_quantile(p, df)
    if near is not None:
        t_stat, distance = np.abs(theta / se), np.abs(theta - truth)
        ambiguous = (np.abs(t_stat - near) <= _BAND * near) | (
            np.abs(distance - near * se) <= _BAND * near * se
        )
        if not ambiguous.any():
            return t_stat > near, distance <= near * se
    crit = t_quantile(p, df)
    return np.abs(theta / se) > crit, np.abs(theta - truth) <= crit * se


CHUNK = 500
ESTIMAND_OF = {"itt_cc": "itt", "cace_2sls": "cace", "itt_mi": "itt"}

Estimates = dict[str, np.ndarray]


def _stack(*columns: np.ndarray) -> np.ndarray:
    return np.stack(columns, axis=-1)


def _estimates(est: np.ndarray, se: np.ndarray, df: np.ndarray) -> Estimates:
    return {"est": est, "se": se, "df": df}


def analyse_itt(t: Trials, se: str = "model") -> Estimates:
    fit = ols(_stack(np.ones_like(t.y), t.arm, t.pf0), t.y, t.observed, se)
    return _estimates(*fit.coef(1), fit.df)


def analyse_cace(t: Trials, se: str = "model") -> Estimates:
    fit = tsls(
        _stack(np.ones_like(t.y), t.pf0),
        t.received[..., None],
        t.arm[..., None],
        t.y,
        t.observed,
        se,
    )
    return _estimates(*fit.coef(2), fit.df)


def analyse_mi(t: Trials, m: int, rng: np.random.Generator, se: str = "model") -> Estimates:
    predictors = _stack(np.ones_like(t.y), t.pf0, t.x)
    design = _stack(np.ones_like(t.y), t.arm, t.pf0)
    arm = t.arm.astype(bool)
    est, var, df = [], [], None
    for _ in range(m):
        y = t.y
        for group in (arm, ~arm):  # impute separately by arm (analysis-methods.md §2.2)
            y = impute_normal(rng, predictors, y, t.observed, t.alive & group)
        fit = ols(design, y, t.alive, se)
        beta, s = fit.coef(1)
        est.append(beta)
        var.append(s**2)
        df = fit.df
    assert df is not None, "multiple imputation runs at least one imputation"
    pooled, pooled_se, pooled_df = rubin(np.array(est), np.array(var), df)
    return _estimates(pooled, pooled_se, pooled_df)


def analyse(sc: Scenario, t: Trials, rng: np.random.Generator) -> dict[str, Estimates]:
    out = {"itt_cc": analyse_itt(t, sc.se), "cace_2sls": analyse_cace(t, sc.se)}
    if sc.mi:
        out["itt_mi"] = analyse_mi(t, sc.mi, rng, sc.se)
    return out


def run_chunk(sc: Scenario, seed: np.random.SeedSequence, reps: int) -> dict[str, Any]:
    """Simulate and analyse ``reps`` trials from one seed; returns the per-replicate results."""
    rng = np.random.Generator(np.random.PCG64(seed))
    trials = generate(sc, rng, reps)
    offered = trials.arm.sum(axis=1)
    return {
        "methods": analyse(sc, trials, rng),
        "data": {
            "not_receiving_among_offered": 1 - trials.received.sum(axis=1) / np.maximum(offered, 1),
            "dead": 1 - trials.alive.mean(axis=1),
            "missing_among_survivors": 1
            - trials.observed.sum(axis=1) / np.maximum(trials.alive.sum(axis=1), 1),
            "analysed": trials.observed.sum(axis=1).astype(float),
            "intervention": offered,
        },
    }


def _chunks(sc: Scenario) -> list[tuple[np.random.SeedSequence, int]]:
    count = math.ceil(sc.reps / CHUNK)
    children = np.random.SeedSequence(sc.entropy()).spawn(count + 1)
    return [(children[i + 1], min(CHUNK, sc.reps - i * CHUNK)) for i in range(count)]


def population_seed(sc: Scenario) -> np.random.SeedSequence:
    return np.random.SeedSequence(sc.entropy()).spawn(1)[0]


def _mcse_sd(values: np.ndarray) -> float:
    return float(values.std(ddof=1) / math.sqrt(2 * (values.size - 1)))


def performance(est: Estimates, truth: float, alpha: float) -> dict[str, Any]:
    """Power, bias, empirical and model SE, coverage, each with its Monte Carlo SE (Morris 2019)."""
    ok = np.isfinite(est["est"]) & np.isfinite(est["se"]) & (est["df"] > 0)
    theta, se, df = est["est"][ok], est["se"][ok], est["df"][ok]
    r = theta.size
    reject, cover = _decisions(theta, se, df, truth, alpha)
    power, coverage = float(reject.mean()), float(cover.mean())
    emp_se = float(theta.std(ddof=1))
    model_se = float(np.sqrt(np.mean(se**2)))
    return {
        "true": truth,
        "reps": r,
        "failed": int((~ok).sum()),
        "mean": float(theta.mean()),
        "power": power,
        "power_mcse": math.sqrt(power * (1 - power) / r),
        "bias": float(theta.mean() - truth),
        "bias_mcse": emp_se / math.sqrt(r),
        "emp_se": emp_se,
        "emp_se_mcse": _mcse_sd(theta),
        "model_se": model_se,
        "model_se_mcse": float(np.sqrt(np.var(se**2, ddof=1) / (4 * r * model_se**2))),
        "coverage": coverage,
        "coverage_mcse": math.sqrt(coverage * (1 - coverage) / r),
    }


def _analytic(sc: Scenario) -> float:
    """The analytic power for this scenario's n, counting death and non-response as loss."""
    lost = 1 - (1 - sc.death) * (1 - sc.missing)
    refusal = 1 - (1 - sc.refusal) * (1 - sc.noncompletion)
    a = Assumptions(sd=sc.sd, rho=sc.rho, refusal=refusal, missing=lost, alpha=sc.alpha, power=0.8)
    return analytic_power(sc.delta, sc.n / 2, a) if sc.delta else sc.alpha


def summarise(sc: Scenario, parts: list[dict[str, Any]], truth: dict[str, float]) -> dict[str, Any]:
    methods = {
        name: performance(
            {
                k: np.concatenate([p["methods"][name][k] for p in parts])
                for k in ("est", "se", "df")
            },
            truth[ESTIMAND_OF[name]],
            sc.alpha,
        )
        for name in parts[0]["methods"]
    }
    data = {
        k: float(np.concatenate([p["data"][k] for p in parts]).mean()) for k in parts[0]["data"]
    }
    return {
        "scenario": {**sc.identity(), "name": sc.name, "reps": sc.reps},
        "seed_entropy": sc.entropy(),
        "true": truth,
        "power": methods["itt_cc"]["power"],
        "power_mcse": methods["itt_cc"]["power_mcse"],
        "analytic_power": _analytic(sc),
        "methods": methods,
        "data": data,
    }


#: Below this many simulated patients in all (replicates × n, summed over the scenarios)
#: the work runs in this process: starting worker processes costs more than it saves
#: (0.1 s against ~0.45 s of work at 10^4 replicates of n = 100).
INLINE_PATIENTS = 2_000_000


def default_workers(scenarios: Iterable[Scenario] = ()) -> int:
    if sum(sc.reps * sc.n for sc in scenarios) <= INLINE_PATIENTS:
        return 1
    return max(1, min(2, os.cpu_count() or 1))


def run(
    scenarios: Iterable[Scenario],
    workers: int | None = None,
    progress: Callable[[int], Any] | None = None,
) -> list[dict[str, Any]]:
    """Run every scenario; ``progress(k)`` is called after each finished chunk of k replicates."""
    scenarios = list(scenarios)
    workers = default_workers(scenarios) if workers is None else workers
    if workers <= 1:
        return [_run_inline(sc, progress) for sc in scenarios]
    # Imported here: concurrent.futures.process, multiprocessing with it, costs ≈ 0.03 s of
    # start-up that a default run, which stays in this process, need not pay (issue 15).
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        return _run_pool(scenarios, pool, progress)


def _run_inline(sc: Scenario, progress: Callable[[int], Any] | None) -> dict[str, Any]:
    parts = []
    for seed, reps in _chunks(sc):
        parts.append(run_chunk(sc, seed, reps))
        if progress:
            progress(reps)
    truth = true_estimands(sc, np.random.Generator(np.random.PCG64(population_seed(sc))))
    return summarise(sc, parts, truth)


def _run_pool(
    scenarios: list[Scenario], pool: Executor, progress: Callable[[int], Any] | None
) -> list[dict[str, Any]]:
    futures = [
        [(pool.submit(run_chunk, sc, seed, reps), reps) for seed, reps in _chunks(sc)]
        for sc in scenarios
    ]
    truths = [
        pool.submit(true_estimands, sc, np.random.Generator(np.random.PCG64(population_seed(sc))))
        for sc in scenarios
    ]
    results = []
    for sc, chunk_futures, truth in zip(scenarios, futures, truths, strict=True):
        parts = []
        for future, reps in chunk_futures:
            parts.append(future.result())
            if progress:
                progress(reps)
        results.append(summarise(sc, parts, truth.result()))
    return results
