"""CTCAE v5.0 grades for the wound and related terms BLEND records (reference §10).

Answers: ``{"term": "wound_infection", "grade": 3}``. The grade must exist for the
term (Seroma has no grade 4 or 5). Scores: ``grade`` (float 1-5) and ``grade3plus``
(bool, the usual serious-AE threshold). Grade descriptions per term are in ``TERMS``
for forms (``ctcae_term``). Transcribed from oncohub/CTCAE5 (SINGLE-SOURCE): compare
with the official NCI CTCAE_v5.0.xlsx before go-live. The Dutch term names are BLEND's
working translation; the grade descriptions have a placeholder until a Dutch CTCAE
text is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from blend.instruments.errors import InstrumentError
from blend.instruments.model import Instrument, Item, Option, Scale, choice_options, placeholder_nl


@dataclass(frozen=True)
class Term:
    key: str
    name_en: str
    name_nl: str
    soc: str
    meddra: str
    grades: dict[int, str]  # only the grades that exist for the term


DEATH = "Death"
TERMS: tuple[Term, ...] = (
    Term(
        "wound_complication",
        "Wound complication",
        "Wondcomplicatie",
        "Injury, poisoning and procedural complications",
        "10053692",
        {
            1: "Observation only; topical intervention indicated",
            2: "Bedside local care indicated",
            3: "Operative intervention indicated",
            4: "Life-threatening consequences",
            5: DEATH,
        },
    ),
    Term(
        "wound_dehiscence",
        "Wound dehiscence",
        "Wonddehiscentie",
        "Injury, poisoning and procedural complications",
        "10048031",
        {
            1: "Incisional separation, intervention not indicated",
            2: "Incisional separation, local care (e.g., suturing) or medical intervention "
            "indicated (e.g., analgesic)",
            3: "Fascial disruption or dehiscence without evisceration; revision by operative "
            "intervention indicated",
            4: "Life-threatening consequences; symptomatic hernia with evidence of "
            "strangulation; fascial disruption with evisceration; major reconstruction flap, "
            "grafting, resection, or amputation indicated",
            5: DEATH,
        },
    ),
    Term(
        "wound_infection",
        "Wound infection",
        "Wondinfectie",
        "Infections and infestations",
        "10048038",
        {
            1: "Localized, local intervention indicated",
            2: "Oral intervention indicated (e.g., antibiotic, antifungal, or antiviral)",
            3: "IV antibiotic, antifungal, or antiviral intervention indicated; invasive "
            "intervention indicated",
            4: "Life-threatening consequences; urgent intervention indicated",
            5: DEATH,
        },
    ),
    Term(
        "seroma",
        "Seroma",
        "Seroom",
        "General disorders and administration site conditions",
        "",
        {
            1: "Asymptomatic; clinical or diagnostic observations only; intervention not indicated",
            2: "Symptomatic; simple aspiration indicated",
            3: "Symptomatic, elective invasive intervention indicated",
        },
    ),
    Term(
        "postoperative_hemorrhage",
        "Postoperative hemorrhage",
        "Postoperatieve bloeding",
        "Injury, poisoning and procedural complications",
        "",
        {
            1: "Mild symptoms; intervention not indicated",
            2: "Moderate bleeding requiring transfusion <2 units pRBCs",
            3: "Transfusion indicated of >=2 units pRBCs; invasive intervention indicated; "
            "hospitalization",
            4: "Life-threatening consequences; urgent intervention indicated",
            5: DEATH,
        },
    ),
    Term(
        "spinal_fracture",
        "Spinal fracture",
        "Wervelfractuur",
        "Musculoskeletal and connective tissue disorders",
        "",
        {
            1: "Mild back pain; nonprescription analgesics indicated",
            2: "Moderate back pain; prescription analgesics indicated; limiting instrumental ADL",
            3: "Severe back pain; hospitalization or intervention indicated for pain control "
            "(e.g., vertebroplasty); limiting self care ADL; disability",
            4: "Life-threatening consequences; symptoms associated with neurovascular compromise",
            5: DEATH,
        },
    ),
    Term(
        "dermatitis_radiation",
        "Dermatitis radiation",
        "Radiatiedermatitis",
        "Injury, poisoning and procedural complications",
        "",
        {
            1: "Faint erythema or dry desquamation",
            2: "Moderate to brisk erythema; patchy moist desquamation, mostly confined to skin "
            "folds and creases; moderate edema",
            3: "Moist desquamation in areas other than skin folds and creases; bleeding induced "
            "by minor trauma or abrasion",
            4: "Life-threatening consequences; skin necrosis or ulceration of full thickness "
            "dermis; spontaneous bleeding from involved site; skin graft indicated",
            5: DEATH,
        },
    ),
    Term(
        "csf_leakage",
        "Cerebrospinal fluid leakage",
        "Liquorlekkage",
        "Nervous system disorders",
        "",
        {
            1: "Post-craniotomy: asymptomatic; Post-lumbar puncture: transient headache; "
            "postural care indicated",
            2: "Post-craniotomy: moderate symptoms; medical intervention indicated; Post-lumbar "
            "puncture: persistent moderate symptoms; blood patch indicated",
            3: "Severe symptoms; medical intervention indicated",
            4: "Life-threatening consequences; urgent intervention indicated",
            5: DEATH,
        },
    ),
)
TERM_KEYS = tuple(t.key for t in TERMS)
# Row per term, column per grade 0..5: 1.0 where the grade exists.
AVAILABLE = np.array([[g in t.grades for g in range(6)] for t in TERMS], dtype=bool)


def ctcae_term(key: str) -> Term:
    """The term's names and its grade descriptions (English)."""
    for term in TERMS:
        if term.key == key:
            return term
    raise InstrumentError(f"ctcae: term: expected one of {', '.join(TERM_KEYS)}; received {key!r}")


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
    source="NCI Common Terminology Criteria for Adverse Events v5.0 (2017), transcription "
    "oncohub/CTCAE5",
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
