"""``blend design sample-size | detectable-delta`` and ``blend simulate``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from .samplesize import Assumptions, DesignInputError, detectable_delta, sample_size
from .scenario import (
    DESIGNS,
    MECHANISMS,
    SE_TYPES,
    Scenario,
    ScenarioError,
    load_grid,
    make_scenario,
)


def _assumption_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sd", type=float, default=20.0, help="SD of PF at 4 weeks (default 20)")
    parser.add_argument(
        "--rho", type=float, default=0.5, help="baseline–4-week correlation (default 0.5)"
    )
    parser.add_argument(
        "--refusal", type=float, default=0.0, help="refusal in the intervention arm"
    )
    parser.add_argument(
        "--missing", type=float, default=0.0, help="dead or without a primary outcome"
    )
    parser.add_argument("--alpha", type=float, default=0.05, help="two-sided (default 0.05)")
    parser.add_argument("--power", type=float, default=0.8, help="target power (default 0.8)")
    parser.add_argument(
        "--mixture",
        action="store_true",
        help="also inflate for the acceptor/refuser mixture variance",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def _design_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blend design", description="Analytic ANCOVA sample size for a TwiCs trial."
    )
    sub = parser.add_subparsers(dest="action", required=True)
    size = sub.add_parser("sample-size", help="n per arm and total for a given Δ")
    size.add_argument(
        "--delta", type=float, required=True, help="effect among acceptors (PF points)"
    )
    _assumption_options(size)
    reverse = sub.add_parser("detectable-delta", help="the Δ detectable with a given n")
    group = reverse.add_mutually_exclusive_group(required=True)
    group.add_argument("--n", type=float, help="total number randomized")
    group.add_argument("--n-per-arm", type=float, help="number randomized per arm")
    _assumption_options(reverse)
    again = sub.add_parser(
        "reestimate",
        help="N needed at the refusal rate observed so far (the trial's [sample_size])",
        description="Without --accepted/--refused the counts come from the trial's offer "
        "records (a database command; see docs/design.md §4).",
    )
    reestimate_options(again)
    again.add_argument("--accepted", type=int, required=True, help="offers accepted so far")
    again.add_argument("--refused", type=int, required=True, help="offers refused so far")
    again.add_argument("--pending", type=int, default=0, help="offers not yet decided")
    return parser


def reestimate_options(parser: argparse.ArgumentParser) -> None:
    """The options the pure and the database form of ``reestimate`` share."""
    parser.add_argument("--trial", required=True, help="trial code, e.g. BLEND")
    parser.add_argument(
        "--planned", type=int, help="the planned total N (default: target_sample_size)"
    )
    parser.add_argument(
        "--level", type=float, default=0.95, help="confidence level of the CI (default 0.95)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def main_design(argv: Sequence[str]) -> int:
    args = _design_parser().parse_args(list(argv))
    if args.action == "reestimate":
        return _main_reestimate(args)
    try:
        a = Assumptions(
            sd=args.sd,
            rho=args.rho,
            refusal=args.refusal,
            missing=args.missing,
            alpha=args.alpha,
            power=args.power,
            mixture=args.mixture,
        )
        if args.action == "sample-size":
            result = sample_size(args.delta, a)
            text = (
                f"n per arm: {result['n_per_arm']} (exact {result['n_per_arm_exact']:.2f}: "
                f"{result['n_per_arm_unadjusted']:.2f} × refusal {result['inflation_refusal']:.3f} "
                f"× missing {result['inflation_missing']:.3f} × mixture {result['inflation_mixture']:.3f})\n"
                f"total N: {result['n_total']}"
            )
        else:
            per_arm = args.n_per_arm if args.n_per_arm is not None else args.n / 2
            result = detectable_delta(per_arm, a)
            text = (
                f"detectable Δ among acceptors: {result['delta']:.2f} PF points "
                f"(ITT effect {result['itt_effect']:.2f}) with {per_arm:g} per arm, "
                f"N = {result['n_total']:g}"
            )
    except DesignInputError as error:
        print(f"blend design {args.action}: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else text)
    return 0


_HELP = {
    "n": "total number randomized",
    "delta": "effect of receiving the intervention (PF points)",
    "refusal": "refusal among those offered",
    "death": "death before week 4",
    "missing": "PROM non-response among survivors",
    "reps": "replicates per scenario",
    "seed": "root seed (each scenario derives its own)",
    "mi": "imputations for MI-ITT (0 = off)",
}
_CHOICES = {"missing_mechanism": MECHANISMS, "design": DESIGNS, "se": SE_TYPES}


def _simulate_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blend simulate", description="ADEMP power simulation of a TwiCs trial."
    )
    group = parser.add_argument_group("scenario (defaults: see docs/design.md)")
    for f in fields(Scenario):
        if f.name == "continuous":
            continue
        flag = "--" + f.name.replace("_", "-")
        kind = {"int": int, "float": float, "str": str}[str(f.type)]  # annotations are strings here
        group.add_argument(
            flag,
            dest=f.name,
            type=kind,
            default=None,
            choices=_CHOICES.get(f.name),
            help=_HELP.get(f.name, f"default {f.default!r}"),
        )
    group.add_argument(
        "--continuous",
        action="store_true",
        default=None,
        help="do not discretise PF onto the C15-PAL grid",
    )
    parser.add_argument(
        "--grid", type=Path, help="TOML scenario grid (arguments override its values)"
    )
    parser.add_argument(
        "--out", type=Path, help="folder for results.json, results.csv and power.png"
    )
    parser.add_argument(
        "--no-plot",
        action="store_true",
        help="with --out, write no power.png (and never import matplotlib)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes (default: 1 up to 2,000,000 simulated patients, else min(2, CPUs))",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _scenarios(args: argparse.Namespace) -> list[Scenario]:
    given: dict[str, Any] = {
        f.name: getattr(args, f.name) for f in fields(Scenario) if getattr(args, f.name) is not None
    }
    if args.grid:
        return load_grid(args.grid, given)
    return [make_scenario(given, "arguments")]


def main_simulate(argv: Sequence[str]) -> int:
    args = _simulate_parser().parse_args(list(argv))
    try:
        scenarios = _scenarios(args)
    except ScenarioError as error:
        print(f"blend simulate: {error}", file=sys.stderr)
        return 2
    from .simulate import run

    if args.no_progress or not sys.stderr.isatty():
        # No bar to draw (tqdm would disable itself off a terminal): skip its import too.
        results = run(scenarios, args.workers)
    else:
        from tqdm import tqdm

        with tqdm(total=sum(sc.reps for sc in scenarios), unit="rep", file=sys.stderr) as bar:
            results = run(scenarios, args.workers, bar.update)
    if args.out:
        from .output import write_all

        for path in write_all(results, args.out, plot=not args.no_plot):
            print(f"wrote {path}", file=sys.stderr)
    if args.json:
        print(json.dumps(results[0] if len(results) == 1 else results, indent=2))
    else:
        from .output import text_table  # csv and the writers: not for --json alone

        print(text_table(results))
    return 0


def _main_reestimate(args: argparse.Namespace) -> int:
    from blend.protocol import ProtocolError, load_trial

    from .reestimate import Offers

    try:
        trial = load_trial(args.trial)
        offers = Offers(accepted=args.accepted, refused=args.refused, pending=args.pending)
        result = run_reestimate(trial, offers, args.planned, args.level, args.json)
    except (ProtocolError, DesignInputError) as error:
        print(f"blend design reestimate: {error}", file=sys.stderr)
        return 2
    print(result)
    return 0


def run_reestimate(
    trial: Any, offers: Any, planned: int | None, level: float, as_json: bool = False
) -> str:
    """The report of one trial's re-estimation (text or JSON), or DesignInputError."""
    from .reestimate import report_text

    result = trial_reestimation(trial, offers, planned, level)
    if as_json:
        return json.dumps({"trial": trial.code, **result.as_dict()}, indent=2)
    return report_text(trial.code, result)


def trial_reestimation(trial: Any, offers: Any, planned: int | None, level: float) -> Any:
    """``reestimate`` on the trial's ``[sample_size]`` plan, or DesignInputError."""
    from .reestimate import reestimate

    if trial.sample_size is None:
        raise DesignInputError(
            f"trial {trial.code}: expected a [sample_size] table in trial.toml with the "
            "assumptions of its sample-size calculation, found none"
        )
    if not 0 < level < 1:
        raise DesignInputError(f"level: expected a confidence level in (0, 1), got {level!r}")
    return reestimate(trial.sample_size, offers, planned or trial.target_sample_size, level)
