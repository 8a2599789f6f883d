"""Opioid use -> OMED, the oral morphine equivalent dose in mg/day.

Answers: ``{"medications": [{"drug": "oxycodone", "route": "oral", "dose": 40,
"unit": "mg/day"}, ...]}``; OMED = sum(dose x factor). The factors are data
(``data/opioid_conversion.csv``), not code. Option ``table``: ``nl-2019`` (default,
Dutch guideline *Pijn bij patienten met kanker* 3.0, 2019), ``cdc-2022`` (CDC MME), or
the path of a CSV file with the same columns, so the SAP's table can be versioned and
used without editing code.

Never a silent wrong number: an unknown drug/route, a unit that differs from the
table's, or a drug without an automatic factor (methadone in the Dutch table) is an
``InstrumentError``. A medication whose dose is missing makes OMED missing (None). An
empty list means no opioids: OMED 0. OMED is rounded to 4 decimals (mg/day) to drop
floating-point noise such as 25 x 2.4 = 60.00000000000001.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blend.instruments.errors import InstrumentError, describe
from blend.instruments.model import Instrument, Item, Option, OptionSpec, Scale, ScoreValue

if TYPE_CHECKING:
    import pandas as pd

CODE = "omed"
DATA = Path(__file__).parent / "data" / "opioid_conversion.csv"
DEFAULT_TABLE = "nl-2019"
MED_KEYS = ("drug", "route", "dose", "unit")
UNIT_ALIASES = {
    "µg/h": "ug/h",
    "mcg/h": "ug/h",
    "μg/h": "ug/h",
    "mg/24h": "mg/day",
    "mg/d": "mg/day",
}


@dataclass(frozen=True)
class Conversion:
    drug: str
    route: str
    unit: str
    factor: float | None  # None: no automatic conversion
    source: str
    note: str


def _read_csv(path: Path) -> dict[str, dict[tuple[str, str], Conversion]]:
    tables: dict[str, dict[tuple[str, str], Conversion]] = {}
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                factor = float(row["factor"]) if row["factor"].strip() else None
                conversion = Conversion(
                    row["drug"].strip().lower(),
                    row["route"].strip().lower(),
                    row["unit"].strip(),
                    factor,
                    row["source"],
                    row["note"],
                )
                tables.setdefault(row["table"], {})[(conversion.drug, conversion.route)] = (
                    conversion
                )
    except (OSError, KeyError, ValueError) as exc:
        raise InstrumentError(
            f"omed: option 'table': expected a readable CSV with columns table, drug, route, "
            f"unit, factor, source, note; received {str(path)!r} ({exc})"
        ) from exc
    return tables


@cache
def _shipped() -> dict[str, dict[tuple[str, str], Conversion]]:
    return _read_csv(DATA)


def conversion_table(table: str = DEFAULT_TABLE) -> dict[tuple[str, str], Conversion]:
    """The conversions of a shipped table name, or of every row in a CSV file path."""
    if table in _shipped():
        return _shipped()[table]
    path = Path(table)
    if not path.is_file():
        raise InstrumentError(
            f"omed: option 'table': expected one of {', '.join(_shipped())} or a CSV file "
            f"path; received {table!r}"
        )
    rows = [c for tables in _read_csv(path).values() for c in tables.values()]
    return {(c.drug, c.route): c for c in rows}


def _field(where: str, name: str, value: Any, expected: str) -> InstrumentError:
    return InstrumentError(
        f"omed: {where} {name!r}: expected {expected}; received {describe(value)}"
    )


def _text(where: str, med: Mapping[str, Any], name: str) -> str:
    value = med.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _field(where, name, value, "a non-empty string")
    return value.strip().lower() if name != "unit" else value.strip()


def _dose(where: str, value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise _field(where, "dose", value, "a number >= 0, or null")
    return float(value)


def medication_omed(
    index: int, med: Any, table: Mapping[tuple[str, str], Conversion]
) -> float | None:
    """OMED (mg/day) of one medication entry; None when its dose is missing."""
    where = f"medications[{index}]"
    if not isinstance(med, Mapping):
        raise _field("", where, med, "an object with drug, route, dose, unit")
    unknown = [k for k in med if k not in MED_KEYS]
    if unknown:
        raise _field(where, unknown[0], med[unknown[0]], "no such field (drug, route, dose, unit)")
    drug, route = _text(where, med, "drug"), _text(where, med, "route")
    unit = _text(where, med, "unit")
    unit = UNIT_ALIASES.get(unit, unit)
    conversion = table.get((drug, route))
    if conversion is None:
        known = ", ".join(f"{d} {r}" for d, r in table)
        raise _field(where, "drug/route", f"{drug} {route}", f"one of: {known}")
    if conversion.factor is None:
        raise _field(
            where, "drug", drug, f"a drug with an automatic conversion factor ({conversion.note})"
        )
    if unit != conversion.unit:
        raise _field(where, "unit", unit, f"{conversion.unit!r} for {drug} {route}")
    dose = _dose(where, med.get("dose"))
    return None if dose is None else dose * conversion.factor


def omed(answers: Any, table: Mapping[tuple[str, str], Conversion]) -> float | None:
    if not isinstance(answers, Mapping):
        raise _field("answers", "", answers, 'an object {"medications": [...]}')
    unknown = [k for k in answers if k != "medications"]
    if unknown:
        raise _field("unknown item", unknown[0], answers[unknown[0]], "only 'medications'")
    meds = answers.get("medications")
    if meds is None:
        return None
    if not isinstance(meds, list | tuple):
        raise _field("item", "medications", meds, "a list of medication objects")
    doses = [medication_omed(i, med, table) for i, med in enumerate(meds)]
    if any(d is None for d in doses):
        return None
    return round(sum(doses), 4)  # type: ignore[arg-type]


def score_one(answers: Any, options: Mapping[str, Any]) -> dict[str, ScoreValue]:
    return {"omed": omed(answers, conversion_table(options["table"]))}


def score_frame(df: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
    """One row per patient-time with a ``medications`` column holding lists."""
    import pandas as pd

    unknown = [c for c in df.columns if c != "medications"]
    if unknown:
        raise InstrumentError(f"omed: unknown column {unknown[0]!r}; expected 'medications'")
    table = conversion_table(options["table"])
    values = [
        omed({"medications": meds}, table) for meds in df.get("medications", [None] * len(df))
    ]
    return pd.DataFrame({"omed": pd.array(values, dtype="Float64").astype(float)}, index=df.index)


def _drug_options() -> tuple[Option, ...]:
    drugs = sorted({drug for drug, _ in _shipped()[DEFAULT_TABLE]})
    return tuple(Option(d, d, d) for d in drugs)


OMED = Instrument(
    code=CODE,
    title_en="Opioid use: oral morphine equivalent daily dose (OMED)",
    title_nl="Opioïdgebruik: orale morfine-equivalente dagdosis (OMED)",
    source="Landelijke richtlijn Pijn bij patiënten met kanker 3.0 (2019); CDC MME factors",
    items=(
        Item("drug", "Opioid", "Opioïd", _drug_options()),
        Item(
            "route",
            "Route",
            "Toedieningsweg",
            (Option("oral", "oral", "oraal"), Option("transdermal", "transdermal", "transdermaal")),
        ),
        Item("dose", "Dose", "Dosis", kind="number", minimum=0.0, maximum=math.inf),
        Item(
            "unit",
            "Unit",
            "Eenheid",
            (Option("mg/day", "mg/day", "mg/dag"), Option("ug/h", "µg/h", "µg/uur")),
        ),
    ),
    scales=(Scale("omed", "Oral morphine equivalent dose, mg/day", (), "other", 0.0, None),),
    missing_rule="An empty list is 0 mg/day; a missing list or any missing dose gives None.",
    options=(
        OptionSpec(
            "table",
            DEFAULT_TABLE,
            None,
            "conversion table: 'nl-2019', 'cdc-2022' or a CSV file path",
        ),
    ),
    scorer=None,
)

INSTRUMENTS = (OMED,)
