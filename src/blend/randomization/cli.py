"""``blend randomization assess | sequence | verify``.

``assess`` and ``sequence`` are pure. ``verify`` checks the live allocation log, so it is
a Django management command (``randomization_verify``) reached through this entry point.
Design options default to the protocol's ``randomization`` section; any option given on
the command line overrides that field.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from typing import Any

from .designs import DesignError, Ratio
from .rng import SeedError
from .spec import DESIGNS, DesignSpec, load_spec


def _factor(text: str) -> tuple[str, tuple[str, ...]]:
    name, sep, levels = text.partition("=")
    values = tuple(v for v in levels.split(",") if v)
    if not sep or not name or len(values) < 2:
        raise argparse.ArgumentTypeError(f"expected NAME=LEVEL1,LEVEL2[,...], got {text!r}")
    return name, values


def _multiples(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None


def _design_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("design (defaults: the protocol's randomization section)")
    group.add_argument("--design", choices=DESIGNS)
    group.add_argument("--ratio", type=Ratio.parse, help="intervention:control, e.g. 1:1 or 2:1")
    group.add_argument("--mti", type=int, help="big-stick maximum tolerated imbalance")
    group.add_argument(
        "--block-multiples", type=_multiples, help="blocks: sizes as multiples of a+b, e.g. 1,2,3"
    )
    group.add_argument("--p", type=float, help="minimisation: probability of the minimising arm")
    group.add_argument(
        "--factor",
        type=_factor,
        action="append",
        help="minimisation factor NAME=LEVEL1,LEVEL2 (repeat per factor)",
    )


def _spec(args: argparse.Namespace) -> DesignSpec:
    base = load_spec()
    changes: dict[str, Any] = {}
    for name in ("design", "ratio", "mti", "block_multiples", "p"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.factor:
        changes.update(factors=tuple(args.factor), weights=())
    return dataclasses.replace(base, **changes) if changes else base


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blend randomization",
        description="Assess randomization designs, print a sequence, verify the allocation log.",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    assess = sub.add_parser("assess", help="balance and predictability of a design by simulation")
    _design_options(assess)
    assess.add_argument("--n", type=int, default=100, help="allocations per trial (default 100)")
    assess.add_argument(
        "--sequences", type=int, default=20000, help="simulated trials (default 20000)"
    )
    assess.add_argument("--seed", type=int, default=7, help="simulation seed (an integer)")
    assess.add_argument("--json", action="store_true", help="print JSON")
    seq = sub.add_parser("sequence", help="print one allocation sequence, one arm per line")
    _design_options(seq)
    seq.add_argument("--n", type=int, default=100)
    seq.add_argument("--seed", required=True, help="the 256-bit seed as 64 hex characters")
    seq.add_argument(
        "--stratum", default="", help='stratum key, e.g. "centre=UMCU" (default: none)'
    )
    seq.add_argument(
        "--profiles", help="minimisation: JSON file with a list of n {factor: level} objects"
    )
    sub.add_parser(
        "verify",
        help="verify the allocation log (Django; options: see --help there)",
        add_help=False,
    )
    return parser


def _print_assessment(result: dict[str, Any]) -> None:
    guesses = result["correct_guesses"]
    ratio = result["allocation_ratio"]
    print(
        f"design {json.dumps(result['spec']['parameters'])} {result['spec']['design']} "
        f"ratio {result['spec']['ratio']}: n = {result['n']}, {result['sequences']} sequences"
    )
    for key in ("final_imbalance", "max_imbalance"):
        part = result[key]
        shares = ", ".join(f"{v}: {p:.3f}" for v, p in part["distribution"].items())
        print(f"  {key.replace('_', ' ')}: mean {part['mean']:.3f}, max {part['max']}  ({shares})")
    print(
        f"  intervention fraction: {ratio['intervention_fraction']:.4f} "
        f"(target {ratio['target_intervention_fraction']:.4f}, MCSE {ratio['mcse']:.4f})"
    )
    print(
        f"  expected correct guesses: {guesses['expected']:.2f} of {result['n']} "
        f"({guesses['proportion']:.3f}, MCSE {guesses['mcse_proportion']:.4f})"
    )
    if "marginal_imbalance" in result:
        print(f"  marginal covariate imbalance: mean {result['marginal_imbalance']['mean']:.3f}")


def _sequence(args: argparse.Namespace, spec: DesignSpec) -> int:
    from .engine import sequence

    profiles = None
    if args.profiles:
        with open(args.profiles, encoding="utf-8") as handle:
            profiles = json.load(handle)
        if not isinstance(profiles, list):
            raise DesignError(
                f"--profiles: expected a JSON list of objects, got {type(profiles).__name__}"
            )
    for arm in sequence(spec, args.seed, args.n, args.stratum, profiles):
        print(arm)
    return 0


def main(argv: Sequence[str]) -> int:
    argv = list(argv)
    args = _parser().parse_args(argv)
    try:
        spec = _spec(args)
        if args.action == "sequence":
            return _sequence(args, spec)
        from .assessment import assess

        result = assess(spec, args.n, args.sequences, args.seed)
    except (DesignError, SeedError, ValueError, OSError) as error:
        print(f"blend randomization {args.action}: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print_assessment(result)
    return 0
