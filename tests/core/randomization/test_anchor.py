"""Anchors of the chain head outside the database: the signed line, its parsing, and
truncation and divergence against a chain."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone

import pytest

from blend.randomization.anchor import Anchor, anchor_line, compare, parse_anchors, parse_head

KEY = bytes(range(32))
AT = datetime(2025, 3, 12, 10, 30, 5, 123456, tzinfo=timezone(timedelta(hours=1)))
DIGESTS = {n: f"{n:02x}" * 32 for n in range(1, 6)}


def _file(count: int = 5, trial: str = "BLEND") -> str:
    return "".join(anchor_line(KEY, trial, n, DIGESTS[n], AT) for n in range(1, count + 1))


def test_the_line_is_tab_separated_in_utc_and_signed_with_the_key() -> None:
    line = anchor_line(KEY, "BLEND", 1, DIGESTS[1], AT)
    fields = line.rstrip("\n").split("\t")
    assert fields[:4] == ["BLEND", "1", DIGESTS[1], "2025-03-12T09:30:05.123456+00:00"]
    message = b"blend-allocation-anchor/1\n" + "\t".join(fields[:4]).encode()
    assert fields[4] == hmac.new(KEY, message, hashlib.sha256).hexdigest()
    assert line.endswith("\n") and line.count("\n") == 1


def test_anchors_parse_per_trial_and_around_the_text_of_an_email() -> None:
    text = "Allocation #1 of BLEND was recorded.\n\n" + _file(3) + _file(2, "VERTICAL") + "# note\n"
    found, problems = parse_anchors(text, trial="BLEND", key=KEY)
    assert problems == [] and [a.number for a in found] == [1, 2, 3]
    vertical, _ = parse_anchors(text, trial="VERTICAL", key=KEY)
    assert [a.trial for a in vertical] == ["VERTICAL", "VERTICAL"]


def test_a_forged_or_malformed_line_is_reported_and_not_trusted() -> None:
    forged = "BLEND\t9\t" + "ab" * 32 + "\t2030-01-01T00:00:00+00:00\t" + "00" * 32 + "\n"
    text = _file(2) + forged + "BLEND\tnine\tx\ty\n"
    found, problems = parse_anchors(text, trial="BLEND", key=KEY, source="receipts")
    assert [a.number for a in found] == [1, 2]
    assert problems[0] == (
        "receipts line 3: MAC does not match the chain key of BLEND (the line was not "
        "written by the application; it is ignored)"
    )
    assert problems[1].startswith("receipts line 4: expected TRIAL, NUMBER, 64-character HASH")
    # Without the key a line is read but its MAC cannot be judged.
    unjudged, _ = parse_anchors(text, trial="BLEND", key=None)
    assert [a.number for a in unjudged] == [1, 2, 9]


def test_truncation_and_divergence_against_the_chain() -> None:
    anchors, _ = parse_anchors(_file(5), trial="BLEND", key=KEY)
    assert compare(anchors, DIGESTS) == []
    assert compare(anchors, {n: DIGESTS[n] for n in range(1, 5)}) == [
        f"truncation: the database ends at #4 but the anchor records #5 with digest "
        f"{DIGESTS[5][:16]}… at 2025-03-12T09:30:05.123456+00:00 (allocations were deleted "
        "and the sequence rolled back)"
    ]
    rewritten = DIGESTS | {3: "ff" * 32, 4: "ee" * 32, 5: "dd" * 32}
    assert compare(anchors, rewritten) == [
        f"divergence: the anchor records #3 with digest {DIGESTS[3][:16]}…, the database "
        f"holds {'ff' * 8}… (the chain was rewritten from there on); 2 later anchored "
        "record(s) differ too"
    ]
    # An anchor behind the database (a crash between commit and append) is no problem.
    assert compare(anchors[:3], DIGESTS) == []


def test_one_head_given_by_hand() -> None:
    assert parse_head(f"5:{DIGESTS[5].upper()}", trial="BLEND") == Anchor("BLEND", 5, DIGESTS[5])
    with pytest.raises(ValueError, match="--head: expected NUMBER:HASH"):
        parse_head("5", trial="BLEND")
    assert compare([parse_head(f"6:{DIGESTS[5]}", trial="BLEND")], DIGESTS)[0].startswith(
        "truncation: the database ends at #5 but the anchor records #6"
    )
