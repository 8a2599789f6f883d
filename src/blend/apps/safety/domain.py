"""CTCAE v5.0 terms offered on the adverse-event form, with their grade definitions.

The terms and grade texts are those of ``blend.instruments.ctcae`` (transcribed from
NCI CTEP CTCAE v5.0, reference §10; check against the official CTCAE_v5.0.xlsx before
go-live): the three wound terms the BLEND protocol singles out and the complications
most likely after same-day SBRT and surgery. "Other" lets the reporter name any other
CTCAE term; its grades follow the generic CTCAE grading scale. Pure: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    code: str
    label: str
    soc: str
    meddra: str
    grades: dict[int, str]  # grade -> definition; a grade absent here is not available for the term
    label_nl: str = ""

    def allows(self, grade: int) -> bool:
        return grade in self.grades


GENERIC = {
    1: "Mild; asymptomatic or mild symptoms; clinical or diagnostic observations only; intervention not indicated",
    2: "Moderate; minimal, local or noninvasive intervention indicated; limiting age-appropriate instrumental ADL",
    3: "Severe or medically significant but not immediately life-threatening; hospitalization indicated; "
    "disabling; limiting self care ADL",
    4: "Life-threatening consequences; urgent intervention indicated",
    5: "Death related to AE",
}


def _from_instruments() -> tuple[Term, ...]:
    """The terms and grade texts of ``blend.instruments.ctcae`` (one transcription for the whole platform)."""
    from blend.instruments import ctcae as source

    return tuple(
        Term(t.key, t.name_en, t.soc, t.meddra, dict(t.grades), t.name_nl) for t in source.TERMS
    )


TERMS: tuple[Term, ...] = (
    *_from_instruments(),
    Term(
        "other", "Other (name the CTCAE v5.0 term)", "", "", GENERIC, "Anders (CTCAE-term noemen)"
    ),
)
BY_CODE: dict[str, Term] = {t.code: t for t in TERMS}
WOUND_TERMS = ("wound_complication", "wound_dehiscence", "wound_infection")


def term(code: str) -> Term:
    try:
        return BY_CODE[code]
    except KeyError:
        raise ValueError(f"term: expected one of {', '.join(BY_CODE)}, got {code!r}") from None


def term_choices() -> list[tuple[str, str]]:
    return [(t.code, t.label) for t in TERMS]


#: Relatedness from weakest to strongest (the values of ``safety.models.Relatedness``).
RELATEDNESS_ORDER = ("not_related", "unlikely", "possible", "probable", "definite")


def strongest_relatedness(*values: str) -> str:
    """The strongest of an event's relatedness values: its relatedness to trial
    treatment, as shown to a reader who may not see the arm (SBRT is given in one arm
    only, so the split by treatment would tell it).

    >>> strongest_relatedness("not_related", "possible")
    'possible'
    >>> strongest_relatedness("probable", "unlikely")
    'probable'
    """
    known = [v for v in values if v in RELATEDNESS_ORDER]
    return max(known, key=RELATEDNESS_ORDER.index) if known else ""
