"""Speed of `blend simulate`: 10,000 replicates of N = 100 with ITT ANCOVA and CACE 2SLS.

1. Whole process (issue 15): `blend simulate --n 100 --reps 10000` as a user runs it
   (interpreter start, imports, the 10^6-patient true-estimand population, the analysis,
   the JSON), against the bare closed form, measured side by side in the same run: a
   standalone `python -c` script that imports numpy, draws the same normal outcome for
   10^4 trials of 100 (mean 40, SD 20, Δ = 10, 1:1) and computes the two-sample t-test by
   closed form against a hard-coded critical value (CLOSED_FORM below). Runs alternate, and
   the best of ROUNDS is kept for each (load from other processes only ever adds time).
   Goal: ratio ≤ 2. "Analysis only" is the simulator's run() inside this process (no
   start-up, no imports) against the same closed-form process.
2. The vectorised simulator against the plain loop a statistician would write: per
   replicate, a pandas DataFrame, statsmodels OLS and linearmodels IV2SLS, on the very same
   simulated data (same seeds). The loop is timed on a subset of replicates and
   extrapolated to 10,000 (it is linear in the number of replicates); the report says so.

Writes bench/out/design.json and design.figures.json (bench/figures.py).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from blend.design.dgm import Trials, generate
from blend.design.scenario import Scenario, make_scenario
from blend.design.simulate import _chunks, analyse_cace, analyse_itt, run
from figures import Figure, record

ROUNDS = 5
SIMULATE = [
    "-m",
    "blend.cli",
    "simulate",
    "--n",
    "100",
    "--reps",
    "10000",
    "--no-progress",
    "--json",
]
# The bare closed form: numpy only, the same normal outcome, the t-test by hand.
CLOSED_FORM = """
import numpy as np
rng = np.random.Generator(np.random.PCG64(3))
reps, n = 10_000, 100
arm = np.tile(np.arange(n) % 2 == 0, (reps, 1))
y = 40.0 + 20.0 * rng.standard_normal((reps, n)) + 10.0 * arm
n1 = arm.sum(axis=1)
n0 = n - n1
m1 = (y * arm).sum(axis=1) / n1
m0 = (y * ~arm).sum(axis=1) / n0
resid = y - np.where(arm, m1[:, None], m0[:, None])
se = np.sqrt((resid**2).sum(axis=1) / (n - 2) * (1 / n1 + 1 / n0))
print(float((np.abs((m1 - m0) / se) > 1.984467454426692).mean()))  # t(0.975, 98)
"""

REPS = 10_000
LOOP_SUBSET = 300
SCENARIO = Scenario(
    n=100, delta=10, sd=20, rho=0.5, refusal=0.25, death=0.1, missing=0.15, reps=REPS, seed=3
)
OUT = Path(__file__).parent / "out" / "design.json"


def _timed(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return time.perf_counter() - started, value


def _loop(trials: Trials, reps: int, formula: bool) -> tuple[float, np.ndarray]:
    import pandas as pd
    import statsmodels.api as sm
    import statsmodels.formula.api as smf
    from linearmodels.iv import IV2SLS

    estimates = np.empty((reps, 2))
    started = time.perf_counter()
    for r in range(reps):
        keep = trials.observed[r]
        df = pd.DataFrame(
            {
                "pf4": trials.y[r][keep],
                "pf0": trials.pf0[r][keep],
                "arm": trials.arm[r][keep],
                "received": trials.received[r][keep],
            }
        )
        if formula:
            itt = smf.ols("pf4 ~ arm + pf0", df).fit()
            iv = IV2SLS.from_formula("pf4 ~ 1 + pf0 + [received ~ arm]", df).fit(
                cov_type="unadjusted", debiased=True
            )
        else:
            df["const"] = 1.0
            itt = sm.OLS(df.pf4, df[["const", "arm", "pf0"]]).fit()
            iv = IV2SLS(df.pf4, df[["const", "pf0"]], df[["received"]], df[["arm"]]).fit(
                cov_type="unadjusted", debiased=True
            )
        estimates[r] = itt.params["arm"], iv.params["received"]
    return time.perf_counter() - started, estimates


def _cpu() -> float:
    """CPU seconds of this process and its finished children (robust on a busy machine)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _process_seconds(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + sys, its worker processes included) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, *argv], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def whole_process() -> dict[str, Any]:
    """`blend simulate` and the closed form as whole processes, alternating, best of ROUNDS."""
    simulate, closed = [], []
    for _ in range(ROUNDS):
        simulate.append(_process_seconds(SIMULATE))
        closed.append(_process_seconds(["-c", CLOSED_FORM]))
    default = make_scenario({"n": 100, "reps": REPS}, "bench")
    run([default])  # warm: the in-process figure leaves out imports and first-call costs
    analysis = [_timed(run, [default])[0] for _ in range(ROUNDS)]
    return {
        "simulate_whole_process_s": min(w for w, _ in simulate),
        "simulate_whole_process_cpu_s": min(c for _, c in simulate),
        "closed_form_whole_process_s": min(w for w, _ in closed),
        "closed_form_whole_process_cpu_s": min(c for _, c in closed),
        "simulate_in_process_s": min(analysis),
        "runs_wall_cpu": {"simulate": simulate, "closed_form": closed, "in_process": analysis},
        "load_average_1min_before": os.getloadavg()[0],
    }


def _figures(whole: dict[str, Any]) -> list[Figure]:
    label = "bare numpy closed-form t-test, whole process"
    return [
        Figure(
            "blend simulate 10^4 × n=100, whole process",
            value=whole["simulate_whole_process_s"],
            unit="s",
            anchor=whole["closed_form_whole_process_s"],
            anchor_label=label,
            goal_ratio_max=2.0,
            note=f"wall, best of {ROUNDS}, alternating",
        ),
        Figure(
            "blend simulate 10^4 × n=100, whole process, CPU",
            value=whole["simulate_whole_process_cpu_s"],
            unit="s CPU",
            anchor=whole["closed_form_whole_process_cpu_s"],
            anchor_label=label + ", CPU",
            goal_ratio_max=2.0,
            note="user + sys incl. worker processes: robust to other load",
        ),
        Figure(
            "blend simulate 10^4 × n=100, analysis only (run() in process)",
            value=whole["simulate_in_process_s"],
            unit="s",
            anchor=whole["closed_form_whole_process_s"],
            anchor_label=label,
            note="no start-up or imports, as the issue's table",
        ),
    ]


def main() -> int:
    warnings.simplefilter("ignore")
    whole = whole_process()
    results: dict[str, Any] = dict(whole)
    for workers in (1, 2):
        cpu = _cpu()
        seconds, out = _timed(run, [SCENARIO], workers=workers)
        results[f"simulate_workers_{workers}_s"] = seconds
        results[f"simulate_workers_{workers}_cpu_s"] = _cpu() - cpu
    results["load_average_1min"] = os.getloadavg()[0]
    power = out[0]["power"]
    # The same data as the first chunk of the simulation, analysed both ways.
    seed, size = _chunks(SCENARIO)[0]
    gen_s, trials = _timed(generate, SCENARIO, np.random.Generator(np.random.PCG64(seed)), size)
    vec_s, (itt, cace) = _timed(lambda: (analyse_itt(trials), analyse_cace(trials)))
    loops = {}
    for formula in (True, False):
        loop_s, loop_est = _loop(trials, LOOP_SUBSET, formula)
        diff = max(
            np.abs(loop_est[:, 0] - itt["est"][:LOOP_SUBSET]).max(),
            np.abs(loop_est[:, 1] - cace["est"][:LOOP_SUBSET]).max(),
        )
        per_rep = loop_s / LOOP_SUBSET
        loops["formula" if formula else "arrays"] = {
            "measured_replicates": LOOP_SUBSET,
            "measured_s": loop_s,
            "extrapolated_10000_s": per_rep * REPS + gen_s / size * REPS,
            "max_abs_difference_from_vectorised": float(diff),
        }
    best = results["simulate_workers_2_s"]
    results.update(
        {
            "replicates": REPS,
            "n": SCENARIO.n,
            "power_itt": power,
            "vectorised_analysis_per_500_s": vec_s,
            "generation_per_500_s": gen_s,
            "loop": loops,
            "speedup_vs_formula_loop": loops["formula"]["extrapolated_10000_s"] / best,
            "speedup_vs_array_loop": loops["arrays"]["extrapolated_10000_s"] / best,
            "cpu_count": os.cpu_count(),
        }
    )
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    record("design", _figures(whole))
    print(
        f"blend simulate --n 100 --reps 10000, whole process: {whole['simulate_whole_process_s']:.2f} s; "
        f"bare numpy closed form: {whole['closed_form_whole_process_s']:.2f} s "
        f"(ratio {whole['simulate_whole_process_s'] / whole['closed_form_whole_process_s']:.2f}, goal ≤ 2); "
        f"analysis only {whole['simulate_in_process_s']:.2f} s "
        f"(ratio {whole['simulate_in_process_s'] / whole['closed_form_whole_process_s']:.2f})"
    )
    print(
        f"blend simulate, {REPS} replicates of N = {SCENARIO.n}, ITT ANCOVA + CACE 2SLS "
        f"(incl. the 10^6-patient true-estimand population):"
    )
    print(
        f"  1 worker:  {results['simulate_workers_1_s']:.2f} s wall, {results['simulate_workers_1_cpu_s']:.2f} s CPU"
    )
    print(
        f"  2 workers: {results['simulate_workers_2_s']:.2f} s wall, {results['simulate_workers_2_cpu_s']:.2f} s CPU"
        f"   (aim ≤ 5 s)   ITT power {power:.3f}"
    )
    print(
        f"  load average during the run: {results['load_average_1min']:.1f} on {os.cpu_count()} CPUs"
    )
    for name, loop in loops.items():
        print(
            f"  plain loop ({name} API: pandas + statsmodels OLS + linearmodels IV2SLS), timed on "
            f"{loop['measured_replicates']} replicates ({loop['measured_s']:.2f} s) and extrapolated "
            f"to {REPS}: {loop['extrapolated_10000_s']:.0f} s; estimates equal to "
            f"{loop['max_abs_difference_from_vectorised']:.1e}"
        )
    print(
        f"  speed-up (2 workers) vs formula loop: {results['speedup_vs_formula_loop']:.0f}×, "
        f"vs array loop: {results['speedup_vs_array_loop']:.0f}×   (aim ≥ 50×)"
    )
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
