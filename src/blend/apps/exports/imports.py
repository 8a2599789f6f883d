"""Import cohort participants and historical questionnaires from CSV.

All or nothing: every row is validated first, and a file with any rejected row
writes nothing. The report lists each rejected row (1-based, the header is row 1)
with its reasons, each naming the column, what was expected and what was received;
at most ``MAX_REPORTED`` rows are listed, and every rejected row is counted. A row
already in the database with the same content is "unchanged", so importing the same
file again changes nothing.

The participant file is validated as a stream: it is read ``CHUNK_ROWS`` rows at a
time and each rule runs over a whole column at once (numpy, pandas), so it holds one
chunk whatever the file's length and two bytes of flags a row; the duplicate check keeps
its hashes on disk (``_DuplicateFinder``). ``make bench`` (bench/bench_imports.py)
measures the rate and the memory. The rules are the
registration form's (``registry.validation``): the vectorised pass finds the rows that
break one, and those rows are then described by the form's own functions, so the
words are the form's. Writing goes through ``register_participant`` in one
transaction, which checks every row again.

The historical-questionnaire file is streamed the same way: each chunk's dates and
modes are checked a column at a time, its assessments fetched in one query, and the
answers already submitted in one query per 2,000 questionnaires at the end, so the
number of queries does not grow with the rows. What is held is the answers themselves,
grouped per questionnaire, since each is scored whole before anything is written.

A file is refused whole, before any row is read, when it is not UTF-8 (the message
names the encoding it looks like and how to save it as UTF-8), when a required column
is missing, or when it has a column the import does not know (for example ``bsn``):
an unknown column is never silently dropped. Hospital numbers are compared without
regard to case, within the file and against the cohort.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import re
import secrets
import sqlite3
import tempfile
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, validate_email
from django.db import transaction
from django.db.models.functions import Upper
from django.utils import timezone

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.accounts.permissions import check
from blend.apps.audit.services import record_event
from blend.apps.consent.editchecks import CONSENT_FORM
from blend.apps.consent.models import ConsentFormVersion
from blend.apps.consent.services import ConsentError, record_consent
from blend.apps.followup.models import Assessment
from blend.apps.questionnaires.services import enter_by_staff, submitted_answers
from blend.apps.registry.models import Identity, Language, PrimaryTumour, Sex, Site
from blend.apps.registry.services import Registration, register_participant
from blend.apps.registry.validation import (
    EARLIEST_BIRTH,
    HOSPITAL_NUMBER,
    PHONE,
    RegistrationInvalid,
    contact_problems,
    date_problems,
    edit_check_problems,
)
from blend.editchecks import run_checks
from blend.instruments import InstrumentError, score
from blend.protocol import load_protocol

PARTICIPANT_COLUMNS = [
    "hospital_number",
    "full_name",
    "date_of_birth",
    "sex",
    "site",
    "registered_on",
    "primary_tumour",
    "metastases_diagnosed_on",
    "performance_status",
    "email",
    "phone",
    "preferred_language",
]
QUESTIONNAIRE_COLUMNS = [
    "study_id",
    "timepoint",
    "completed_on",
    "mode",
    "instrument",
    "item",
    "value",
]
QUESTIONNAIRE_MODES = {"paper", "telephone"}
CHUNK_ROWS = 5_000
MAX_REPORTED = 1_000  # rejected rows listed with their reasons; all are counted
ISO_DATE = r"\d{4}-\d{2}-\d{2}"
DATE_EXAMPLE = "2026-03-01"
MIN_AGE, MAX_AGE = 18, 110  # registry.editchecks R01
ANSWERS = ("yes", "no", "postponed")
CHOICES = {
    "sex": list(Sex.values),
    "primary_tumour": list(PrimaryTumour.values),
    "performance_status": ["0", "1", "2", "3", "4"],
    "preferred_language": list(Language.values),
}


class ImportFileError(ValueError):
    """The whole file is refused (its encoding or its header); no row was read."""


def consent_columns() -> list[str]:
    return [f"consent_{code}" for code in load_protocol().consent_codes] + [
        "consent_on",
        "consent_version",
    ]


def bad_date(column: str, value: str) -> str:
    return (
        f"column {column}: expected a date as YYYY-MM-DD (e.g. {DATE_EXAMPLE}), received {value!r}"
    )


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row, reasons), capped
    rejected_count: int = 0  # every rejected row, listed or not

    @property
    def ok(self) -> bool:
        return not self.rejected_count and not self.rejected

    def reject(self, row: int, reasons: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_REPORTED:
            self.rejected.append((row, reasons))

    def write(self, path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["row", "reasons"])
            writer.writerows(self.rejected)

    def summary(self) -> str:
        if not self.ok:
            rejected = max(self.rejected_count, len(self.rejected))
            listed = (
                f" (the first {len(self.rejected)} are listed)"
                if rejected > len(self.rejected)
                else ""
            )
            return (
                f"{self.kind}: {rejected} of {self.rows} rows rejected{listed}; "
                "nothing was imported"
            )
        return f"{self.kind}: {self.rows} rows; {self.created} imported, {self.unchanged} already present (unchanged)"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "created": self.created,
            "unchanged": self.unchanged,
            "rejected": [list(r) for r in self.rejected],
            "rejected_count": self.rejected_count,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportReport:
        return cls(
            data["kind"],
            data["rows"],
            data["created"],
            data["unchanged"],
            [(int(r), str(text)) for r, text in data["rejected"]],
            data["rejected_count"],
        )


#: ``progress(phase, rows_done)``: phase is "validating" or "writing".
Progress = Callable[[str, int], None]


def _no_progress(phase: str, rows: int) -> None:
    return None


# --- reading: encoding and header ---------------------------------------------------------------


def looks_like(raw: bytes) -> str:
    """The encoding a non-UTF-8 sample looks like, in the words Excel's users know."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 (Excel's 'Unicode Text' format)"
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        return "ISO-8859-1 (Latin-1)"
    return "Windows-1252 (Excel's 'CSV' format)"


def check_encoding(path: Path, block: int = 1 << 20) -> None:
    """Refuse a file that is not UTF-8, naming what it looks like and the line where it
    stops being UTF-8; reads the file once in blocks (constant memory)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise ImportFileError(_not_utf8(path, head, 1))
        handle.seek(0)
        while chunk := handle.read(block):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                line += chunk.count(b"\n", 0, error.start)
                raise ImportFileError(_not_utf8(path, chunk, line)) from None
            line += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ImportFileError(_not_utf8(path, b"", line)) from None


def _not_utf8(path: Path, sample: bytes, line: int) -> str:
    return (
        f"{path.name}: the file is not UTF-8 (line {line} cannot be read as UTF-8); it looks "
        f"like {looks_like(sample)}. Save it as 'CSV UTF-8' and upload again."
    )


def read_header(path: Path, required: list[str], optional: list[str]) -> list[str]:
    """The header, once the file is known to be UTF-8: every required column present and
    no column the import does not know."""
    check_encoding(path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = [c.strip() for c in next(csv.reader(handle), [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise ValueError(
            f"{path.name}: expected columns {', '.join(missing)} in the header; "
            f"found {', '.join(header) or 'no header'}"
        )
    known = set(required) | set(optional)
    unknown = [c for c in header if c not in known]
    if unknown:
        raise ImportFileError(
            f"{path.name}: unknown column{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)}; the file is refused, not imported without "
            f"{'them' if len(unknown) > 1 else 'it'}. Expected only the columns "
            f"{', '.join(required + optional)}"
        )
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise ImportFileError(f"{path.name}: column {', '.join(duplicated)} appears twice")
    return header


#: One chunk of the file: each column's cells (stripped strings, '' when empty).
Columns = dict[str, np.ndarray]


def chunks(
    path: Path,
    header: list[str],
    size: int | None = None,
    shape: Callable[[pd.DataFrame, list[str]], Columns] | None = None,
) -> Iterator[Columns]:
    """The data rows ``size`` at a time, as columns of stripped strings. A row with more
    fields than the header is refused (its cells would land in the wrong columns); a
    shorter row's missing cells are empty."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            reader = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                encoding="utf-8-sig",
                chunksize=size or CHUNK_ROWS,  # read here, so a test can make it small
                header=0,
                index_col=False,
                engine="c",
            )
            for frame in reader:
                yield shape(frame, header) if shape else _columns(frame, header)
    except pd.errors.ParserWarning:
        raise ImportFileError(
            f"{path.name}: line 2 has more fields than the {len(header)} columns of the header; "
            "the file is refused (check for an unquoted comma)"
        ) from None
    except pd.errors.ParserError as error:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        detail = (
            f"line {found[2]} has {found[3]} fields, the header {found[1]} columns"
            if found
            else str(error)
        )
        raise ImportFileError(
            f"{path.name}: {detail}; the file is refused (check for an unquoted comma)"
        ) from None


def _columns(
    frame: pd.DataFrame, header: list[str], expected: list[str] = PARTICIPANT_COLUMNS
) -> Columns:
    n = len(frame)
    cells = dict(zip(header, frame.columns, strict=True))
    columns = {
        name: np.fromiter(map(str.strip, frame[cells[name]].to_numpy(dtype=object)), object, n)
        for name in header
    }
    for name in expected:
        columns.setdefault(name, np.full(n, "", dtype=object))
    return columns


def row_of(columns: Columns, i: int) -> dict[str, str]:
    return {name: str(values[i]) for name, values in columns.items()}


def _matches(values: np.ndarray, pattern: str | re.Pattern[str]) -> np.ndarray:
    test = re.compile(pattern).fullmatch
    return np.fromiter(map(bool, map(test, values)), dtype=bool, count=len(values))


def _within(values: np.ndarray, allowed: Iterable[str]) -> np.ndarray:
    known = allowed if isinstance(allowed, set | dict) else set(allowed)
    return np.fromiter(map(known.__contains__, values), dtype=bool, count=len(values))


def parse_dates(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(dates, bad)``: datetime64[D] (NaT when empty or bad) and where a non-empty value is
    not a real date written YYYY-MM-DD. Years pandas cannot hold (9999) are read too."""
    shaped = _matches(values, ISO_DATE)
    candidates = pd.Series(values).where(pd.Series(shaped), "")  # only YYYY-MM-DD is parsed
    parsed = pd.to_datetime(candidates, format="%Y-%m-%d", errors="coerce")
    dates = parsed.to_numpy(dtype="datetime64[D]")
    for i in np.flatnonzero(shaped & np.isnat(dates)):
        # a real date outside pandas' years 1677–2262 (9999-01-01), or an impossible one
        with contextlib.suppress(ValueError):
            dates[i] = np.datetime64(date.fromisoformat(values[i]), "D")
    bad = (values != "") & np.isnat(dates)
    return dates, bad


def _years(dates: np.ndarray) -> np.ndarray:
    return dates.astype("datetime64[Y]").astype(np.int64) + 1970


@dataclass
class _Context:
    today: np.datetime64
    earliest: np.datetime64
    sites: dict[str, Site]
    versions: dict[str, ConsentFormVersion]
    consent_codes: list[str]
    registered: set[str]  # every hospital number of the cohort, upper-cased


def _flags(col: Columns, ctx: _Context) -> dict[str, np.ndarray]:
    """Each rule as a boolean column (True: the row breaks it), over one chunk."""
    empty = {name: values == "" for name, values in col.items()}
    flags: dict[str, np.ndarray] = {
        f"{name}.required": empty[name] for name in PARTICIPANT_COLUMNS[:9]
    }
    flags["hospital_number.format"] = ~empty["hospital_number"] & ~_matches(
        col["hospital_number"], HOSPITAL_NUMBER
    )
    flags["full_name.length"] = (
        np.fromiter(map(len, col["full_name"]), int, len(empty["sex"])) > 200
    )
    for name, allowed in CHOICES.items():
        flags[f"{name}.choice"] = ~empty[name] & ~_within(col[name], allowed)
    flags["site.choice"] = ~empty["site"] & ~_within(col["site"], ctx.sites)
    flags["phone.format"] = ~empty["phone"] & ~_matches(col["phone"], PHONE)
    flags["email.format"] = _bad_emails(col["email"])

    born, flags["date_of_birth.date"] = parse_dates(col["date_of_birth"])
    entered, flags["registered_on.date"] = parse_dates(col["registered_on"])
    diagnosed, flags["metastases_diagnosed_on.date"] = parse_dates(col["metastases_diagnosed_on"])
    # NaT compares False: a missing or bad date breaks only its own rule
    entry_rule = (entered > ctx.today) | (entered < born)
    birth_rule = (born < ctx.earliest) | (born > ctx.today)
    diagnosis_rule = (diagnosed > entered) | (diagnosed < born)
    flags["dates.plausible"] = entry_rule | birth_rule | diagnosis_rule
    both = ~np.isnat(entered) & ~np.isnat(born) & ~entry_rule & ~birth_rule
    age = np.where(both, _years(entered) - _years(born), MIN_AGE)
    flags["R01"] = both & ((age < MIN_AGE) | (age > MAX_AGE))
    flags.update(_consent_flags(col, empty, entered, ctx))
    return flags


def _bad_emails(emails: np.ndarray) -> np.ndarray:
    """Django's ``validate_email`` (the form's): its user-part pattern on each address,
    the whole validator once per distinct domain, and the model's 254 characters."""
    user_ok = EmailValidator.user_regex.match
    domains: dict[str, bool] = {}

    def bad(address: str) -> bool:
        if not address:
            return False
        user, at, domain = address.rpartition("@")
        if not at or not user or len(address) > 254 or not user_ok(user):
            return True
        if domain not in domains:
            try:
                validate_email(f"x@{domain}")
                domains[domain] = False
            except ValidationError:
                domains[domain] = True
        return domains[domain]

    return np.fromiter((bad(v) for v in emails), dtype=bool, count=len(emails))


def _consent_flags(
    col: Columns, empty: dict[str, np.ndarray], entered: np.ndarray, ctx: _Context
) -> dict[str, np.ndarray]:
    n = len(entered)
    flags: dict[str, np.ndarray] = {}
    answered = np.zeros(n, dtype=bool)
    for code in ctx.consent_codes:
        name = f"consent_{code}"
        if name in col:
            answered |= ~empty[name]
            flags[f"{name}.choice"] = ~empty[name] & ~_within(col[name], ANSWERS)
    if not answered.any():
        return flags
    nothing = np.full(n, "", dtype=object)
    on_text = col.get("consent_on", nothing)
    version_text = col.get("consent_version", nothing)
    on, bad_on = parse_dates(on_text)
    flags["consent_on.date"] = answered & (bad_on | (on_text == ""))
    known = _within(version_text, ctx.versions)
    flags["consent_version.known"] = answered & ~known
    flags["consent_on.window"] = answered & ((on < entered) | (on > ctx.today))
    never = np.datetime64("NaT")
    valid_from = np.array(
        [ctx.versions[v].valid_from if v in ctx.versions else never for v in version_text],
        dtype="datetime64[D]",
    )
    valid_until = np.array(
        [
            (ctx.versions[v].valid_until or never) if v in ctx.versions else never
            for v in version_text
        ],
        dtype="datetime64[D]",
    )
    flags["consent_version.valid"] = (
        answered & known & ((on < valid_from) | (~np.isnat(valid_until) & (on > valid_until)))
    )
    if "consent_d" in col:  # C01: d "yes" only with c "yes" (consent.editchecks)
        c = col.get("consent_c", nothing)
        flags["C01"] = (col["consent_d"] == "yes") & (c != "yes")
    return flags


# --- participants: the words for a rejected row ---------------------------------------------------


def _date_or_none(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def describe_row(row: dict[str, str], ctx: _Context) -> list[str]:
    """Every reason a row is refused, in the form's words (``registry.validation``)."""
    reasons: list[str] = []
    for name in PARTICIPANT_COLUMNS[:9]:  # hospital_number … performance_status
        if not row.get(name):
            reasons.append(f"column {name}: expected a value, received nothing")
    for name, allowed in CHOICES.items():
        value = row.get(name, "")
        if value and value not in allowed:
            reasons.append(
                f"column {name}: expected one of {', '.join(allowed)}, received {value!r}"
            )
    site = row.get("site", "")
    if site and site not in ctx.sites:
        reasons.append(
            f"column site: expected a known site code ({', '.join(sorted(ctx.sites))}), "
            f"received {site!r}"
        )
    if len(row.get("full_name", "")) > 200:
        reasons.append("column full_name: expected at most 200 characters")
    number = row.get("hospital_number", "")
    problems = contact_problems(number, row.get("email", ""), row.get("phone", ""))
    if not number:
        problems = [p for p in problems if p.field != "hospital_number"]
    dates: dict[str, date | None] = {}
    for name in ("date_of_birth", "registered_on", "metastases_diagnosed_on"):
        text = row.get(name, "")
        dates[name] = _date_or_none(text) if _is_iso(text) else None
        if text and dates[name] is None:
            reasons.append(bad_date(name, text))
    problems += date_problems(
        dates["date_of_birth"], dates["registered_on"], dates["metastases_diagnosed_on"]
    )
    if (
        dates["date_of_birth"]
        and dates["registered_on"]
        and not any(p.field in {"date_of_birth", "registered_on"} for p in problems)
    ):
        problems += edit_check_problems(
            {"date_of_birth": dates["date_of_birth"], "registered_on": dates["registered_on"]}
        )
    reasons += [
        f"column {p.field}: {p.message} (expected {p.expected}, received {p.received!r})"
        for p in problems
    ]
    reasons += _consent_reasons(row, dates["registered_on"], ctx)
    return reasons


def _is_iso(text: str) -> bool:
    return bool(re.fullmatch(ISO_DATE, text))


def _consent_reasons(row: dict[str, str], registered_on: date | None, ctx: _Context) -> list[str]:
    answers = {
        code: row[f"consent_{code}"] for code in ctx.consent_codes if row.get(f"consent_{code}")
    }
    if not answers:
        return []
    reasons = [
        f"column consent_{code}: expected yes, no or postponed, received {answer!r}"
        for code, answer in answers.items()
        if answer not in {"yes", "no", "postponed"}
    ]
    text = row.get("consent_on", "")
    on = _date_or_none(text) if _is_iso(text) else None
    if on is None:
        reasons.append(bad_date("consent_on", text))
    version = ctx.versions.get(row.get("consent_version", ""))
    if version is None:
        reasons.append(
            f"column consent_version: expected a known consent-form version "
            f"({', '.join(sorted(ctx.versions)) or 'none is registered'}), "
            f"received {row.get('consent_version', '')!r}"
        )
    if on is not None and registered_on is not None and not registered_on <= on <= _today():
        reasons.append(
            f"column consent_on: expected between cohort entry {registered_on} and today, "
            f"received {on}"
        )
    if (
        on is not None
        and version is not None
        and not (
            version.valid_from <= on and (version.valid_until is None or on <= version.valid_until)
        )
    ):
        reasons.append(f"column consent_version: {version.version} is not valid on {on}")
    values = {f"item_{code}": answers.get(code, "") for code in ctx.consent_codes}
    for finding in run_checks(CONSENT_FORM, values):
        reasons.append(
            f"column consent_{finding.field.removeprefix('item_')}: [{finding.check}] "
            "must be 'no' or 'postponed' unless consent_c is 'yes'"
        )
    return reasons


def _today() -> date:
    return timezone.localdate()


# --- participants: the database -------------------------------------------------------------------


EXISTING_FIELDS = (
    "participant__study_id",
    "full_name",
    "date_of_birth",
    "participant__registered_on",
    "participant__sex",
    "participant__primary_tumour",
    "participant__metastases_diagnosed_on",
    "participant__performance_status",
    "participant__site__code",
)


def _existing(keys: list[str]) -> dict[str, tuple[Any, ...]]:
    """The registered participants among ``keys`` (upper-cased hospital numbers)."""
    found: dict[str, tuple[Any, ...]] = {}
    for start in range(0, len(keys), 2_000):
        window = keys[start : start + 2_000]
        for values in (
            Identity.objects.annotate(key=Upper("hospital_number"))
            .filter(key__in=window)
            .values_list("key", *EXISTING_FIELDS)
        ):
            found[values[0]] = tuple(values[1:])
    return found


def _same_as(row: dict[str, str], stored: tuple[Any, ...]) -> bool:
    _study_id, name, born, entered, sex, tumour, diagnosed, ps, site = stored
    return (
        row["full_name"],
        row["date_of_birth"],
        row["registered_on"],
        row["sex"],
        row["primary_tumour"],
        row["metastases_diagnosed_on"],
        row["performance_status"],
        row["site"],
    ) == (name, str(born), str(entered), sex, tumour, str(diagnosed), str(ps), site)


class _DuplicateFinder:
    """The in-file duplicate check, held on disk so memory stays flat however long the file.

    Each chunk's upper-cased hospital numbers go in as 64-bit hashes, keyed with a random
    key made for this import (so the throw-away file cannot be matched against a list of
    hospital numbers), into a SQLite file in a private temporary folder (0700) that is
    removed when the check ends. One indexed GROUP BY at the end then finds every repeat.
    A hash collision of two different numbers would refuse a good row, never accept a bad
    one, and has odds of about n²/2⁶⁵ (10⁻⁸ at a million rows)."""

    def __enter__(self) -> _DuplicateFinder:
        self._folder = tempfile.TemporaryDirectory(prefix="blend-import-")
        self._db = sqlite3.connect(Path(self._folder.name) / "keys.sqlite3")
        self._db.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
            "CREATE TABLE keys (hash INTEGER NOT NULL, row INTEGER NOT NULL);"
        )
        self._key = secrets.token_hex(8)  # pandas takes a 16-character hash key
        return self

    def add(self, keys: np.ndarray, first_row: int) -> None:
        hashes = pd.util.hash_array(keys, categorize=False, hash_key=self._key)
        self._db.executemany(
            "INSERT INTO keys VALUES (?, ?)",
            zip(
                hashes.view(np.int64).tolist(), range(first_row, first_row + len(keys)), strict=True
            ),
        )

    def repeats(self) -> Iterator[tuple[int, int]]:
        """``(row, first row)`` for each row whose number appeared on an earlier row."""
        self._db.execute("CREATE INDEX keys_hash ON keys (hash, row)")
        yield from self._db.execute(
            "SELECT k.row, f.first FROM keys k JOIN (SELECT hash, MIN(row) AS first FROM keys "
            "GROUP BY hash HAVING COUNT(*) > 1) f ON k.hash = f.hash WHERE k.row > f.first "
            "ORDER BY k.row"
        )

    def __exit__(self, *exc: object) -> None:
        self._db.close()
        self._folder.cleanup()


@dataclass
class _Validated:
    report: ImportReport
    header: list[str]
    existing: np.ndarray  # per data row: already registered with the same content


def _context() -> _Context:
    today = _today()
    return _Context(
        today=np.datetime64(today, "D"),
        earliest=np.datetime64(EARLIEST_BIRTH, "D"),
        sites={s.code: s for s in Site.objects.all()},
        versions={v.version: v for v in ConsentFormVersion.objects.all()},
        consent_codes=list(load_protocol().consent_codes),
        registered=set(
            Identity.objects.annotate(key=Upper("hospital_number")).values_list("key", flat=True)
        ),
    )


def validate_participants(path: Path, progress: Progress = _no_progress) -> _Validated:
    """Validate the whole file in chunks; nothing is written."""
    header = read_header(path, PARTICIPANT_COLUMNS, consent_columns())
    ctx = _context()
    report = ImportReport("participants")
    with _DuplicateFinder() as duplicates:
        return _validate_chunks(path, header, ctx, report, duplicates, progress)


def _validate_chunks(
    path: Path,
    header: list[str],
    ctx: _Context,
    report: ImportReport,
    duplicates: _DuplicateFinder,
    progress: Progress,
) -> _Validated:
    bad_rows: list[np.ndarray] = []
    existing_rows: list[np.ndarray] = []
    pending: dict[int, list[str]] = {}  # reasons of the listed rows, until the end
    first_row = 2
    for col in chunks(path, header):
        n = len(col["hospital_number"])
        bad = np.zeros(n, dtype=bool)
        for flag in _flags(col, ctx).values():
            bad |= flag
        keys = np.array([v.upper() for v in col["hospital_number"]], dtype=object)
        known = _within(keys, ctx.registered) & ~bad
        same = np.zeros(n, dtype=bool)
        changed: dict[int, str] = {}
        if known.any():
            stored = _existing(sorted(set(keys[known])))
            for i in map(int, np.flatnonzero(known)):
                row, record = row_of(col, i), stored[keys[i]]
                if _same_as(row, record):
                    same[i] = True
                else:
                    bad[i] = True
                    changed[i] = (
                        f"column hospital_number: {row['hospital_number']} is already registered "
                        f"as {record[0]} with different data; correct it in the platform "
                        "(with a reason), not by import"
                    )
        for i in map(int, np.flatnonzero(bad)):
            if len(pending) >= MAX_REPORTED:
                break
            reasons = [changed[i]] if i in changed else describe_row(row_of(col, i), ctx)
            pending[first_row + i] = reasons or ["the row breaks a rule of the registration form"]
        duplicates.add(keys, first_row)
        bad_rows.append(bad)
        existing_rows.append(same)
        first_row += n
        report.rows += n
        progress("validating", report.rows)
    all_bad = np.concatenate(bad_rows) if bad_rows else np.zeros(0, dtype=bool)
    del bad_rows
    _mark_duplicates(duplicates.repeats(), all_bad, pending)
    report.rejected_count = int(all_bad.sum())
    report.rejected = [(row, "; ".join(pending[row])) for row in sorted(pending)][:MAX_REPORTED]
    existing = np.concatenate(existing_rows) if existing_rows else np.zeros(0, dtype=bool)
    return _Validated(report, header, existing)


def _mark_duplicates(
    repeats: Iterable[tuple[int, int]], bad: np.ndarray, pending: dict[int, list[str]]
) -> None:
    """A hospital number (without regard to case) on more than one row: each later row is
    refused, naming the first."""
    for row, first in repeats:
        bad[row - 2] = True
        if row in pending or len(pending) < MAX_REPORTED:
            pending.setdefault(row, []).append(
                f"column hospital_number: appears twice in this file (compared without regard "
                f"to case; first on row {first})"
            )


# --- participants: writing ---------------------------------------------------------------------


def _registration(row: dict[str, str], sites: dict[str, Site]) -> Registration:
    return Registration(
        site=sites[row["site"]],
        registered_on=date.fromisoformat(row["registered_on"]),
        sex=row["sex"],
        primary_tumour=row["primary_tumour"],
        metastases_diagnosed_on=date.fromisoformat(row["metastases_diagnosed_on"]),
        performance_status=int(row["performance_status"]),
        full_name=row["full_name"],
        date_of_birth=date.fromisoformat(row["date_of_birth"]),
        hospital_number=row["hospital_number"],
        email=row.get("email", ""),
        phone=row.get("phone", ""),
        preferred_language=row.get("preferred_language") or "nl",
    )


class _RowRefused(Exception):
    def __init__(self, row: int, reasons: str) -> None:
        self.row, self.reasons = row, reasons


def import_participants(
    path: Path, *, user: User, dry_run: bool = False, progress: Progress = _no_progress
) -> ImportReport:
    check(user, Cap.IMPORT)
    validated = validate_participants(path, progress)
    report = validated.report
    if not report.ok or dry_run:
        return report
    ctx = _context()
    progress("writing", 0)
    try:
        with transaction.atomic():
            number = 2
            for col in chunks(path, validated.header):
                for i in range(len(col["hospital_number"])):
                    row = row_of(col, i)
                    if validated.existing[number - 2]:
                        report.unchanged += 1
                    else:
                        _write_row(number, row, user, ctx)
                        report.created += 1
                    number += 1
                progress("writing", number - 2)
            record_event(
                "import.participants",
                actor=user,
                details={
                    "file": path.name,
                    "created": report.created,
                    "unchanged": report.unchanged,
                },
            )
    except _RowRefused as refused:  # the service refused what the fast pass let through
        report.created = report.unchanged = 0
        report.reject(refused.row, refused.reasons)
    return report


def _write_row(number: int, row: dict[str, str], user: User, ctx: _Context) -> None:
    try:
        participant = register_participant(_registration(row, ctx.sites), user=user)
        answers = {
            code: row[f"consent_{code}"] for code in ctx.consent_codes if row.get(f"consent_{code}")
        }
        if answers:
            on = date.fromisoformat(row["consent_on"])
            version = ctx.versions[row["consent_version"]]
            for item, answer in answers.items():
                record_consent(participant, item, answer, on=on, form_version=version, user=user)
    except (RegistrationInvalid, ConsentError) as error:
        raise _RowRefused(number, str(error)) from None


# --- historical questionnaires -----------------------------------------------------------------------


@dataclass
class QuestionnaireGroup:
    first_row: int
    assessment: Assessment | None = None
    completed_on: date | None = None
    mode: str = ""
    answers: dict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))
    unchanged: bool = False


def _number(text: str) -> int | float | str:
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() else value


def _questionnaire_columns(frame: pd.DataFrame, header: list[str]) -> Columns:
    return _columns(frame, header, QUESTIONNAIRE_COLUMNS)


def _scheduled(keys: set[tuple[str, str]]) -> dict[tuple[str, str], Assessment]:
    """The scheduled assessments among ``keys`` (study ID, timepoint): one query per 2,000
    study IDs, however many rows name them."""
    found: dict[tuple[str, str], Assessment] = {}
    study_ids = sorted({sid for sid, _ in keys})
    for start in range(0, len(study_ids), 2_000):
        for assessment in Assessment.objects.select_related("participant").filter(
            participant__study_id__in=study_ids[start : start + 2_000]
        ):
            key = (assessment.participant.study_id, assessment.timepoint)
            if key in keys:
                found[key] = assessment
    return found


def _group_rows(
    path: Path, header: list[str], report: ImportReport, progress: Progress
) -> dict[tuple[str, str], QuestionnaireGroup]:
    """Stream the file a chunk at a time: each chunk's dates and modes are checked a whole
    column at once and its assessments looked up in one query; each row then adds one
    answer to its questionnaire (study ID and timepoint)."""
    groups: dict[tuple[str, str], QuestionnaireGroup] = {}
    today = np.datetime64(timezone.localdate(), "D")
    first_row = 2
    for col in chunks(path, header, shape=_questionnaire_columns):
        n = len(col["study_id"])
        dates, bad_dates = parse_dates(col["completed_on"])
        bad_dates |= col["completed_on"] == ""
        future = ~bad_dates & (dates > today)
        bad_mode = ~_within(col["mode"], QUESTIONNAIRE_MODES)
        keys = list(zip(col["study_id"].tolist(), col["timepoint"].tolist(), strict=True))
        assessments = _scheduled({k for k in keys if k not in groups})
        for i in range(n):
            number = first_row + i
            group = groups.get(keys[i])
            if group is None:
                group = groups[keys[i]] = QuestionnaireGroup(number, assessments.get(keys[i]))
            row = row_of(col, i)
            errors = _row_errors(
                row,
                group,
                unreadable_date=bool(bad_dates[i]),
                future=bool(future[i]),
                bad_mode=bool(bad_mode[i]),
            )
            if errors:
                report.rejected.append((number, "; ".join(errors)))
                continue
            answers = group.answers[row["instrument"]]
            if row["item"] in answers:
                report.rejected.append(
                    (
                        number,
                        f"item: {row['instrument']}.{row['item']} appears twice for this questionnaire",
                    )
                )
            answers[row["item"]] = _number(row["value"]) if row["value"] != "" else None
        first_row += n
        report.rows += n
        progress("validating", report.rows)
    return groups


def _row_errors(
    row: dict[str, str],
    group: QuestionnaireGroup,
    *,
    unreadable_date: bool,
    future: bool,
    bad_mode: bool,
) -> list[str]:
    if unreadable_date:
        return [bad_date("completed_on", row["completed_on"])]
    on = date.fromisoformat(row["completed_on"])
    errors = []
    if future:
        errors.append(f"completed_on: expected today or earlier, got {on}")
    if bad_mode:
        errors.append(f"mode: expected paper or telephone, got {row['mode']!r}")
    if group.completed_on is None:  # the questionnaire's first row with a real date
        group.completed_on, group.mode = on, row["mode"]
    if group.assessment is None:
        errors.append(
            f"study_id/timepoint: no scheduled {row['timepoint']!r} assessment for {row['study_id']!r} "
            "(record the treatment first so the schedule exists)"
        )
    elif row["instrument"] not in group.assessment.instruments or row["instrument"] == "omed":
        errors.append(
            f"instrument: expected one of {[i for i in group.assessment.instruments if i != 'omed']} "
            f"for {row['timepoint']}, got {row['instrument']!r}"
        )
    if (on, row["mode"]) != (group.completed_on, group.mode):
        errors.append(
            "completed_on/mode: expected the same date and mode on every row of one questionnaire"
        )
    return errors


def _check_group(
    group: QuestionnaireGroup, assessment: Assessment, submitted: dict[str, Any] | None
) -> list[str]:
    errors = []
    for code, answers in group.answers.items():
        if code == "cost":
            continue
        try:
            score(code, {k: v for k, v in answers.items() if v is not None})
        except InstrumentError as error:
            errors.append(f"{code}: {error}")
    if submitted is not None:
        if {k: dict(v) for k, v in group.answers.items()} == {
            k: submitted.get(k) for k in group.answers
        }:
            group.unchanged = True
        else:
            errors.append(
                f"{assessment.timepoint}: a different questionnaire was already submitted for "
                f"{assessment.participant.study_id}"
            )
    return errors


def import_questionnaires(
    path: Path, *, user: User, dry_run: bool = False, progress: Progress = _no_progress
) -> ImportReport:
    """Historical questionnaires: the file's encoding, header and dates are checked as for
    participants; the rows are grouped per questionnaire (one per study ID and timepoint)."""
    check(user, Cap.IMPORT)
    header = read_header(path, QUESTIONNAIRE_COLUMNS, [])
    report = ImportReport("questionnaires")
    groups = _group_rows(path, header, report, progress)
    rejected_rows = {row for row, _ in report.rejected}
    groups_to_check = [
        g for g in groups.values() if g.assessment is not None and g.first_row not in rejected_rows
    ]
    submitted = submitted_answers([g.assessment.pk for g in groups_to_check if g.assessment])
    for group in groups_to_check:
        assert group.assessment is not None  # filtered above
        errors = _check_group(group, group.assessment, submitted.get(group.assessment.pk))
        if errors:
            report.rejected.append((group.first_row, "; ".join(errors)))
    report.rejected.sort()
    if not report.ok or dry_run:
        return report
    with transaction.atomic():
        for group in groups.values():
            if group.unchanged:
                report.unchanged += 1
                continue
            # every group has both once the file passed: a row without them is rejected above
            assert group.assessment is not None and group.completed_on is not None
            enter_by_staff(
                group.assessment,
                group.answers,
                mode=group.mode,
                completed_on=group.completed_on,
                user=user,
            )
            report.created += 1
        record_event(
            "import.questionnaires",
            actor=user,
            details={"file": path.name, "created": report.created, "unchanged": report.unchanged},
        )
    return report
