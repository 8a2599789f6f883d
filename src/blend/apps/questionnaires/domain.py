"""The questionnaire as pages of fields, in one language, and the parsing, checking and
scoring of answers. Plain Python (no Django): the patient form and the staff entry form
both render these pages, and tests check the rules without a database.

One page per instrument of the timepoint. Item wording comes from ``blend.instruments``
(``text_nl``/``text_en``) and, for the cost questionnaire, from ``schedule.toml``.
Answers are stored per instrument: ``{"qlq-c15-pal": {"q1": 2, ...}, "omed": {...}}``.

A patient sees each page in short *steps* (``split_steps``: at most
``MAX_STEP_QUESTIONS`` questions, a header such as "During the past week:" kept with
the questions it introduces), under a plain-language title (``PATIENT_TITLES``)
instead of the instrument's name, with instructions written for a screen.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from blend.instruments import PLACEHOLDER_PREFIX, InstrumentError, get_instrument, score
from blend.instruments.opioids import conversion_table
from blend.protocol.schedule import COST_CODE, CostQuestionnaire

OPIOID_ROWS = 3
NO_OPIOIDS = {
    "en": "I do not use strong painkillers (opioids)",
    "nl": "Ik gebruik geen sterke pijnstillers (opioïden)",
}
YES_OPIOIDS = {
    "en": "I use strong painkillers (opioids)",
    "nl": "Ik gebruik sterke pijnstillers (opioïden)",
}
YES_NO = {"en": (("yes", "Yes"), ("no", "No")), "nl": (("yes", "Ja"), ("no", "Nee"))}
UNIT_LABEL = {
    "mg/day": {"en": "mg per day", "nl": "mg per dag"},
    "ug/h": {"en": "micrograms per hour (patch)", "nl": "microgram per uur (pleister)"},
}
#: Dutch spelling of the opioids in the conversion table (the table keys are English).
DRUG_NAMES_NL = {
    "morphine": "morfine",
    "oxycodone": "oxycodon",
    "hydromorphone": "hydromorfon",
    "fentanyl": "fentanyl",
    "buprenorphine": "buprenorfine",
    "tapentadol": "tapentadol",
    "tramadol": "tramadol",
    "methadone": "methadon",
    "codeine": "codeïne",
    "hydrocodone": "hydrocodon",
    "oxymorphone": "oxymorfon",
}
#: What a patient page is called: what it asks about, not the instrument's name.
PATIENT_TITLES = {
    "qlq-c15-pal": {"en": "How you have been feeling", "nl": "Hoe het met u gaat"},
    "qlq-c30": {"en": "How you have been feeling", "nl": "Hoe het met u gaat"},
    "pain-nrs": {"en": "Worst pain at the treated site", "nl": "Ergste pijn op de behandelde plek"},
    "bpi-sf": {"en": "Your pain and daily life", "nl": "Uw pijn en uw dagelijks leven"},
    "eq5d5l-nl": {"en": "Your health today", "nl": "Uw gezondheid vandaag"},
}
#: Instructions for answering on a screen. The paper forms say "circle the number";
#: replacing that with "tap" is the standard minor change when a questionnaire moves
#: to a screen, and the licensed wording is kept for everything else.
SCREEN_INSTRUCTIONS = {
    "en": "Tap the answer that fits you best. There are no right or wrong answers. "
    "You may skip a question.",
    "nl": "Tik op het antwoord dat het best bij u past. Er zijn geen goede of foute "
    "antwoorden. U mag een vraag overslaan.",
}
#: Headers of the paper forms that ask to circle, and their screen wording.
SCREEN_HEADERS = {
    "For the following question please circle the number between 1 and 7 that best "
    "applies to you": {
        "en": "For the next question, tap the number from 1 to 7 that fits you best",
        "nl": "Tik bij de volgende vraag op het getal van 1 tot en met 7 dat het best bij u past",
    },
}
MAX_STEP_QUESTIONS = 5


@dataclass(frozen=True)
class Field:
    key: str
    text: str
    kind: str  # "choice" or "number"
    options: tuple[tuple[str, str], ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = True
    header: str = ""
    scale: bool = False  # a 0-10 or 1-7 rating: rendered as a row of buttons
    placeholder: bool = False  # Dutch wording not yet the licensed translation
    menu: bool = False  # a long list of choices: one drop-down instead of a column of buttons


@dataclass(frozen=True)
class Page:
    """One instrument's questions; or one step of them (``part`` of ``parts``)."""

    code: str
    title: str
    instructions: str
    fields: tuple[Field, ...] = field(default_factory=tuple)
    part: int = 1
    parts: int = 1

    @property
    def placeholder(self) -> bool:
        return any(f.placeholder for f in self.fields)

    @property
    def groups(self) -> list[tuple[str, tuple[Field, ...]]]:
        """The fields in runs that share a header, so each header is shown once, with
        the questions it introduces (the paper form prints it once above them)."""
        runs: list[tuple[str, list[Field]]] = []
        for fld in self.fields:
            if runs and runs[-1][0] == fld.header:
                runs[-1][1].append(fld)
            else:
                runs.append((fld.header, [fld]))
        return [(header, tuple(fields)) for header, fields in runs]


def _even_chunks(fields: tuple[Field, ...], size: int) -> list[tuple[Field, ...]]:
    """``fields`` cut into the fewest chunks of at most ``size``, as even as possible
    (11 questions become 4 + 4 + 3, not 5 + 5 + 1)."""
    count = max(1, math.ceil(len(fields) / size))
    base, extra = divmod(len(fields), count)
    chunks, start = [], 0
    for i in range(count):
        end = start + base + (1 if i < extra else 0)
        chunks.append(fields[start:end])
        start = end
    return chunks


def split_steps(page: Page, size: int = MAX_STEP_QUESTIONS) -> list[Page]:
    """The steps a patient sees for ``page``: at most ``size`` questions each. A header
    run is cut evenly, and short neighbouring chunks share a step. The painkiller page
    stays whole: its rows only make sense together."""
    if page.code == "omed" or len(page.fields) <= size:
        return [page]
    chunks: list[tuple[Field, ...]] = []
    for _header, run in page.groups:
        for chunk in _even_chunks(run, size):
            if chunks and len(chunks[-1]) + len(chunk) <= size:
                chunks[-1] = chunks[-1] + chunk
            else:
                chunks.append(chunk)
    return [
        Page(page.code, page.title, page.instructions, chunk, part=i, parts=len(chunks))
        for i, chunk in enumerate(chunks, start=1)
    ]


def _clean(text: str) -> str:
    """Drop the placeholder marker: the page says once that the wording is provisional."""
    return text.removeprefix(PLACEHOLDER_PREFIX).strip()


def _label(option: Any, language: str) -> str:
    return _clean(option.label_nl) if language == "nl" else option.label_en


def _screen_header(item: Any, language: str) -> str:
    """The item's header, with a paper-only instruction ("circle the number") reworded
    for a screen; a licensed translation's header is kept unless it still carries the
    English paper wording."""
    screen = SCREEN_HEADERS.get(item.header_en)
    if language != "nl":
        return screen["en"] if screen else item.header_en
    if screen and (item.placeholder or item.header_nl.startswith(PLACEHOLDER_PREFIX)):
        return screen["nl"]
    return _clean(item.header_nl)


def patient_title(code: str, fallback: str, language: str) -> str:
    titles = PATIENT_TITLES.get(code)
    return titles["nl" if language == "nl" else "en"] if titles else fallback


def instrument_page(code: str, language: str) -> Page:
    instrument = get_instrument(code)
    nl = language == "nl"
    fields = []
    for item in instrument.items:
        options = tuple((str(o.value), _label(o, language)) for o in item.options)
        fields.append(
            Field(
                key=item.key,
                text=_clean(item.text_nl) if nl else item.text_en,
                kind="choice" if item.kind == "choice" else "number",
                options=options,
                minimum=item.minimum,
                maximum=item.maximum,
                integer=item.integer or item.kind == "choice",
                header=_screen_header(item, language),
                scale=len(options) > 5,
                placeholder=nl and item.placeholder,
            )
        )
    title = _clean(instrument.title_nl) if nl else instrument.title_en
    return Page(
        code, patient_title(code, title, language), _instructions(instrument, nl), tuple(fields)
    )


def _instructions(instrument: Any, nl: bool) -> str:
    """The licensed forms' paper instructions ("circle the number") give way to the
    screen wording, unless an installed translation brought its own screen version
    (``install-translation`` refuses one that still says to circle)."""
    if not instrument.licensed:
        return _clean(instrument.instructions_nl) if nl else instrument.instructions_en
    installed = instrument.instructions_nl
    if nl and installed and not installed.startswith(PLACEHOLDER_PREFIX):
        return str(installed)
    return SCREEN_INSTRUCTIONS["nl" if nl else "en"]


def drug_name(drug: str, language: str) -> str:
    return DRUG_NAMES_NL.get(drug, drug) if language == "nl" else drug


def opioid_choices(language: str) -> tuple[tuple[str, str], ...]:
    rows = sorted(
        (c for c in conversion_table().values() if c.factor is not None),
        key=lambda c: (drug_name(c.drug, language), c.route),
    )
    return tuple(
        (
            f"{c.drug}|{c.route}",
            f"{drug_name(c.drug, language)} ({UNIT_LABEL.get(c.unit, {}).get(language, c.unit)})",
        )
        for c in rows
    )


def opioid_page(language: str) -> Page:
    nl = language == "nl"
    fields = [
        Field(
            "any",
            "Gebruikt u op dit moment sterke pijnstillers (opioïden)?"
            if nl
            else "Do you currently use strong painkillers (opioids)?",
            "choice",
            (
                ("no", NO_OPIOIDS[language if nl else "en"]),
                ("yes", YES_OPIOIDS[language if nl else "en"]),
            ),
        )
    ]
    for row in range(1, OPIOID_ROWS + 1):
        fields.append(
            Field(
                f"drug_{row}",
                (f"Pijnstiller {row}" if nl else f"Painkiller {row}"),
                "choice",
                opioid_choices(language),
                menu=True,
            )
        )
        fields.append(
            Field(
                f"dose_{row}",
                "Hoeveel per dag (of per uur bij een pleister)?"
                if nl
                else "How much per day (or per hour for a patch)?",
                "number",
                minimum=0,
                maximum=10000,
                integer=False,
            )
        )
    return Page(
        "omed",
        "Pijnstillers" if nl else "Painkillers",
        "Vul alleen sterke pijnstillers in, zoals morfine, oxycodon of een fentanylpleister. Kijk op de verpakking."
        if nl
        else "Only strong painkillers, such as morphine, oxycodone or a fentanyl patch. Check the package.",
        tuple(fields),
    )


def cost_page(cost: CostQuestionnaire, language: str) -> Page:
    nl = language == "nl"
    fields = tuple(
        Field(
            i.key,
            i.text_nl if nl else i.text_en,
            "choice" if i.kind == "yesno" else "number",
            YES_NO["nl" if nl else "en"] if i.kind == "yesno" else (),
            0,
            i.maximum,
        )
        for i in cost.items
    )
    return Page(
        COST_CODE,
        cost.title_nl if nl else cost.title_en,
        cost.period_nl if nl else cost.period_en,
        fields,
    )


def build_pages(instruments: Sequence[str], language: str, cost: CostQuestionnaire) -> list[Page]:
    builders = {"omed": lambda: opioid_page(language), COST_CODE: lambda: cost_page(cost, language)}
    return [
        builders[code]() if code in builders else instrument_page(code, language)
        for code in instruments
    ]


def _parse(fld: Field, raw: str, language: str) -> tuple[Any, str]:
    """(value, error). Blank is a valid 'not answered'."""
    nl = language == "nl"
    raw = raw.strip().replace(",", ".") if fld.kind == "number" else raw.strip()
    if raw == "":
        return None, ""
    if fld.kind == "choice":
        if raw not in {v for v, _ in fld.options}:
            return None, ("Kies een van de antwoorden." if nl else "Choose one of the answers.")
        return (int(raw) if raw.lstrip("-").isdigit() else raw), ""
    try:
        number = float(raw)
    except ValueError:
        return None, (
            f"Vul een getal in (u vulde '{raw}' in)."
            if nl
            else f"Enter a number (you entered '{raw}')."
        )
    if not math.isfinite(number) or (fld.integer and number != int(number)):
        return None, ("Vul een heel getal in." if nl else "Enter a whole number.")
    low, high = fld.minimum, fld.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        return None, (
            f"Vul een getal van {low:g} tot en met {high:g} in."
            if nl
            else f"Enter a number from {low:g} to {high:g}."
        )
    return (int(number) if fld.integer else number), ""


def parse_page(
    page: Page, data: Mapping[str, str], language: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """Answers and errors for the fields of one page present in ``data`` (a POST)."""
    values, errors = {}, {}
    for fld in page.fields:
        if fld.key not in data:
            continue
        value, error = _parse(fld, data[fld.key], language)
        if error:
            errors[fld.key] = error
        else:
            values[fld.key] = value
    if page.code == "omed":
        errors = {**_opioid_errors(values, language), **errors}
    return values, errors


#: What a half-filled painkiller row needs, in words that match the page: the medicine
#: is a drop-down with an empty choice ("—"), the amount a text box.
OPIOID_ROW_ERRORS = {
    "dose": {
        "en": "Enter how much you use, or choose “—” as the painkiller if you do not use it.",
        "nl": "Vul in hoeveel u gebruikt, of kies “—” als pijnstiller als u deze niet gebruikt.",
    },
    "drug": {
        "en": "Choose the painkiller, or empty the amount if you filled it in by mistake.",
        "nl": "Kies de pijnstiller, of maak de hoeveelheid leeg als u die per ongeluk invulde.",
    },
}


def _opioid_errors(values: Mapping[str, Any], language: str) -> dict[str, str]:
    """A painkiller row needs both the medicine and the dose."""
    errors = {}
    lang = "nl" if language == "nl" else "en"
    for row in range(1, OPIOID_ROWS + 1):
        drug, dose = values.get(f"drug_{row}"), values.get(f"dose_{row}")
        if drug is not None and dose is None:
            errors[f"dose_{row}"] = OPIOID_ROW_ERRORS["dose"][lang]
        elif drug is None and dose is not None:
            errors[f"drug_{row}"] = OPIOID_ROW_ERRORS["drug"][lang]
    return errors


def medications(answers: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The OMED input from the painkiller page; None when the question was not answered."""
    if answers.get("any") is None:
        return None
    if answers["any"] == "no":
        return []
    meds = []
    table = conversion_table()
    for row in range(1, OPIOID_ROWS + 1):
        choice, dose = answers.get(f"drug_{row}"), answers.get(f"dose_{row}")
        if choice is None or dose is None:
            continue
        drug, route = str(choice).split("|")
        meds.append({"drug": drug, "route": route, "dose": dose, "unit": table[(drug, route)].unit})
    return meds or None  # "yes" without a medicine: OMED unknown, not 0


def score_all(
    answers: Mapping[str, Mapping[str, Any]], instruments: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Scores per instrument with blend.instruments (the cost questionnaire is stored raw)."""
    scores: dict[str, dict[str, Any]] = {}
    for code in instruments:
        given = answers.get(code, {})
        if code == COST_CODE:
            continue
        if code == "omed":
            meds = medications(given)
            scores[code] = {"omed": None} if meds is None else score("omed", {"medications": meds})
        else:
            scores[code] = score(code, {k: v for k, v in given.items() if v is not None})
    return scores


def unanswered(pages: Sequence[Page], answers: Mapping[str, Mapping[str, Any]]) -> int:
    """Questions left blank (the optional painkiller rows do not count)."""
    count = 0
    for page in pages:
        given = answers.get(page.code, {})
        keys = ["any"] if page.code == "omed" else [f.key for f in page.fields]
        count += sum(1 for k in keys if given.get(k) is None)
    return count


def any_answer(answers: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether at least one question has an answer (a blank page saves ``None``s)."""
    return any(v is not None for values in answers.values() for v in values.values())


def answered(pages: Sequence[Page], answers: Mapping[str, Mapping[str, Any]]) -> tuple[int, int]:
    total = sum(1 if p.code == "omed" else len(p.fields) for p in pages)
    return total - unanswered(pages, answers), total


__all__ = [
    "Field",
    "InstrumentError",
    "Page",
    "build_pages",
    "parse_page",
    "score_all",
    "split_steps",
]
