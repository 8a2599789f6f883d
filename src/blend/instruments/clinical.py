"""Clinician-reported scores: SINS, Bilsky ESCC, ASIA (AIS), Karnofsky and ECOG/WHO.

These are not licensed questionnaires. Their Dutch wording is BLEND's own working
translation (``placeholder=False``); a translation file can still replace it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from blend.instruments.errors import InstrumentError
from blend.instruments.model import Instrument, Item, Option, OptionSpec, Scale
from blend.instruments.scoring import table_lookup

# --- SINS (Fisher et al., Spine 2010;35:E1221-E1229) ---------------------------------
# component -> (question en, question nl, ((code, points, label en, label nl), ...))
SINS_COMPONENTS: dict[str, tuple[str, str, tuple[tuple[str, int, str, str], ...]]] = {
    "location": (
        "Location",
        "Locatie",
        (
            (
                "junctional",
                3,
                "Junctional (occiput-C2, C7-T2, T11-L1, L5-S1)",
                "Junctioneel (occiput-C2, C7-T2, T11-L1, L5-S1)",
            ),
            ("mobile", 2, "Mobile spine (C3-C6, L2-L4)", "Mobiele wervelkolom (C3-C6, L2-L4)"),
            ("semi_rigid", 1, "Semi-rigid (T3-T10)", "Semi-rigide (T3-T10)"),
            ("rigid", 0, "Rigid (S2-S5)", "Rigide (S2-S5)"),
        ),
    ),
    "pain": (
        "Pain (relief with recumbency and/or pain with movement/loading of the spine)",
        "Pijn (verlichting bij liggen en/of pijn bij bewegen/belasten van de wervelkolom)",
        (
            ("mechanical", 3, "Yes, mechanical pain", "Ja, mechanische pijn"),
            (
                "occasional",
                1,
                "Occasional pain but not mechanical",
                "Af en toe pijn, niet mechanisch",
            ),
            ("none", 0, "Pain-free lesion", "Pijnvrije laesie"),
        ),
    ),
    "bone_lesion": (
        "Bone lesion",
        "Botlaesie",
        (
            ("lytic", 2, "Lytic", "Lytisch"),
            ("mixed", 1, "Mixed (lytic/blastic)", "Gemengd (lytisch/blastisch)"),
            ("blastic", 0, "Blastic", "Blastisch"),
        ),
    ),
    "alignment": (
        "Radiographic spinal alignment",
        "Radiologische uitlijning van de wervelkolom",
        (
            ("subluxation", 4, "Subluxation/translation present", "Subluxatie/translatie aanwezig"),
            (
                "de_novo_deformity",
                2,
                "De novo deformity (kyphosis/scoliosis)",
                "De novo deformiteit (kyfose/scoliose)",
            ),
            ("normal", 0, "Normal alignment", "Normale uitlijning"),
        ),
    ),
    "collapse": (
        "Vertebral body collapse",
        "Inzakking van het wervellichaam",
        (
            ("over_50", 3, "> 50% collapse", "> 50% inzakking"),
            ("under_50", 2, "< 50% collapse", "< 50% inzakking"),
            (
                "none_over_50_involved",
                1,
                "No collapse with > 50% of the body involved",
                "Geen inzakking, > 50% van het wervellichaam aangedaan",
            ),
            ("none", 0, "None of the above", "Geen van bovenstaande"),
        ),
    ),
    "posterolateral": (
        "Posterolateral involvement of spinal elements (facet, pedicle or "
        "costovertebral joint fracture or replacement with tumour)",
        "Posterolaterale betrokkenheid (facet, pedikel of costovertebraal gewricht "
        "gefractureerd of vervangen door tumor)",
        (
            ("bilateral", 3, "Bilateral", "Bilateraal"),
            ("unilateral", 1, "Unilateral", "Unilateraal"),
            ("none", 0, "None of the above", "Geen van bovenstaande"),
        ),
    ),
}
SINS_POINTS = {
    k: np.array([p for _, p, _, _ in spec[2]], dtype=float) for k, spec in SINS_COMPONENTS.items()
}
SINS_CATEGORIES = ((0, 6, "stable"), (7, 12, "indeterminate"), (13, 18, "unstable"))


def score_sins(x: np.ndarray, options: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Component points, total (0-18) and category; total needs all six components."""
    out = {
        f"{k}_points": table_lookup(SINS_POINTS[k], x[:, j]) for j, k in enumerate(SINS_COMPONENTS)
    }
    total = np.asarray(sum(out.values()))
    category = np.select(
        [total <= 6, total <= 12, total <= 18], [c for _, _, c in SINS_CATEGORIES], default=""
    ).astype(object)
    category[np.isnan(total)] = None
    return {"total": total, "category": category, **out}


SINS = Instrument(
    code="sins",
    title_en="Spinal Instability Neoplastic Score (SINS)",
    title_nl="Spinal Instability Neoplastic Score (SINS)",
    source="Fisher CG et al. A novel classification system for spinal instability in neoplastic "
    "disease. Spine 2010;35(22):E1221-E1229",
    items=tuple(
        Item(
            key,
            en,
            nl,
            tuple(
                Option(code, f"{label_en} ({p})", f"{label_nl} ({p})")
                for code, p, label_en, label_nl in opts
            ),
        )
        for key, (en, nl, opts) in SINS_COMPONENTS.items()
    ),
    scales=(
        Scale("total", "SINS total (0-18)", tuple(SINS_COMPONENTS), "symptom", 0.0, 18.0),
        Scale("category", "stable (0-6), indeterminate (7-12), unstable (13-18)", categorical=True),
        *(
            Scale(f"{k}_points", f"{k} points", (k,), "symptom", 0.0, float(SINS_POINTS[k].max()))
            for k in SINS_COMPONENTS
        ),
    ),
    missing_rule="Each component's points are scored when answered; total and category need "
    "all six components.",
    scorer=score_sins,
)

# --- Bilsky ESCC (Bilsky et al., J Neurosurg Spine 2010;13:324-328) -------------------
BILSKY_GRADES = (
    ("0", "Bone-only disease", "Alleen botaandoening, geen epidurale uitbreiding"),
    (
        "1a",
        "Epidural impingement, without deformation of the thecal sac",
        "Epidurale impressie, zonder vervorming van de durale zak",
    ),
    (
        "1b",
        "Deformation of the thecal sac, without spinal cord abutment",
        "Vervorming van de durale zak, zonder contact met het myelum",
    ),
    (
        "1c",
        "Deformation of the thecal sac with spinal cord abutment, without cord compression",
        "Vervorming van de durale zak met contact met het myelum, zonder myelumcompressie",
    ),
    (
        "2",
        "Spinal cord compression, with CSF visible around the cord",
        "Myelumcompressie, liquor rond het myelum zichtbaar",
    ),
    (
        "3",
        "Spinal cord compression, no CSF visible around the cord",
        "Myelumcompressie, geen liquor rond het myelum zichtbaar",
    ),
)
BILSKY_HIGH_FROM = 4  # position of grade "2": grades 2-3 are high-grade ESCC (NOMS)


def _grade_outputs(codes: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    out = np.full(len(codes), None, dtype=object)
    ok = ~np.isnan(codes)
    out[ok] = np.asarray(labels, dtype=object)[codes[ok].astype(np.intp)]
    return out


def score_bilsky(x: np.ndarray, options: Mapping[str, Any]) -> dict[str, np.ndarray]:
    code = x[:, 0]
    high = np.full(len(code), None, dtype=object)
    ok = ~np.isnan(code)
    high[ok] = code[ok] >= BILSKY_HIGH_FROM
    return {
        "grade": _grade_outputs(code, tuple(g for g, _, _ in BILSKY_GRADES)),
        "ordinal": code.copy(),
        "high_grade": high,
    }


BILSKY = Instrument(
    code="bilsky",
    title_en="Bilsky epidural spinal cord compression (ESCC) grade",
    title_nl="Bilsky-graad van epidurale myelumcompressie (ESCC)",
    source="Bilsky MH et al. Reliability analysis of the epidural spinal cord compression "
    "scale. J Neurosurg Spine 2010;13(3):324-328",
    items=(
        Item(
            "grade",
            "ESCC grade on axial T2-weighted MRI at the level of most severe compression",
            "ESCC-graad op axiale T2-gewogen MRI ter hoogte van de ernstigste compressie",
            tuple(Option(g, f"{g}: {en}", f"{g}: {nl}") for g, en, nl in BILSKY_GRADES),
        ),
    ),
    scales=(
        Scale("grade", "Grade 0, 1a, 1b, 1c, 2 or 3", categorical=True),
        Scale(
            "ordinal",
            "Ordinal position 0-5 (0 < 1a < 1b < 1c < 2 < 3)",
            ("grade",),
            "symptom",
            0.0,
            5.0,
        ),
        Scale("high_grade", "High-grade ESCC (grade 2 or 3), bool", categorical=True),
    ),
    missing_rule="Missing when not recorded.",
    scorer=score_bilsky,
)

# --- ASIA Impairment Scale (ISNCSCI) ----------------------------------------------------
AIS_GRADES = (
    ("A", "Complete", "Compleet"),
    ("B", "Sensory incomplete", "Sensibel incompleet"),
    (
        "C",
        "Motor incomplete: less than half of key muscles below the NLI grade >= 3",
        "Motorisch incompleet: minder dan de helft van de sleutelspieren onder het NLI kracht >= 3",
    ),
    (
        "D",
        "Motor incomplete: at least half of key muscles below the NLI grade >= 3",
        "Motorisch incompleet: minstens de helft van de sleutelspieren onder het NLI kracht >= 3",
    ),
    ("E", "Normal", "Normaal"),
)
AIS_LABELS = tuple(g for g, _, _ in AIS_GRADES)


def score_asia(x: np.ndarray, options: Mapping[str, Any]) -> dict[str, np.ndarray]:
    code = x[:, 0]
    return {"grade": _grade_outputs(code, AIS_LABELS), "ordinal": code + 1.0}


ASIA = Instrument(
    code="asia",
    title_en="ASIA Impairment Scale (AIS) grade",
    title_nl="ASIA Impairment Scale (AIS)-graad",
    source="ISNCSCI (ASIA/ISCoS), revised 2019 worksheet",
    items=(
        Item(
            "grade",
            "AIS grade",
            "AIS-graad",
            tuple(Option(g, f"{g}: {en}", f"{g}: {nl}") for g, en, nl in AIS_GRADES),
        ),
    ),
    scales=(
        Scale("grade", "AIS grade A-E", categorical=True),
        Scale("ordinal", "A=1 ... E=5 (higher is better)", ("grade",), "functional", 1.0, 5.0),
    ),
    missing_rule="Missing (or not determinable) when not recorded.",
    scorer=score_asia,
)

YES_NO = (Option("yes", "Yes", "Ja"), Option("no", "No", "Nee"))
WORKSHEET_ITEMS = (
    (
        "all_normal",
        "Sensation and motor function normal in all segments (with prior deficits)",
        "Sensibiliteit en motoriek normaal in alle segmenten (na eerdere uitval)",
    ),
    ("vac", "Voluntary anal contraction (VAC)", "Willekeurige anale contractie (VAC)"),
    ("dap", "Deep anal pressure (DAP)", "Diepe anale druk (DAP)"),
    (
        "s45_sensory",
        "Any light touch or pin prick sensation at S4-5",
        "Enige aanraking- of pijnzin op S4-5",
    ),
    (
        "motor_below_3_levels",
        "Motor function more than three levels below the motor level on either side",
        "Motoriek meer dan drie niveaus onder het motorisch niveau aan een zijde",
    ),
)


def score_asia_worksheet(x: np.ndarray, options: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """AIS from the ISNCSCI worksheet facts (classification steps, reference §7)."""
    yes = {key: x[:, j] == 0 for j, (key, _, _) in enumerate(WORKSHEET_ITEMS)}
    known = {key: ~np.isnan(x[:, j]) for j, (key, _, _) in enumerate(WORKSHEET_ITEMS)}
    total, strong = x[:, 5], x[:, 6]
    too_many = strong > total
    if too_many.any():
        row = int(np.argmax(too_many))
        raise InstrumentError(
            f"asia-worksheet: item 'key_muscles_grade3_below_nli' (row {row}): expected at most "
            f"key_muscles_below_nli ({total[row]:g}); received {strong[row]:g}"
        )
    sensory = yes["s45_sensory"] | yes["dap"]
    motor_incomplete = yes["vac"] | (sensory & yes["motor_below_3_levels"])
    with np.errstate(invalid="ignore", divide="ignore"):
        half_strong = strong / total >= 0.5
    grade = np.select(
        [yes["all_normal"], ~yes["vac"] & ~sensory, ~motor_incomplete, half_strong],
        [4.0, 0.0, 1.0, 3.0],
        default=2.0,
    )
    enough = known["all_normal"] & (
        yes["all_normal"]
        | (
            known["vac"]
            & known["dap"]
            & known["s45_sensory"]
            & (~sensory | yes["vac"] | known["motor_below_3_levels"])
        )
    )
    needs_count = ~yes["all_normal"] & motor_incomplete
    enough &= ~needs_count | (~np.isnan(total) & ~np.isnan(strong) & (total > 0))
    grade = np.where(enough, grade, np.nan)
    return {"grade": _grade_outputs(grade, AIS_LABELS), "ordinal": grade + 1.0}


ASIA_WORKSHEET = Instrument(
    code="asia-worksheet",
    title_en="ASIA Impairment Scale classified from ISNCSCI worksheet findings",
    title_nl="ASIA Impairment Scale, bepaald uit de ISNCSCI-bevindingen",
    source="ISNCSCI worksheet classification steps (ASIA/ISCoS 2019)",
    items=tuple(Item(key, en, nl, YES_NO) for key, en, nl in WORKSHEET_ITEMS)
    + (
        Item(
            "key_muscles_below_nli",
            "Number of key muscle functions below the NLI (both sides)",
            "Aantal sleutelspierfuncties onder het NLI (beide zijden)",
            kind="number",
            minimum=0,
            maximum=50,
            integer=True,
        ),
        Item(
            "key_muscles_grade3_below_nli",
            "Of those, number with muscle grade >= 3",
            "Waarvan met spierkracht >= 3",
            kind="number",
            minimum=0,
            maximum=50,
            integer=True,
        ),
    ),
    scales=(
        Scale("grade", "AIS grade A-E", categorical=True),
        Scale("ordinal", "A=1 ... E=5", (), "functional", 1.0, 5.0),
    ),
    missing_rule="None when a fact needed on the path to the grade is missing, or when a motor "
    "incomplete patient has no key muscle below the NLI (C/D not determinable).",
    scorer=score_asia_worksheet,
)

# --- Karnofsky and ECOG / WHO performance status ------------------------------------
KPS_LEVELS = (
    (
        100,
        "Normal; no complaints; no evidence of disease",
        "Normaal; geen klachten; geen aanwijzingen voor ziekte",
    ),
    (
        90,
        "Able to carry on normal activity; minor signs or symptoms of disease",
        "In staat tot normale activiteit; geringe verschijnselen van ziekte",
    ),
    (
        80,
        "Normal activity with effort; some signs or symptoms of disease",
        "Normale activiteit met inspanning; enige verschijnselen van ziekte",
    ),
    (
        70,
        "Cares for self; unable to carry on normal activity or to do active work",
        "Verzorgt zichzelf; niet in staat tot normale activiteit of actief werk",
    ),
    (
        60,
        "Requires occasional assistance, but is able to care for most of his personal needs",
        "Heeft af en toe hulp nodig, maar kan grotendeels voor zichzelf zorgen",
    ),
    (
        50,
        "Requires considerable assistance and frequent medical care",
        "Heeft veel hulp en frequent medische zorg nodig",
    ),
    (
        40,
        "Disabled; requires special care and assistance",
        "Invalide; heeft speciale zorg en hulp nodig",
    ),
    (
        30,
        "Severely disabled; hospital admission is indicated although death not imminent",
        "Ernstig invalide; ziekenhuisopname geïndiceerd, hoewel overlijden niet dreigt",
    ),
    (
        20,
        "Very sick; hospital admission necessary; active supportive treatment necessary",
        "Zeer ziek; ziekenhuisopname en actieve ondersteunende behandeling nodig",
    ),
    (
        10,
        "Moribund; fatal processes progressing rapidly",
        "Moribund; snel progressieve fatale processen",
    ),
    (0, "Dead", "Overleden"),
)
# KPS -> ECOG under the two circulating conventions (reference §9), indexed by KPS // 10.
KPS_TO_ECOG = {
    "A": np.array([5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0], dtype=float),
    "B": np.array([5, 4, 4, 4, 3, 3, 2, 2, 1, 1, 0], dtype=float),
}


def score_kps(x: np.ndarray, options: Mapping[str, Any]) -> dict[str, np.ndarray]:
    kps = x[:, 0].astype(float)
    convention = options["ecog_convention"]
    # The score keys stay fixed: ecog is None unless a conversion convention is chosen.
    ecog = np.full(len(kps), np.nan)
    if convention is not None:
        ecog = table_lookup(KPS_TO_ECOG[convention], kps / 10.0)
    return {"kps": kps, "ecog": ecog}


KPS = Instrument(
    code="kps",
    title_en="Karnofsky Performance Status",
    title_nl="Karnofsky Performance Status",
    source="Karnofsky & Burchenal 1949; LOINC answer list LL4986-7",
    items=(
        Item(
            "kps",
            "Karnofsky Performance Status",
            "Karnofsky-score",
            tuple(Option(v, f"{v}: {en}", f"{v}: {nl}") for v, en, nl in KPS_LEVELS),
        ),
    ),
    scales=(
        Scale("kps", "KPS 0-100 (higher is better)", ("kps",), "functional", 0.0, 100.0),
        Scale(
            "ecog",
            "ECOG derived with option ecog_convention (A or B)",
            ("kps",),
            "symptom",
            0.0,
            5.0,
        ),
    ),
    missing_rule="Missing when not recorded.",
    options=(
        OptionSpec(
            "ecog_convention",
            None,
            (None, "A", "B"),
            "also derive ECOG: convention A (90-100 -> 0, 70-80 -> 1, ...) or B "
            "(100 -> 0, 80-90 -> 1, ...); no standard exists",
        ),
    ),
    scorer=score_kps,
)

ECOG_LEVELS = (
    (
        0,
        "Fully active, able to carry on all pre-disease performance without restriction",
        "Volledig actief, kan alle activiteiten van voor de ziekte zonder beperking uitvoeren",
    ),
    (
        1,
        "Restricted in physically strenuous activity but ambulatory and able to carry out work "
        "of a light or sedentary nature, e.g., light house work, office work",
        "Beperkt bij zware lichamelijke inspanning, maar ambulant en in staat tot licht of "
        "zittend werk, zoals licht huishoudelijk werk of kantoorwerk",
    ),
    (
        2,
        "Ambulatory and capable of all selfcare but unable to carry out any work activities; "
        "up and about more than 50% of waking hours",
        "Ambulant en volledig zelfverzorgend, maar niet in staat tot werken; meer dan 50% van "
        "de wakkere uren uit bed",
    ),
    (
        3,
        "Capable of only limited selfcare; confined to bed or chair more than 50% of waking hours",
        "Slechts beperkt zelfverzorgend; meer dan 50% van de wakkere uren in bed of stoel",
    ),
    (
        4,
        "Completely disabled; cannot carry on any selfcare; totally confined to bed or chair",
        "Volledig invalide; geen zelfverzorging; volledig aan bed of stoel gebonden",
    ),
    (5, "Dead", "Overleden"),
)

ECOG = Instrument(
    code="ecog",
    title_en="ECOG / WHO performance status",
    title_nl="ECOG/WHO-performancestatus",
    source="Oken MM et al. Am J Clin Oncol 1982;5:649-655; LOINC answer list LL529-9. The WHO "
    "(Zubrod) status uses the same grades 0-5.",
    items=(
        Item(
            "ecog",
            "ECOG / WHO performance status",
            "ECOG/WHO-performancestatus",
            tuple(Option(v, f"{v}: {en}", f"{v}: {nl}") for v, en, nl in ECOG_LEVELS),
        ),
    ),
    scales=(Scale("ecog", "ECOG 0-5 (higher is worse)", ("ecog",), "symptom", 0.0, 5.0),),
    missing_rule="Missing when not recorded.",
    scorer=lambda x, _options: {"ecog": x[:, 0].copy()},
)

INSTRUMENTS = (SINS, BILSKY, ASIA, ASIA_WORKSHEET, KPS, ECOG)
