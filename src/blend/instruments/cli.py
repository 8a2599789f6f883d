"""``blend score CODE``: score answers given as JSON, print scores as JSON. And
``blend instruments``: install a licensed translation, list what still lacks one.

Input: one JSON object from ``--answers`` or stdin, or JSON lines (one object per
line) for many; one JSON object of scores is printed per input, in order. Scoring
options: ``--option name=value`` (value parsed as JSON when possible) or the short
form ``--name value``, e.g. ``blend score eq5d5l-nl --coefficients unrounded``.
Invalid input: exit status 2 and a message on stderr naming the item, what was
expected and what was received. Nothing is printed for a batch that has a bad line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from blend.instruments.errors import InstrumentError

EXIT_INVALID = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blend score",
        description="Score questionnaire answers (JSON object, or JSON lines, in; JSON out).",
        epilog="Codes: qlq-c15-pal qlq-c30 bpi-sf eq5d5l-nl omed pain-nrs pain-response sins "
        "bilsky asia asia-worksheet kps ecog ctcae. See docs/instruments.md.",
    )
    parser.add_argument("code", help="instrument code, e.g. qlq-c15-pal")
    parser.add_argument("--answers", help="one JSON object of answers (default: read stdin)")
    parser.add_argument(
        "--option",
        "-o",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="scoring option, e.g. -o coefficients=unrounded (repeatable)",
    )
    return parser


def _option_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_options(pairs: Sequence[str], extra: Sequence[str]) -> dict[str, Any]:
    """Options from ``--option k=v`` pairs and from leftover ``--k v`` / ``--k=v`` arguments."""
    options: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise InstrumentError(f"--option: expected NAME=VALUE; received {pair!r}")
        options[name.replace("-", "_")] = _option_value(value)
    rest = list(extra)
    while rest:
        flag = rest.pop(0)
        if not flag.startswith("--") or len(flag) == 2:
            raise InstrumentError(f"arguments: expected --name value; received {flag!r}")
        name, sep, value = flag[2:].partition("=")
        if not sep:
            if not rest:
                raise InstrumentError(f"option --{name}: expected a value; received nothing")
            value = rest.pop(0)
        options[name.replace("-", "_")] = _option_value(value)
    return options


def read_inputs(answers: str | None) -> list[Any]:
    """Parse one JSON document, or JSON lines (blank lines skipped)."""
    text = answers if answers is not None else sys.stdin.read()
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        pass
    inputs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                inputs.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InstrumentError(
                    f"input line {number}: expected a JSON object; received {line[:60]!r} ({exc.msg})"
                ) from None
    if not inputs:
        raise InstrumentError("input: expected a JSON object or JSON lines; received nothing")
    return inputs


def main(argv: Sequence[str]) -> int:
    from blend.instruments.api import score

    args, extra = _parser().parse_known_args(list(argv))
    try:
        options = parse_options(args.option, extra)
        inputs = read_inputs(args.answers)
        results = []
        for number, answers in enumerate(inputs, start=1):
            try:
                results.append(score(args.code, answers, **options))
            except InstrumentError as exc:
                where = f"input {number}: " if len(inputs) > 1 else ""
                raise InstrumentError(f"{where}{exc}") from None
    except InstrumentError as exc:
        print(f"blend score: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    for result in results:
        print(json.dumps(result, allow_nan=False))
    return 0


def _instruments_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blend instruments",
        description="Licensed translations of the questionnaires (docs/instruments.md).",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    install = actions.add_parser(
        "install-translation",
        help="check a translation file against the instruments and install it",
    )
    install.add_argument("file", help="translation file (JSON, format in docs/instruments.md)")
    install.add_argument(
        "--dir",
        help="install folder (default: BLEND_INSTRUMENT_TRANSLATIONS_DIR or var/translations)",
    )
    install.add_argument(
        "--check", action="store_true", help="only check the file; install nothing"
    )
    actions.add_parser("status", help="which instruments lack a translation, per language")
    return parser


def main_instruments(argv: Sequence[str]) -> int:
    from pathlib import Path

    from blend.instruments import translations

    args = _instruments_parser().parse_args(list(argv))
    if args.action == "status":
        return _print_status(translations.coverage(translations_codes()))
    try:
        if args.check:
            problems = translations.check_translation_file(
                translations.load_translation_file(Path(args.file))
            )
            if problems:
                raise translations.TranslationRefused(problems)
            print(f"blend instruments: {args.file}: complete; nothing installed (--check)")
            return 0
        written = translations.install_translation(
            Path(args.file), Path(args.dir) if args.dir else None
        )
    except InstrumentError as exc:
        print("blend instruments: the translation was not installed:", file=sys.stderr)
        for problem in getattr(exc, "problems", [str(exc)]):
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_INVALID
    for path in written:
        print(f"installed {path.name} -> {path}")
    return 0


def translations_codes() -> tuple[str, ...]:
    """The questionnaires a patient fills in, whose wording must be translated."""
    from blend.instruments.api import get_instrument, instrument_codes

    return tuple(c for c in instrument_codes() if get_instrument(c).licensed)


def _print_status(rows: list[dict[str, Any]]) -> int:
    missing = 0
    for row in rows:
        if row["complete"]:
            state = f"translated ({row['source'] or 'source not stated'})"
        else:
            missing += 1
            state = f"PLACEHOLDER: {len(row['pending'])} of {row['items']} items untranslated"
        print(f"{row['code']:<14} {row['language']}  version {row['version']:<6} {state}")
    return 1 if missing else 0
