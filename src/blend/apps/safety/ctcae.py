"""CTCAE v5.0 terms offered on the adverse-event form, with their grade definitions.

Source: /work/shared/reference/instruments.md §10 (a transcription of NCI CTEP
CTCAE v5.0; check against the official CTCAE_v5.0.xlsx before go-live). The three
wound terms are the ones the BLEND protocol singles out; the others are the
complications most likely after same-day SBRT and surgery. "Other" lets the
reporter name any other CTCAE term; its grades follow the generic CTCAE scale.
Pure data: no Django.
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

_INJURY = "Injury, poisoning and procedural complications"

TERMS: tuple[Term, ...] = (
    Term("wound_complication", "Wound complication", _INJURY, "10053692", {
        1: "Observation only; topical intervention indicated",
        2: "Bedside local care indicated",
        3: "Operative intervention indicated",
        4: "Life-threatening consequences",
        5: "Death",
    }),
    Term("wound_dehiscence", "Wound dehiscence", _INJURY, "10048031", {
        1: "Incisional separation, intervention not indicated",
        2: "Incisional separation, local care (e.g., suturing) or medical intervention indicated (e.g., analgesic)",
        3: "Fascial disruption or dehiscence without evisceration; revision by operative intervention indicated",
        4: "Life-threatening consequences; symptomatic hernia with evidence of strangulation; fascial disruption "
           "with evisceration; major reconstruction flap, grafting, resection, or amputation indicated",
        5: "Death",
    }),
    Term("wound_infection", "Wound infection", "Infections and infestations", "10048038", {
        1: "Localized, local intervention indicated",
        2: "Oral intervention indicated (e.g., antibiotic, antifungal, or antiviral)",
        3: "IV antibiotic, antifungal, or antiviral intervention indicated; invasive intervention indicated",
        4: "Life-threatening consequences; urgent intervention indicated",
        5: "Death",
    }),
    Term("seroma", "Seroma", "General disorders and administration site conditions", "10040102", {
        1: "Asymptomatic; clinical or diagnostic observations only; intervention not indicated",
        2: "Symptomatic; simple aspiration indicated",
        3: "Symptomatic, elective invasive intervention indicated",
    }),
    Term("postoperative_hemorrhage", "Postoperative hemorrhage", _INJURY, "10055322", {
        1: "Mild symptoms; intervention not indicated",
        2: "Moderate bleeding requiring transfusion <2 units pRBCs",
        3: "Transfusion indicated of ≥2 units pRBCs; invasive intervention indicated; hospitalization",
        4: "Life-threatening consequences; urgent intervention indicated",
        5: "Death",
    }),
    Term("spinal_fracture", "Spinal fracture", _INJURY, "10041569", {
        1: "Mild back pain; nonprescription analgesics indicated",
        2: "Moderate back pain; prescription analgesics indicated; limiting instrumental ADL",
        3: "Severe back pain; hospitalization or intervention indicated for pain control (e.g., vertebroplasty); "
           "limiting self care ADL; disability",
        4: "Life-threatening consequences; symptoms associated with neurovascular compromise",
        5: "Death",
    }),
    Term("dermatitis_radiation", "Dermatitis radiation", _INJURY, "10061103", {
        1: "Faint erythema or dry desquamation",
        2: "Moderate to brisk erythema; patchy moist desquamation, mostly confined to skin folds and creases; "
           "moderate edema",
        3: "Moist desquamation in areas other than skin folds and creases; bleeding induced by minor trauma or abrasion",
        4: "Life-threatening consequences; skin necrosis or ulceration of full thickness dermis; spontaneous "
           "bleeding from involved site; skin graft indicated",
        5: "Death",
    }),
    Term("csf_leakage", "Cerebrospinal fluid leakage", "Nervous system disorders", "10008164", {
        1: "Post-craniotomy: asymptomatic; Post-lumbar puncture: transient headache; postural care indicated",
        2: "Post-craniotomy: moderate symptoms; medical intervention indicated; Post-lumbar puncture: persistent "
           "moderate symptoms; blood patch indicated",
        3: "Severe symptoms; medical intervention indicated",
        4: "Life-threatening consequences; urgent intervention indicated",
        5: "Death",
    }),
    Term("other", "Other (name the CTCAE v5.0 term)", "", "", GENERIC),
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
