"""Pure linkage rules (no Django): the pseudonymised key, the BRP vital-status file, and
what a registry's answer means against what is recorded.

- ``linkage_key``: HMAC-SHA256 of the member's identifiers with a secret that only the
  hospital and the trusted third party hold, so the NCR matches on a key it cannot
  reverse, and the platform's files never carry an identifier.
- ``parse_brp``: the file is read whole before anything is written; any bad row refuses
  the file, and every problem names the row (1-based, header = row 1), the column, what
  was expected and what was found.
- ``judge``: one registry row against the recorded vital status and the last completed
  questionnaire: apply it, leave it (nothing new), or queue a conflict. Never overwrite.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

#: The BRP file's columns: one member column, then the two dates (docs/interoperability.md §3).
MEMBER_COLUMNS = ("linkage_key", "study_id")
DATE_COLUMNS = ("died_on", "alive_on")
KEY_PATTERN = re.compile(r"^[0-9a-f]{64}$")
MAX_PROBLEMS = 20  # listed in the refusal; every problem is counted


def normalised(value: str) -> str:
    """Trimmed, upper case: ``h123 `` and ``H123`` give the same key."""
    return value.strip().upper()


def linkage_key(secret: str, values: list[str]) -> str:
    """The pseudonymised linkage key: HMAC-SHA256(secret, "V1|V2|...") in lower-case hex,
    each value trimmed and upper-cased (dates as ISO 8601, YYYY-MM-DD)."""
    message = "|".join(normalised(v) for v in values).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Problem:
    row: int  # 1-based, the header is row 1; 0 for the file as a whole
    column: str
    expected: str
    found: str

    def __str__(self) -> str:
        where = f"row {self.row}, column {self.column}" if self.row else f"column {self.column}"
        return f"{where}: expected {self.expected}, found {self.found}"


class BrpFileError(ValueError):
    """The BRP file was refused whole; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        self.problems = problems[:MAX_PROBLEMS]
        self.total = total if total is not None else len(problems)
        more = self.total - len(self.problems)
        text = "; ".join(str(p) for p in self.problems)
        super().__init__(text + (f"; … and {more} more problems" if more > 0 else ""))


@dataclass(frozen=True)
class BrpRow:
    row: int
    member: str  # a linkage key or a study ID, as the header says
    died_on: date | None
    alive_on: date | None


@dataclass(frozen=True)
class BrpFile:
    member_column: str  # "linkage_key" or "study_id"
    rows: tuple[BrpRow, ...]


def _shown(value: str) -> str:
    return repr(value) if value else "nothing"


def _date(text: str, row: int, column: str, today: date, problems: list[Problem]) -> date | None:
    if not text:
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        problems.append(Problem(row, column, "a date as YYYY-MM-DD", _shown(text)))
        return None
    if value > today:
        problems.append(Problem(row, column, f"a date on or before today ({today})", text))
    return value


def _header(fields: Sequence[str] | None) -> tuple[str, list[Problem]]:
    fields = [f.strip() for f in (fields or [])]
    members = [c for c in MEMBER_COLUMNS if c in fields]
    allowed = (*MEMBER_COLUMNS, *DATE_COLUMNS)
    problems = [
        Problem(1, name or "(empty)", f"only the columns {', '.join(allowed)}", _shown(name))
        for name in fields
        if name not in allowed
    ]
    if len(members) != 1:
        problems.append(
            Problem(
                1, "linkage_key / study_id", "exactly one of the two", _shown(",".join(members))
            )
        )
    problems += [
        Problem(1, name, "this column in the header", "no such column")
        for name in DATE_COLUMNS
        if name not in fields
    ]
    return (members[0] if len(members) == 1 else ""), problems


def _member(text: str, column: str, row: int, problems: list[Problem]) -> None:
    if not text:
        problems.append(Problem(row, column, "a value", "nothing"))
    elif column == "linkage_key" and not KEY_PATTERN.match(text):
        problems.append(Problem(row, column, "64 lower-case hexadecimal characters", _shown(text)))


def parse_brp(text: str, today: date) -> BrpFile:
    """Read a whole BRP vital-status file, or raise ``BrpFileError`` with every problem."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    column, problems = _header(reader.fieldnames)
    if problems:
        raise BrpFileError(problems)
    rows: list[BrpRow] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(reader, start=2):
        values = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if None in raw:
            problems.append(Problem(number, "(extra)", "3 values", "more values than columns"))
        member = values.get(column, "")
        _member(member, column, number, problems)
        died = _date(values.get("died_on", ""), number, "died_on", today, problems)
        alive = _date(values.get("alive_on", ""), number, "alive_on", today, problems)
        if bool(values.get("died_on")) == bool(values.get("alive_on")):
            problems.append(
                Problem(
                    number,
                    "died_on / alive_on",
                    "exactly one of the two dates",
                    "both" if died or alive else "neither",
                )
            )
        if member in seen:
            problems.append(
                Problem(number, column, f"each member once (also row {seen[member]})", member)
            )
        seen.setdefault(member, number)
        rows.append(BrpRow(number, member, died, alive))
    if not rows and not problems:
        problems.append(Problem(2, column, "at least one row", "only the header"))
    if problems:
        raise BrpFileError(problems)
    return BrpFile(column, tuple(rows))


# ---------------------------------------------------------------- registry vs record


class ConflictKind(StrEnum):
    DEATH_DATE_DIFFERS = "death_date_differs"
    DEATH_BEFORE_QUESTIONNAIRE = "death_before_questionnaire"
    DEATH_BEFORE_CONTACT = "death_before_contact"
    DEATH_BEFORE_ENTRY = "death_before_entry"
    ALIVE_AFTER_DEATH = "alive_after_death"


class Verdict(StrEnum):
    APPLY = "apply"  # record it through the vital-status service
    SAME = "same"  # nothing new: the record already says it (or more)
    CONFLICT = "conflict"  # queue it for the data manager


@dataclass(frozen=True)
class Recorded:
    """What the platform holds for one member."""

    registered_on: date
    died_on: date | None
    last_contact_on: date | None
    last_questionnaire_on: date | None  # the latest completed questionnaire


def _judge_death(died: date, r: Recorded) -> tuple[Verdict, ConflictKind | None]:
    if r.died_on is not None:
        if r.died_on == died:
            return Verdict.SAME, None
        return Verdict.CONFLICT, ConflictKind.DEATH_DATE_DIFFERS
    if died < r.registered_on:
        return Verdict.CONFLICT, ConflictKind.DEATH_BEFORE_ENTRY
    if r.last_questionnaire_on is not None and died < r.last_questionnaire_on:
        return Verdict.CONFLICT, ConflictKind.DEATH_BEFORE_QUESTIONNAIRE
    if r.last_contact_on is not None and died < r.last_contact_on:
        return Verdict.CONFLICT, ConflictKind.DEATH_BEFORE_CONTACT
    return Verdict.APPLY, None


def judge(row: BrpRow, recorded: Recorded) -> tuple[Verdict, ConflictKind | None]:
    """What one registry row means for this member. A death with no conflict is applied;
    "alive at" only ever moves the last contact later."""
    if row.died_on is not None:
        return _judge_death(row.died_on, recorded)
    alive = row.alive_on
    assert alive is not None  # parse_brp guarantees exactly one of the two
    if recorded.died_on is not None:
        if alive > recorded.died_on:
            return Verdict.CONFLICT, ConflictKind.ALIVE_AFTER_DEATH
        return Verdict.SAME, None
    if alive < recorded.registered_on:
        return Verdict.SAME, None  # alive before entry tells us nothing new
    if recorded.last_contact_on is not None and alive <= recorded.last_contact_on:
        return Verdict.SAME, None
    return Verdict.APPLY, None


def match_rate(matched: int, rows: int) -> float | None:
    """The share of a registry file's rows that matched a cohort member (None: no rows)."""
    return round(matched / rows, 4) if rows else None
