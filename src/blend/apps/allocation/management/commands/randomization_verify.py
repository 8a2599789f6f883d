"""`blend randomization verify` (also `blend randomization-verify`): check the allocation log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from blend.apps.allocation.anchoring import anchor_path
from blend.apps.allocation.verification import configured_key, verify
from blend.apps.trials.lookup import UnknownTrial, trial_code_or_default
from blend.randomization import SeedError
from blend.randomization.anchor import Anchor, parse_anchors, parse_head
from blend.randomization.chain import ChainKeyError, parse_chain_key


class Command(BaseCommand):
    help = (
        "Check the hash chain of the allocation log and every allocation against it; with "
        "the chain key (the configured one, or --key-file), every record's MAC; with "
        "--anchor or --head, truncation and divergence against heads kept outside the "
        "database; with --seed (the revealed seed), also the commitment and every arm."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed", help="the revealed seed, 64 hex characters: regenerate every arm"
        )
        parser.add_argument("--seed-file", help="read the revealed seed from this file")
        parser.add_argument(
            "--trial", help="the trial whose log to check (default: the default trial)"
        )
        parser.add_argument(
            "--key-file",
            help="the trial's chain key (64 hex characters) from this file, instead of the "
            "configured BLEND_CHAIN_KEY[_<CODE>]",
        )
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="FILE",
            help="an anchor file or the trial office's saved receipts (repeatable); "
            "'default' for the configured anchor file of the trial",
        )
        parser.add_argument(
            "--head",
            action="append",
            default=[],
            metavar="NUMBER:DIGEST",
            help="one external head, e.g. from a receipt (repeatable)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        seed = options["seed"]
        if options["seed_file"]:
            seed = Path(options["seed_file"]).read_text(encoding="utf-8").strip()
        try:
            trial = trial_code_or_default(options["trial"])
            key = (
                parse_chain_key(
                    Path(options["key_file"]).read_text(encoding="utf-8"), field="--key-file"
                )
                if options["key_file"]
                else configured_key(trial)
            )
            anchors, problems = self._anchors(trial, key, options)
            report = verify(seed, trial=trial, key=key, anchors=anchors)
        except (SeedError, ChainKeyError, UnknownTrial, ValueError, OSError) as error:
            raise CommandError(str(error)) from None
        report.problems[:0] = problems
        checked = "chain checked" + (
            f"; {report.keyed} keyed record(s), every MAC checked with the chain key"
            if report.authenticated
            else f"; {report.keyed} keyed record(s) NOT authenticated (no chain key)"
        )
        if report.allocations > report.keyed:
            checked += (
                f"; {report.allocations - report.keyed} unkeyed (version 1) record(s) from "
                "before chains were keyed"
            )
        if report.anchors:
            checked += f"; compared with {report.anchors} external head(s)"
        self.stdout.write(
            f"{trial}: {report.allocations} allocations; {checked}"
            + ("; every arm regenerated from the seed" if report.regenerated else "")
        )
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(f"  FAIL {problem}")
            raise CommandError(
                f"allocation log verification failed: {len(report.problems)} problem(s)"
            )
        self.stdout.write(f"OK: the allocation log of {trial} verifies")

    def _anchors(
        self, trial: str, key: bytes | None, options: dict[str, Any]
    ) -> tuple[list[Anchor], list[str]]:
        anchors, problems = [], []
        for name in options["anchor"]:
            path = anchor_path(trial) if name == "default" else Path(name)
            if path is None:
                raise ValueError(
                    "--anchor default: BLEND_CHAIN_ANCHOR_DIR is empty (no anchor file)"
                )
            found, bad = parse_anchors(
                path.read_text(encoding="utf-8"), trial=trial, key=key, source=f"anchor {path}"
            )
            anchors += found
            problems += bad
        anchors += [parse_head(text, trial=trial) for text in options["head"]]
        return anchors, problems
