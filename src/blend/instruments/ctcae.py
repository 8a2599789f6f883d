"""CTCAE v5.0: the full term list with MedDRA codes and grade definitions (reference §10).

Answers: ``{"term": "wound_infection", "grade": 3}``. The grade must exist for the
term (Seroma has no grade 4 or 5). Scores: ``grade`` (float 1-5) and ``grade3plus``
(bool, the usual serious-AE threshold).

**Data.** ``src/blend/instruments/data/ctcae_v5.0.csv`` holds every term of the NCI's
CTCAE v5.0 (published 27 November 2017): MedDRA code, MedDRA system organ class, term,
the five grade definitions ("-" where a grade does not exist for the term), the definition, the
navigational note and what changed since v4.03. It is the sheet "CTCAE v5.0 Clean Copy"
of the NCI CTEP workbook ``CTCAE_v5.0_2017-11-27.xlsx`` saved as CSV (a work of the US
government, in the public domain), taken from two independent public copies that were
compared cell by cell: they differed only in the header's grade columns, whose
characters the CSV export had mangled; the header here reads "Grade 1" to "Grade 5".

**Keys.** A term's key is its MedDRA code, except for the eight terms BLEND has recorded
from the start (``BLEND_TERMS``): they keep their established keys, which stored records
and exports use, and BLEND's working Dutch names. They come first (the terms a BLEND
form needs most), then every other term in the NCI's order (by organ class). The
grade descriptions are English only (no Dutch CTCAE text is loaded).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from blend.instruments.errors import InstrumentError
from blend.instruments.model import Instrument, Item, Option, Scale, choice_options, placeholder_nl

DATA = Path(__file__).parent / "data" / "ctcae_v5.0.csv"
VERSION = "5.0"
PUBLISHED = "2017-11-27"
SOURCE = (
    "NCI CTEP, Common Terminology Criteria for Adverse Events (CTCAE) v5.0, "
    "27 November 2017 (CTCAE_v5.0_2017-11-27.xlsx, sheet 'CTCAE v5.0 Clean Copy')"
)
#: The file's columns, in order.
COLUMNS = (
    "MedDRA Code",
    "MedDRA SOC",
    "CTCAE Term",
    "Grade 1",
    "Grade 2",
    "Grade 3",
    "Grade 4",
    "Grade 5",
    "Definition",
    "Navigational Note",
    "CTCAE v5.0 Change",
)


@dataclass(frozen=True)
class Term:
    key: str
    name_en: str
    name_nl: str
    soc: str
    meddra: str
    grades: dict[int, str]  # only the grades that exist for the term
    definition: str = ""
    note: str = ""  # the NCI's navigational note ("Also consider ...")

    @property
    def blend(self) -> bool:
        """One of the terms BLEND has recorded from the start (listed first)."""
        return self.key in BLEND_KEYS


DEATH = "Death"
#: CTCAE term -> (established key, BLEND's working Dutch name), in the order shown first.
BLEND_TERMS: dict[str, tuple[str, str]] = {
    "Wound complication": ("wound_complication", "Wondcomplicatie"),
    "Wound dehiscence": ("wound_dehiscence", "Wonddehiscentie"),
    "Wound infection": ("wound_infection", "Wondinfectie"),
    "Seroma": ("seroma", "Seroom"),
    "Postoperative hemorrhage": ("postoperative_hemorrhage", "Postoperatieve bloeding"),
    "Spinal fracture": ("spinal_fracture", "Wervelfractuur"),
    "Dermatitis radiation": ("dermatitis_radiation", "Radiatiedermatitis"),
    "Cerebrospinal fluid leakage": ("csf_leakage", "Liquorlekkage"),
}
BLEND_KEYS = frozenset(key for key, _nl in BLEND_TERMS.values())


class CtcaeDataError(InstrumentError):
    """The shipped CTCAE file is not what this module expects (it names row and column)."""


def _grades(row: Mapping[str, str]) -> dict[int, str]:
    """The grades that exist for a term: a cell of "-" means the grade does not."""
    found = {}
    for grade in range(1, 6):
        text = row[f"Grade {grade}"].strip()
        if text not in {"", "-"}:
            found[grade] = text
    return found


def _term(line: int, row: Mapping[str, str]) -> Term:
    code, name = row["MedDRA Code"].strip(), row["CTCAE Term"].strip()
    if not (code.isdigit() and len(code) == 8):
        raise CtcaeDataError(
            f"{DATA.name}: line {line}: MedDRA Code: expected 8 digits; received {code!r}"
        )
    grades = _grades(row)
    if not grades:
        raise CtcaeDataError(
            f"{DATA.name}: line {line}: Grade 1-5: expected at least one grade for {name!r}; "
            "received none"
        )
    key, name_nl = BLEND_TERMS.get(name, (code, name))
    return Term(
        key,
        name,
        name_nl,
        row["MedDRA SOC"].strip(),
        code,
        grades,
        row["Definition"].strip().removeprefix("-").strip(),
        row["Navigational Note"].strip(),
    )


@cache
def load_terms() -> tuple[Term, ...]:
    """Every CTCAE v5.0 term: BLEND's eight first, then the rest in the file's order."""
    with DATA.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise CtcaeDataError(
                f"{DATA.name}: header: expected {', '.join(COLUMNS)}; "
                f"received {', '.join(reader.fieldnames or ())}"
            )
        terms = [_term(line, row) for line, row in enumerate(reader, start=2)]
    # Counted once: a count per key would be quadratic, on every process start.
    duplicated = sorted(k for k, n in Counter(t.key for t in terms).items() if n > 1)
    missing = sorted(set(BLEND_TERMS) - {t.name_en for t in terms})
    if duplicated or missing:
        raise CtcaeDataError(
            f"{DATA.name}: expected one row per MedDRA code and BLEND's terms "
            f"{', '.join(BLEND_TERMS)}; received duplicates {duplicated} and missing {missing}"
        )
    order = {key: i for i, (key, _nl) in enumerate(BLEND_TERMS.values())}
    first = sorted((t for t in terms if t.key in order), key=lambda t: order[t.key])
    return (*first, *(t for t in terms if t.key not in order))


TERMS: tuple[Term, ...] = load_terms()
TERM_KEYS = tuple(t.key for t in TERMS)
# Row per term, column per grade 0..5: 1.0 where the grade exists.
AVAILABLE = np.array([[g in t.grades for g in range(6)] for t in TERMS], dtype=bool)


BY_KEY: dict[str, Term] = {t.key: t for t in TERMS}


def ctcae_term(key: str) -> Term:
    """The term's names, MedDRA code, organ class and grade descriptions (English)."""
    try:
        return BY_KEY[key]
    except KeyError:
        raise InstrumentError(
            f"ctcae: term: expected a CTCAE v5.0 term key (its 8-digit MedDRA code, or one of "
            f"{', '.join(sorted(BLEND_KEYS))}); received {key!r}"
        ) from None


def score_ctcae(x: np.ndarray, options: Mapping[str, Any]) -> dict[str, np.ndarray]:
    term, grade = x[:, 0], x[:, 1]
    both = ~np.isnan(term) & ~np.isnan(grade)
    ok = np.ones(len(term), dtype=bool)
    ok[both] = AVAILABLE[term[both].astype(np.intp), grade[both].astype(np.intp)]
    if not ok.all():
        row = int(np.argmin(ok))
        found = TERMS[int(term[row])]
        raise InstrumentError(
            f"ctcae: item 'grade' (row {row}): expected one of {sorted(found.grades)} for "
            f"{found.key}; received {grade[row]:g}"
        )
    graded = np.where(both, grade, np.nan)
    serious = np.full(len(term), None, dtype=object)
    serious[both] = graded[both] >= 3
    return {"grade": graded, "grade3plus": serious}


CTCAE = Instrument(
    code="ctcae",
    title_en="CTCAE v5.0 adverse event grade",
    title_nl="CTCAE v5.0-graad van een bijwerking",
    source=SOURCE,
    items=(
        Item(
            "term",
            "Adverse event term",
            "Bijwerking (term)",
            tuple(Option(t.key, t.name_en, t.name_nl) for t in TERMS),
        ),
        Item(
            "grade",
            "Grade",
            "Graad",
            choice_options(range(1, 6), {5: "5 (death)"}, {5: "5 (overleden)"}),
        ),
    ),
    scales=(
        Scale("grade", "CTCAE grade 1-5", ("grade",), "symptom", 1.0, 5.0),
        Scale("grade3plus", "Grade 3 or higher (bool)", categorical=True),
    ),
    missing_rule="grade and grade3plus are None unless both the term and the grade are given.",
    instructions_nl=placeholder_nl("Grade descriptions: official Dutch CTCAE text required"),
    scorer=score_ctcae,
)

INSTRUMENTS = (CTCAE,)
