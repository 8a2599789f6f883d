"""Benchmark: `blend analyze` vs an equivalent R script, whole-process times.

For 100 and 10,000 synthetic participants (`blend.stats.synthetic.make_dataset`),
runs `blend analyze` (20 imputations, 5000 bootstrap replicates, report and
figures included) and `Rscript bench/r/analysis.R` (lm, AER::ivreg, coxph,
survdiff, survfit, mice m = 20 + pool, the MMRM as nlme::gls with corSymm +
varIdent, Fine–Gray by cmprsk::crr, 5000-replicate paired bootstrap and CEAC)
on the same files. Each is a fresh process, so start-up and library loading count.
Reports the median wall-clock and CPU (user + sys) time of REPEATS runs, the
ratio Python / R, and checks that the deterministic estimates agree. Records one figure
per size (bench/figures.py): Python's CPU time with R's, measured in the same run, as the
anchor (CPU rather than wall, so other processes on the machine count less); goal ratio
≤ 1.0 at n ≈ 100 and ≤ 0.5 at n ≥ 10^4 (issue 15). R takes about a quarter of an hour at
n = 10^4 (mice, gls and the replicate() bootstrap), so above BENCH_R_MAX_N it is not run
and the figure has no anchor.

Environment: BENCH_REPEATS (default 3), BENCH_SIZES (default "100,10000,100000"),
BENCH_R_MAX_N (default 10000).
"""

from __future__ import annotations

import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from figures import Figure, record

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
R_SCRIPT = ROOT / "bench" / "r" / "analysis.R"
BLEND = Path(sys.executable).with_name("blend")
IMPUTATIONS, BOOTSTRAP = 20, 5000
R_MAX_N = int(os.environ.get("BENCH_R_MAX_N", "10000"))
# (results.json path, key in the R output, relative tolerance): estimates that do not
# depend on random numbers must agree between the two implementations.
CHECKS = [
    (("primary", "itt", "estimate"), "itt_estimate", 1e-9),
    (("primary", "itt", "se"), "itt_se", 1e-9),
    (("primary", "cace", "estimate"), "cace_estimate", 1e-9),
    (("primary", "cace", "se"), "cace_se", 1e-9),
    (("secondary", "overall_survival", "hr"), "os_hr", 1e-6),
    (("secondary", "overall_survival", "logrank_p"), "logrank_p", 1e-6),
    (("secondary", "overall_survival", "median_days", "control"), "median_control", 0),
    (("secondary", "overall_survival", "median_days", "intervention"), "median_intervention", 0),
    # REML is maximised numerically by both programs (gls stops a little earlier)
    (
        ("secondary", "pf_mmrm", "arm_effect_by_timepoint", "w4", "estimate"),
        "mmrm_w4_estimate",
        1e-4,
    ),
    (("secondary", "pf_mmrm", "arm_effect_by_timepoint", "w4", "se"), "mmrm_w4_se", 1e-4),
    (("secondary", "systemic_therapy", "fine_gray", "shr"), "fine_gray_shr", 1e-6),
    (("secondary", "systemic_therapy", "fine_gray", "se_log_shr"), "fine_gray_se", 1e-6),
    # the default CEA imputes by arm with another RNG; the complete case is deterministic
    (("cea", "complete_case", "qaly", "difference"), "delta_qaly", 1e-9),
    (("cea", "complete_case", "cost", "difference"), "delta_cost", 1e-9),
]


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + sys of the child) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run_size(n: int, work: Path, repeats: int, with_r: bool = True) -> dict[str, Any]:
    from blend.stats.synthetic import make_dataset

    data = make_dataset(n, seed=2026, out_dir=work / f"data_{n}")
    py_out, r_out = work / f"py_{n}", work / f"r_{n}.csv"
    py_cmd = [
        str(BLEND),
        "analyze",
        str(data),
        "--out",
        str(py_out),
        "--imputations",
        str(IMPUTATIONS),
        "--bootstrap",
        str(BOOTSTRAP),
        "--no-progress",
    ]
    r_cmd = ["Rscript", str(R_SCRIPT), str(data), str(r_out), str(IMPUTATIONS), str(BOOTSTRAP)]
    py_runs, r_runs = [], []
    for _ in range(repeats):  # interleaved, so machine load affects both alike
        shutil.rmtree(py_out, ignore_errors=True)
        py_runs.append(timed(py_cmd))
        if with_r:
            r_runs.append(timed(r_cmd))
    py_wall = statistics.median(w for w, _ in py_runs)
    py_cpu = statistics.median(c for _, c in py_runs)
    if not with_r:
        return {
            "participants": n,
            "repeats": repeats,
            "python_wall_s": py_wall,
            "python_cpu_s": py_cpu,
            "python_runs": py_runs,
            "r_not_run": f"n above BENCH_R_MAX_N ({R_MAX_N})",
        }
    r_wall = statistics.median(w for w, _ in r_runs)
    r_cpu = statistics.median(c for _, c in r_runs)
    return {
        "participants": n,
        "repeats": repeats,
        "python_wall_s": py_wall,
        "r_wall_s": r_wall,
        "ratio_wall": py_wall / r_wall,
        "python_cpu_s": py_cpu,
        "r_cpu_s": r_cpu,
        "ratio_cpu": py_cpu / r_cpu,
        "python_runs": py_runs,
        "r_runs": r_runs,
        "agreement": agreement(py_out / "results.json", r_out),
    }


def agreement(results_path: Path, r_path: Path) -> dict[str, Any]:
    results = json.loads(results_path.read_text())
    with r_path.open() as fh:
        r_values = {row["key"]: float(row["value"]) for row in csv.DictReader(fh)}
    out: dict[str, Any] = {}
    for path, key, rtol in CHECKS:
        value: Any = results
        for part in path:
            value = value[part]
        expected = r_values[key]
        ok = abs(value - expected) <= rtol * abs(expected) + 1e-12
        out[key] = {"python": value, "r": expected, "agrees": ok}
    out["mi_estimate (different RNG)"] = {
        "python": results["primary"]["itt_mi"]["estimate"],
        "r": r_values["mi_estimate"],
    }
    return out


def figures(rows: list[dict[str, Any]]) -> list[Figure]:
    """Python's CPU time per size against R's from the same run; goal by size."""
    out = []
    for r in rows:
        n = r["participants"]
        goal = 1.0 if n < 10_000 else 0.5
        out.append(
            Figure(
                f"blend analyze, n = {n:,}, report and figures included",
                value=r["python_cpu_s"],
                unit="s CPU",
                anchor=r.get("r_cpu_s"),
                anchor_label="Rscript bench/r/analysis.R, same data" if "r_cpu_s" in r else "",
                goal_ratio_max=goal if "r_cpu_s" in r else None,
                note=(
                    f"median of {r['repeats']}; wall {r['python_wall_s']:.1f} s"
                    + (f" vs R {r['r_wall_s']:.1f} s" if "r_wall_s" in r else "; R not run")
                ),
            )
        )
    return out


def main() -> int:
    repeats = int(os.environ.get("BENCH_REPEATS", "3"))
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "100,10000,100000").split(",")]
    if not shutil.which("Rscript"):
        print(
            "Rscript not found: install r-base-core, r-cran-aer, r-cran-survival, r-cran-mice, "
            "r-cran-nlme, r-cran-cmprsk"
        )
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench_analysis_") as tmp:
        rows = [run_size(n, Path(tmp), repeats, with_r=n <= R_MAX_N) for n in sizes]
    print(
        f"blend analyze vs R ({IMPUTATIONS} imputations, {BOOTSTRAP} bootstrap replicates; "
        f"median of {repeats} whole-process runs; load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"{'n':>7} {'python wall':>12} {'R wall':>8} {'ratio':>6} "
        f"{'python CPU':>11} {'R CPU':>7} {'ratio':>6}  estimates agree"
    )
    for r in rows:
        if "r_cpu_s" not in r:
            print(
                f"{r['participants']:>7} {r['python_wall_s']:>11.2f}s {'—':>8} {'':>6} "
                f"{r['python_cpu_s']:>10.2f}s {'—':>7} {'':>6}  (R not run: {r['r_not_run']})"
            )
            continue
        agree = all(v.get("agrees", True) for v in r["agreement"].values())
        print(
            f"{r['participants']:>7} {r['python_wall_s']:>11.2f}s {r['r_wall_s']:>7.2f}s "
            f"{r['ratio_wall']:>6.2f} {r['python_cpu_s']:>10.2f}s {r['r_cpu_s']:>6.2f}s "
            f"{r['ratio_cpu']:>6.2f}  {'yes' if agree else 'NO'}"
        )
    (OUT / "analysis.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    record("analysis", figures(rows))
    failed = [
        k for r in rows for k, v in r.get("agreement", {}).items() if v.get("agrees") is False
    ]
    if failed:
        print(f"estimates that differ from R: {', '.join(sorted(set(failed)))}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
