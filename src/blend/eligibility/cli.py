"""``blend screen``: facts as JSON on stdin (or --file), the verdict as JSON on stdout.

Exit status: 0 eligible, 1 ineligible or pending, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from blend.eligibility.engine import ELIGIBLE, assess
from blend.eligibility.facts import FactError
from blend.eligibility.rules import RuleError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blend screen",
        description="Assess BLEND eligibility. Reads a JSON object of facts (docs/eligibility.md) "
        "and prints {status, reasons, undecided, missing_facts, criteria_version}.",
    )
    parser.add_argument("--file", help="read the facts from this file instead of stdin")
    parser.add_argument(
        "--criteria", action="store_true", help="list the criteria and fact keys instead"
    )
    return parser


def _list_criteria() -> int:
    from blend.eligibility.criteria import load_criteria

    criteria = load_criteria()
    listing = {
        "version": criteria.version,
        "criteria": [
            {
                "code": c.code,
                "kind": c.kind,
                "text": c.text,
                "enabled": c.enabled,
                "facts": sorted(c.rule.facts()),
            }
            for c in criteria.criteria
        ],
        "facts": {
            k: {"type": f.type, "label": f.label, "choices": list(f.choices)}
            for k, f in criteria.facts.items()
        },
    }
    print(json.dumps(listing, indent=2))
    return 0


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    if args.criteria:
        return _list_criteria()
    try:
        text = Path(args.file).read_text(encoding="utf-8") if args.file else sys.stdin.read()
        facts = json.loads(text)
        result = assess(facts)
    except json.JSONDecodeError as error:
        print(
            f"blend screen: input: expected a JSON object of facts, got invalid JSON ({error})",
            file=sys.stderr,
        )
        return 2
    except (FactError, RuleError, OSError) as error:
        print(f"blend screen: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result.as_dict(), indent=2))
    return 0 if result.status == ELIGIBLE else 1
