"""Writing simulation results: text table, CSV, JSON and the power-versus-n plot."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

SCENARIO_COLUMNS = (
    "name",
    "n",
    "delta",
    "sd",
    "rho",
    "refusal",
    "refusal_prognosis",
    "noncompletion",
    "death",
    "missing",
    "missing_mechanism",
    "continuous",
    "design",
    "mi",
    "reps",
    "seed",
)
METHOD_COLUMNS = (
    "true",
    "mean",
    "power",
    "power_mcse",
    "bias",
    "bias_mcse",
    "emp_se",
    "emp_se_mcse",
    "model_se",
    "model_se_mcse",
    "coverage",
    "coverage_mcse",
    "reps",
    "failed",
)


def rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per scenario and method."""
    out = []
    for result in results:
        scenario = {k: result["scenario"][k] for k in SCENARIO_COLUMNS}
        scenario["analytic_power"] = result["analytic_power"]
        for method, perf in result["methods"].items():
            out.append({**scenario, "method": method, **{f"{k}": perf[k] for k in METHOD_COLUMNS}})
    return out


def write_csv(results: list[dict[str, Any]], path: Path) -> None:
    table = rows(results)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)


def write_json(results: list[dict[str, Any]], path: Path) -> None:
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def text_table(results: list[dict[str, Any]]) -> str:
    width = max(8, *(len(r["scenario"]["name"]) for r in results))
    head = (
        f"{'scenario':<{width}} {'method':<10} {'true':>7} {'power':>13} {'analytic':>8} {'bias':>13} "
        f"{'emp SE':>7} {'mod SE':>7} {'coverage':>13}"
    )
    lines = [head, "-" * len(head)]
    for row in rows(results):
        lines.append(
            f"{row['name']:<{width}} {row['method']:<10} {row['true']:7.2f} "
            f"{row['power']:6.3f}±{row['power_mcse']:.3f} {row['analytic_power']:8.3f} "
            f"{row['bias']:+6.2f}±{row['bias_mcse']:.2f} {row['emp_se']:7.2f} {row['model_se']:7.2f} "
            f"{row['coverage']:6.3f}±{row['coverage_mcse']:.3f}"
        )
    return "\n".join(lines)


def _curve_key(result: dict[str, Any]) -> str:
    s = result["scenario"]
    return (
        f"Δ={s['delta']:g}, refusal={s['refusal']:g}, death={s['death']:g}, "
        f"missing={s['missing']:g}{'' if s['continuous'] else ', PF grid'}"
    )


def plot_power(results: list[dict[str, Any]], path: Path, title: str = "Power against N") -> None:
    """Simulated ITT power (±2 MCSE) per curve of scenarios that differ only in n, and analytic."""
    from blend.stats.mpl2d import matplotlib  # 2-D only: never the 3-D toolkit

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for result in results:
        curves[_curve_key(result)].append(result)
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for i, (label, group) in enumerate(curves.items()):
        group.sort(key=lambda r: r["scenario"]["n"])
        n = [r["scenario"]["n"] for r in group]
        power = [r["power"] for r in group]
        err = [2 * r["power_mcse"] for r in group]
        colour = f"C{i % 10}"
        ax.errorbar(
            n, power, yerr=err, marker="o", ms=4, capsize=2, color=colour, label=f"ITT, {label}"
        )
        if "cace_2sls" in group[0]["methods"]:
            ax.plot(
                n, [r["methods"]["cace_2sls"]["power"] for r in group], ls="--", color=colour, lw=1
            )
        ax.plot(n, [r["analytic_power"] for r in group], ls=":", color=colour, lw=1)
    ax.axhline(0.8, color="grey", lw=0.6)
    ax.set_xlabel("N randomized (total)")
    ax.set_ylabel(f"power (two-sided α = {results[0]['scenario']['alpha']:g})")
    ax.set_ylim(0, 1)
    ax.set_title(
        title + "\nsolid: simulated ITT ±2 MCSE; dashed: CACE 2SLS; dotted: analytic", fontsize=9
    )
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_all(results: list[dict[str, Any]], folder: Path, plot: bool = True) -> list[Path]:
    """results.json, results.csv and (unless ``plot`` is False) power.png in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "results.json", folder / "results.csv"]
    write_json(results, paths[0])
    write_csv(results, paths[1])
    if plot:  # matplotlib is imported inside plot_power, so only a plot pays for it
        paths.append(folder / "power.png")
        plot_power(results, paths[2])
    return paths
