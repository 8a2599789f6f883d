"""Design assessment by simulation (analysis-methods.md §5.4), with the live allocation code.

For ``sequences`` simulated trials of ``n`` allocations (one stratum) it reports:

- the final and maximum |imbalance| distributions, imbalance d = b·n_I − a·n_C
  (n_I − n_C at 1:1);
- the realised allocation ratio (fraction allocated to intervention);
- the Blackwell–Hodges expected number of correct guesses under the convergence
  strategy: before each allocation guess the arm that is behind its target share
  (at 1:1, the arm with fewer allocations so far), and at a tie guess at random,
  which counts as ½ correct in expectation;
- when balancing factors are configured, the covariate (marginal) imbalance:
  Σ over factors and levels of |d| within the level at the end of the trial.
  Participants' levels are drawn independently and uniformly.

Uniforms come from numpy's PCG64 seeded with ``seed``, not from the HMAC stream: the
designs are the same rules either way (``allocate_many`` is proven equal to the
scalar path on HMAC uniforms in the tests) and PCG64 is ~100× faster.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .spec import DesignSpec


def _distribution(values: np.ndarray) -> dict[str, Any]:
    counts = np.bincount(values)
    share = counts / values.size
    return {
        "mean": float(values.mean()),
        "mcse": float(values.std(ddof=1) / math.sqrt(values.size)) if values.size > 1 else None,
        "max": int(values.max()),
        "distribution": {str(v): float(share[v]) for v in np.flatnonzero(counts)},
    }


def running_imbalance(arms: np.ndarray, spec: DesignSpec) -> np.ndarray:
    """d after each allocation, per sequence (int array of the same shape as ``arms``)."""
    a, b = spec.ratio.intervention, spec.ratio.control
    return np.cumsum(np.where(arms == 1, b, -a), axis=1)


def correct_guesses(arms: np.ndarray, spec: DesignSpec) -> np.ndarray:
    """Expected correct convergence-strategy guesses per sequence (ties count ½)."""
    d = running_imbalance(arms, spec)
    before = np.concatenate([np.zeros((arms.shape[0], 1), dtype=d.dtype), d[:, :-1]], axis=1)
    right = np.where(before > 0, arms == 0, np.where(before < 0, arms == 1, 0.5))
    return right.sum(axis=1)


def simulate_levels(
    spec: DesignSpec, rng: np.random.Generator, shape: tuple[int, int]
) -> np.ndarray | None:
    """Uniformly drawn balancing-factor level indices (sequences, n, factors), or None."""
    if not spec.factors:
        return None
    return np.stack(
        [rng.integers(0, len(levels), size=shape) for _, levels in spec.factors], axis=-1
    )


def marginal_imbalance(arms: np.ndarray, levels: np.ndarray, spec: DesignSpec) -> np.ndarray:
    """Σ_f Σ_level |b·n_I − a·n_C| among participants at that level, per sequence."""
    a, b = spec.ratio.intervention, spec.ratio.control
    step = np.where(arms == 1, b, -a)
    total = np.zeros(arms.shape[0], dtype=np.int64)
    for f, (_, names) in enumerate(spec.factors):
        for level in range(len(names)):
            total += np.abs((step * (levels[:, :, f] == level)).sum(axis=1))
    return total


def assess(spec: DesignSpec, n: int, sequences: int, seed: int) -> dict[str, Any]:
    """Simulate ``sequences`` trials of ``n`` allocations and summarise balance and predictability."""
    if n < 1 or sequences < 2:
        raise ValueError(
            f"n, sequences: expected n ≥ 1 and sequences ≥ 2, got n={n}, sequences={sequences}"
        )
    rng = np.random.default_rng(seed)
    u = rng.random((sequences, n))
    levels = simulate_levels(spec, rng, (sequences, n))
    arms = spec.build().allocate_many(u, levels)
    d = running_imbalance(arms, spec)
    guesses = correct_guesses(arms, spec)
    fraction = arms.mean(axis=1)
    result: dict[str, Any] = {
        "spec": spec.as_dict(),
        "n": n,
        "sequences": sequences,
        "seed": seed,
        "final_imbalance": _distribution(np.abs(d[:, -1])),
        "max_imbalance": _distribution(np.abs(d).max(axis=1)),
        "allocation_ratio": {
            "target_intervention_fraction": spec.ratio.p,
            "intervention_fraction": float(fraction.mean()),
            "mcse": float(fraction.std(ddof=1) / math.sqrt(sequences)),
        },
        "correct_guesses": {
            "strategy": "convergence (Blackwell-Hodges), ties guessed at random",
            "expected": float(guesses.mean()),
            "proportion": float(guesses.mean() / n),
            "mcse_proportion": float(guesses.std(ddof=1) / math.sqrt(sequences) / n),
            "excess_over_half": float(guesses.mean() - n / 2),
        },
    }
    if levels is not None:
        marginal = marginal_imbalance(arms, levels, spec)
        result["marginal_imbalance"] = {
            "mean": float(marginal.mean()),
            "mcse": float(marginal.std(ddof=1) / math.sqrt(sequences)),
        }
    return result
