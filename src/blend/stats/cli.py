"""`blend analyze DIR --out OUT` and `blend report dsmb DIR --out OUT`.

Heavy libraries are imported inside the functions so that `--help` is instant.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from blend.stats.analysis import AnalysisResult

STEPS = 9  # validate, primary, MI, survival, pain/AE, longitudinal, CEA, figures, report


def _analyze_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blend analyze",
        description="Validate an analysis dataset (docs/contracts/analysis-dataset.md) and run every "
        "analysis: writes OUT/results.json, OUT/report.html and the figures.",
    )
    parser.add_argument("dataset", type=Path, help="dataset folder (dataset.json + CSV files)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--seed", type=int, default=20260701, help="seed for MI and bootstrap")
    parser.add_argument("--imputations", type=int, default=20, help="MI datasets (default 20)")
    parser.add_argument(
        "--bootstrap", type=int, default=5000, help="CEA bootstrap replicates (default 5000)"
    )
    parser.add_argument(
        "--horizon-days",
        type=int,
        default=182,
        help="CEA horizon in days from randomization (default 182)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def _positive(parser: argparse.ArgumentParser, **values: int) -> None:
    for name, value in values.items():
        if value < 1:
            parser.error(f"--{name.replace('_', '-')}: expected a positive integer, got {value}")


def main_analyze(argv: Sequence[str]) -> int:
    parser = _analyze_parser()
    args = parser.parse_args(list(argv))
    _positive(
        parser,
        imputations=args.imputations,
        bootstrap=args.bootstrap,
        horizon_days=args.horizon_days,
    )
    from tqdm import tqdm

    from blend.stats.analysis import AnalysisConfig, run_analysis
    from blend.stats.dataset import load_dataset
    from blend.stats.errors import ContractError

    bar = tqdm(
        total=STEPS, desc="validate dataset", disable=args.no_progress, unit="step", file=sys.stderr
    )
    try:
        dataset = load_dataset(args.dataset)
        config = AnalysisConfig(
            seed=args.seed,
            imputations=args.imputations,
            bootstrap=args.bootstrap,
            horizon_days=args.horizon_days,
        )

        def step(name: str) -> None:
            bar.update(1)
            bar.set_description(name)

        result = run_analysis(dataset, config, step)
    except ContractError as exc:
        bar.close()
        print(f"blend analyze: invalid dataset: {exc}", file=sys.stderr)
        return 2
    _write_outputs(args.out, result, step)
    bar.update(STEPS - bar.n)
    bar.set_description("done")
    bar.close()
    print(f"wrote {args.out / 'results.json'} and {args.out / 'report.html'}")
    return 0


def _write_outputs(out: Path, result: AnalysisResult, step: Callable[[str], None]) -> None:
    from blend.stats.plots import save_figures
    from blend.stats.report import write_report

    out.mkdir(parents=True, exist_ok=True)
    step("figures")
    figures = save_figures(result, out)
    step("report")
    text = json.dumps(result.results, indent=2, ensure_ascii=False)
    (out / "results.json").write_text(text + "\n", encoding="utf-8")
    write_report(result, figures, out / "report.html")


def main_report(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="blend report", description="Trial reports.")
    sub = parser.add_subparsers(dest="kind", required=True)
    dsmb = sub.add_parser("dsmb", help="safety report for the data-safety monitoring board")
    dsmb.add_argument("dataset", type=Path, help="dataset folder")
    dsmb.add_argument("--out", type=Path, required=True, help="output folder")
    args = parser.parse_args(list(argv))
    from blend.stats.dataset import load_dataset
    from blend.stats.dsmb import write_dsmb_report
    from blend.stats.errors import ContractError

    try:
        dataset = load_dataset(args.dataset)
    except ContractError as exc:
        print(f"blend report dsmb: invalid dataset: {exc}", file=sys.stderr)
        return 2
    path = write_dsmb_report(dataset, args.out)
    print(f"wrote {path}")
    return 0
