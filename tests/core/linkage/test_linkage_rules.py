"""The pure linkage rules: the configuration, the key, the BRP file and the judgement of a
registry row against the record (no database)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from blend.apps.linkage import domain
from blend.apps.linkage.domain import BrpFileError, BrpRow, ConflictKind, Recorded, Verdict
from blend.protocol import ConfigError
from blend.protocol.linkage import DEFAULT_NCR, linkage_from_raw, load_linkage

TODAY = date(2026, 5, 1)
CODES = ("a", "b", "c", "d", "e")
KEY = "ab" * 32
PATH = Path("linkage.toml")


# ------------------------------------------------------------------- configuration


def test_the_shipped_configuration_is_the_documented_default() -> None:
    assert load_linkage().ncr == DEFAULT_NCR
    assert DEFAULT_NCR.consent_item == "e"
    assert DEFAULT_NCR.fields[0] == "linkage_key"
    assert "study_id" not in DEFAULT_NCR.fields


def test_without_a_file_the_defaults_hold() -> None:
    assert linkage_from_raw(None, PATH, CODES).ncr == DEFAULT_NCR


@pytest.mark.parametrize(
    ("ncr", "key", "expected", "found"),
    [
        ({"consent_item": "z"}, "ncr.consent_item", "one of", "'z'"),
        (
            {"fields": ["linkage_key", "date_of_birth"]},
            "ncr.fields",
            "no direct identifier",
            "'date_of_birth'",
        ),
        ({"fields": ["linkage_key", "bsn"]}, "ncr.fields", "some of", "'bsn'"),
        (
            {"fields": ["sex", "linkage_key"]},
            "ncr.fields",
            "starting with 'linkage_key'",
            "['sex', 'linkage_key']",
        ),
        ({"key_from": ["date_of_birth"]}, "ncr.key_from", "'hospital_number'", "the list"),
        ({"key_from": ["hospital_number", "postcode"]}, "ncr.key_from", "some of", "'postcode'"),
        ({"colums": []}, "ncr.colums", "only the keys", "a key 'colums'"),
    ],
)
def test_a_bad_configuration_names_file_key_expected_and_found(
    ncr: dict[str, object], key: str, expected: str, found: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        linkage_from_raw({"ncr": ncr}, PATH, CODES)
    assert refused.value.key == key
    assert expected in refused.value.expected
    assert found in str(refused.value)
    assert str(refused.value).startswith("linkage.toml: ")


# ----------------------------------------------------------------------------- key


def test_the_key_is_a_keyed_hash_of_the_normalised_identifiers() -> None:
    """Computed the way a trusted third party computes it:
    printf 'UMCU|H123|1960-05-17' | openssl dgst -sha256 -hmac SECRET."""
    import hashlib
    import hmac

    expected = hmac.new(b"s" * 32, b"UMCU|H123|1960-05-17", hashlib.sha256).hexdigest()
    assert domain.linkage_key("s" * 32, ["umcu", " h123 ", "1960-05-17"]) == expected
    assert domain.linkage_key("t" * 32, ["umcu", "h123", "1960-05-17"]) != expected


# ------------------------------------------------------------------------ BRP file


def test_a_good_file_is_read_whole() -> None:
    text = f"\ufefflinkage_key,died_on,alive_on\n{KEY},2026-01-02,\n{'cd' * 32},,2026-04-01\n"
    brp = domain.parse_brp(text, TODAY)
    assert brp.member_column == "linkage_key"
    assert brp.rows == (
        BrpRow(2, KEY, date(2026, 1, 2), None),
        BrpRow(3, "cd" * 32, None, date(2026, 4, 1)),
    )


def test_a_study_id_file_is_read() -> None:
    brp = domain.parse_brp("study_id,died_on,alive_on\nPRS-00001-8,,2026-01-01\n", TODAY)
    assert brp.member_column == "study_id"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("key,died_on,alive_on\nx,2026-01-01,\n", "column key: expected only the columns"),
        ("linkage_key,study_id,died_on,alive_on\n", "expected exactly one of the two"),
        (
            "linkage_key,died_on\n",
            "column alive_on: expected this column in the header, found no such column",
        ),
        ("linkage_key,died_on,alive_on\n", "row 2, column linkage_key: expected at least one row"),
        (
            f"linkage_key,died_on,alive_on\n{KEY},01-02-2026,\n",
            "row 2, column died_on: expected a date as YYYY-MM-DD, found '01-02-2026'",
        ),
        (
            f"linkage_key,died_on,alive_on\n{KEY},2027-01-01,\n",
            "row 2, column died_on: expected a date on or before today (2026-05-01), found 2027-01-01",
        ),
        (
            f"linkage_key,died_on,alive_on\n{KEY},2026-01-01,2026-02-01\n",
            "row 2, column died_on / alive_on: expected exactly one of the two dates, found both",
        ),
        (f"linkage_key,died_on,alive_on\n{KEY},,\n", "found neither"),
        (
            "linkage_key,died_on,alive_on\nABC,2026-01-01,\n",
            "row 2, column linkage_key: expected 64 lower-case hexadecimal characters, found 'ABC'",
        ),
        (
            f"linkage_key,died_on,alive_on\n{KEY},2026-01-01,\n{KEY},,2026-02-01\n",
            "row 3, column linkage_key: expected each member once (also row 2)",
        ),
        (f"linkage_key,died_on,alive_on\n{KEY},2026-01-01,,extra\n", "row 2, column (extra)"),
    ],
)
def test_a_bad_file_is_refused_with_row_column_expected_found(text: str, problem: str) -> None:
    with pytest.raises(BrpFileError) as refused:
        domain.parse_brp(text, TODAY)
    assert problem in str(refused.value)


def test_every_problem_is_counted_and_twenty_are_listed() -> None:
    text = "linkage_key,died_on,alive_on\n" + "".join(f"bad{i},2026-01-01,\n" for i in range(30))
    with pytest.raises(BrpFileError) as refused:
        domain.parse_brp(text, TODAY)
    assert refused.value.total == 30
    assert len(refused.value.problems) == 20
    assert "… and 10 more problems" in str(refused.value)


# ------------------------------------------------------------------ registry vs record

ENTRY = date(2025, 3, 1)


def _judge(
    died: date | None = None, alive: date | None = None, **held: date | None
) -> tuple[Verdict, ConflictKind | None]:
    recorded = Recorded(
        ENTRY, held.get("died_on"), held.get("last_contact_on"), held.get("last_questionnaire_on")
    )
    return domain.judge(BrpRow(2, KEY, died, alive), recorded)


def test_a_new_death_is_applied() -> None:
    assert _judge(died=date(2026, 1, 5), last_contact_on=date(2026, 1, 1)) == (Verdict.APPLY, None)


def test_the_same_death_again_changes_nothing() -> None:
    day = date(2026, 1, 5)
    assert _judge(died=day, died_on=day, last_contact_on=day) == (Verdict.SAME, None)


@pytest.mark.parametrize(
    ("died", "held", "kind"),
    [
        (date(2026, 1, 5), {"died_on": date(2026, 1, 9)}, ConflictKind.DEATH_DATE_DIFFERS),
        (
            date(2026, 1, 5),
            {"last_questionnaire_on": date(2026, 2, 1)},
            ConflictKind.DEATH_BEFORE_QUESTIONNAIRE,
        ),
        (
            date(2026, 1, 5),
            {"last_contact_on": date(2026, 1, 20)},
            ConflictKind.DEATH_BEFORE_CONTACT,
        ),
        (date(2024, 1, 5), {}, ConflictKind.DEATH_BEFORE_ENTRY),
    ],
)
def test_a_death_that_disagrees_with_the_record_is_a_conflict(
    died: date, held: dict[str, date], kind: ConflictKind
) -> None:
    assert _judge(died=died, **held) == (Verdict.CONFLICT, kind)


def test_alive_after_a_recorded_death_is_a_conflict() -> None:
    assert _judge(alive=date(2026, 3, 1), died_on=date(2026, 1, 5)) == (
        Verdict.CONFLICT,
        ConflictKind.ALIVE_AFTER_DEATH,
    )


def test_alive_only_moves_the_last_contact_later() -> None:
    assert _judge(alive=date(2026, 3, 1), last_contact_on=date(2026, 1, 1)) == (Verdict.APPLY, None)
    assert _judge(alive=date(2026, 1, 1), last_contact_on=date(2026, 3, 1)) == (Verdict.SAME, None)
    assert _judge(alive=date(2026, 1, 1), died_on=date(2026, 1, 5)) == (Verdict.SAME, None)
    assert _judge(alive=date(2024, 1, 1)) == (Verdict.SAME, None)


def test_the_match_rate() -> None:
    assert domain.match_rate(950, 1000) == 0.95
    assert domain.match_rate(0, 0) is None
