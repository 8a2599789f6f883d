"""Anchors of the allocation chain outside the database (pure; no Django).

After each allocation the application appends one line to the trial's anchor file and
may send the same line as a receipt to the trial office:

    TRIAL <TAB> NUMBER <TAB> HEAD HASH <TAB> TIME (UTC) <TAB> MAC

where MAC = HMAC-SHA256(chain key, "blend-allocation-anchor/1\\n" ‖ the first four
fields joined by tabs). Someone who can rewrite the database can make its chain
consistent again (delete the last allocation and roll the sequence row back, or
rewrite every record); they cannot change what was written to the anchor or received
by the trial office, so ``compare`` reports a chain that ends before the anchor's last
record (truncation) or holds another hash at a number the anchor records (divergence).
A line whose MAC does not match the key is reported, not trusted.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

_CONTEXT = b"blend-allocation-anchor/1\n"


@dataclass(frozen=True)
class Anchor:
    """One anchored head: the chain of ``trial`` had ``number`` records ending in ``digest``."""

    trial: str
    number: int
    digest: str
    at: str = ""
    mac: str = ""


def _mac(key: bytes, trial: str, number: int, digest: str, at: str) -> str:
    message = _CONTEXT + "\t".join((trial, str(number), digest, at)).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def anchor_line(key: bytes, trial: str, number: int, digest: str, at: datetime) -> str:
    """The line (with its newline) that anchors the head ``digest`` of record ``number``."""
    when = at.astimezone(UTC).isoformat(timespec="microseconds")
    return (
        "\t".join((trial, str(number), digest, when, _mac(key, trial, number, digest, when))) + "\n"
    )


def parse_anchors(
    text: str, *, trial: str, key: bytes | None, source: str = "anchor"
) -> tuple[list[Anchor], list[str]]:
    """The anchors of ``trial`` in ``text`` (lines of other trials are skipped) and the
    problems with its lines: malformed, or (with the key) a MAC that does not match.

    Lines without a tab (blank lines, the text of the e-mail around a receipt) and lines
    starting with '#' are ignored."""
    anchors, problems = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if "\t" not in line or line.startswith("#"):
            continue  # blank, a comment, or the text of the e-mail around a receipt
        parts = line.split("\t")
        if len(parts) != 5 or not parts[1].isdigit() or len(parts[2]) != 64:
            problems.append(
                f"{source} line {number}: expected TRIAL, NUMBER, 64-character HASH, TIME "
                f"and MAC separated by tabs, got {line[:80]!r}"
            )
            continue
        anchor = Anchor(parts[0], int(parts[1]), parts[2], parts[3], parts[4])
        if anchor.trial != trial:
            continue
        if key is not None:
            expected = _mac(key, anchor.trial, anchor.number, anchor.digest, anchor.at)
            if not hmac.compare_digest(expected, anchor.mac):
                problems.append(
                    f"{source} line {number}: MAC does not match the chain key of {trial} "
                    "(the line was not written by the application; it is ignored)"
                )
                continue
        anchors.append(anchor)
    return anchors, problems


def parse_head(text: str, *, trial: str) -> Anchor:
    """An external head given as ``NUMBER:HASH`` (e.g. from a receipt read aloud)."""
    number, sep, digest = text.strip().partition(":")
    if not sep or not number.isdigit() or len(digest) != 64:
        raise ValueError(f"--head: expected NUMBER:HASH (64 hex characters), got {text!r}")
    return Anchor(trial, int(number), digest.lower())


def compare(
    anchors: Iterable[Anchor], hashes: Mapping[int, str], *, source: str = "anchor"
) -> list[str]:
    """The problems of a chain (``hashes``: sequence number -> hash, as stored) against
    external anchors: truncation (the chain ends before an anchored number) and
    divergence (another hash at an anchored number)."""
    problems = []
    count = max(hashes, default=0)
    anchors = sorted(set(anchors), key=lambda a: a.number)
    beyond = [a for a in anchors if a.number > count]
    if beyond:
        last = beyond[-1]
        problems.append(
            f"truncation: the database ends at #{count} but the {source} records "
            f"#{last.number} with digest {last.digest[:16]}…"
            + (f" at {last.at}" if last.at else "")
            + " (allocations were deleted and the sequence rolled back)"
        )
    diverging = [
        a for a in anchors if hashes.get(a.number) is not None and hashes[a.number] != a.digest
    ]
    if diverging:
        first = diverging[0]
        more = len(diverging) - 1
        problems.append(
            f"divergence: the {source} records #{first.number} with digest "
            f"{first.digest[:16]}…, the database holds {hashes[first.number][:16]}… (the "
            "chain was rewritten from there on)"
            + (f"; {more} later anchored record(s) differ too" if more else "")
        )
    return problems
