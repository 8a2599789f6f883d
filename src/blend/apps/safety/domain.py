"""CTCAE v5.0 terms offered on the adverse-event form, with their grade definitions.

The terms and grade texts are those of ``blend.instruments.ctcae``: every term of NCI
CTEP's CTCAE v5.0 with its MedDRA code (reference §10). BLEND's own terms come first
(the three wound terms the protocol singles out and the complications most likely after
same-day SBRT and surgery), then every other term under its organ class; the form
searches them by name, organ class or MedDRA code (``search``). "Other" stays for an
event no CTCAE term fits (it existed before the full list); its grades follow the
generic CTCAE grading scale. Pure: no Django.
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
    blend: bool = False  # one of BLEND's own terms, offered first

    def matches(self, words: list[str]) -> bool:
        """Whether every word is in the term's name (either language), organ class or
        MedDRA code, ignoring case."""
        text = f"{self.label} {self.label_nl} {self.soc} {self.meddra}".casefold()
        return all(word in text for word in words)

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
        Term(t.key, t.name_en, t.soc, t.meddra, dict(t.grades), t.name_nl, t.blend)
        for t in source.TERMS
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
        raise ValueError(
            f"term: expected a CTCAE v5.0 term (its 8-digit MedDRA code, or one of "
            f"{', '.join(t.code for t in TERMS if t.blend)}, other), got {code!r}"
        ) from None


def term_choices() -> list[tuple[str, str]]:
    return [(t.code, t.label) for t in TERMS]


#: The group of BLEND's own terms and of "other" on the form (the rest: their organ class).
BLEND_GROUP = "BLEND: wound and treatment-related terms"
OTHER_GROUP = "No CTCAE term fits"


def grouped(terms: list[Term]) -> list[tuple[str, list[tuple[str, str]]]]:
    """``terms`` as the form's option groups, in their order: BLEND's terms, then one
    group per organ class, then "other"."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for t in terms:
        name = BLEND_GROUP if t.blend else (t.soc or OTHER_GROUP)
        groups.setdefault(name, []).append((t.code, t.label))
    return list(groups.items())


def search(query: str, keep: str = "") -> list[Term]:
    """The terms matching every word of ``query`` (all for an empty one), BLEND's first;
    the term ``keep`` (the one chosen now) is always among them, so filtering the list
    never drops the reporter's choice."""
    words = query.casefold().split()
    found = [t for t in TERMS if t.matches(words) or t.code in {keep, "other"}]
    return found


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
