"""The full export: SPSS/Stata labels, ODM round trip, REDCap dictionary, permissions."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from pathlib import Path

import pyreadstat
import pytest

from blend.apps.exports.formats import REDCAP_COLUMNS, safe_cell
from blend.apps.exports.models import ExportLog
from blend.apps.exports.services import export_full
from blend.apps.exports.tables import export_tables

ODM = "{http://www.cdisc.org/ns/odm/v1.3}"


@pytest.fixture
def full(trial_cohort, tmp_path: Path, personas) -> Path:  # type: ignore[no-untyped-def]
    export_full(tmp_path, user=personas["datamanager_dirk"], via="web")
    return tmp_path


def test_spss_and_stata_read_back_with_labels(full: Path) -> None:
    for suffix, reader in ((".sav", pyreadstat.read_sav), (".dta", pyreadstat.read_dta)):
        frame, meta = reader(str(full / f"allocation_allocation{suffix}"))
        assert meta.variable_value_labels["arm"] == {
            1: "intervention (same-day SBRT and surgery)",
            2: "control (standard care)",
        }
        assert meta.column_names_to_labels["arm"] == "arm"
        frame, meta = reader(str(full / f"registry_participant{suffix}"), apply_value_formats=True)
        assert set(frame["sex"]) == {"female"}
        assert meta.variable_value_labels["primary_tumour"][1] == "breast"
        frame, meta = reader(str(full / f"safety_adverseevent{suffix}"))
        assert meta.variable_value_labels["serious"] == {0: "no", 1: "yes"}
        assert sorted(frame["serious"].tolist()) == [0.0, 0.0, 0.0, 1.0]
        assert str(frame["onset_date"].iloc[0])[:10] in {"2025-03-24"}


def _parse_odm(path: Path) -> dict[str, dict[str, list[dict[str, str]]]]:
    """form name -> subject -> rows (item name -> value), from the ClinicalData."""
    tree = ET.parse(path)
    out: dict[str, dict[str, list[dict[str, str]]]] = {}
    for subject in tree.iter(f"{ODM}SubjectData"):
        for form in subject.iter(f"{ODM}FormData"):
            table = form.get("FormOID")[2:]
            row = {
                item.get("ItemOID").split(".", 2)[2]: item.get("Value")
                for item in form.iter(f"{ODM}ItemData")
            }
            out.setdefault(table, {}).setdefault(subject.get("SubjectKey"), []).append(row)
    return out


def test_odm_parsed_back_equals_the_database(full: Path) -> None:
    parsed = _parse_odm(full / "blend_odm.xml")
    tables = export_tables()
    compared = 0
    for table in tables:
        expected: dict[str, list[dict[str, str]]] = {}
        subject_at = [c.name for c in table.columns].index("study_id")
        for row in table.rows():
            values = {
                c.name: safe_cell(c, v)
                for c, v in zip(table.columns, row, strict=True)
                if v is not None
            }
            expected.setdefault(row[subject_at], []).append(values)
        assert parsed.get(table.name, {}) == expected, table.name
        compared += sum(len(rows) for rows in expected.values())
    assert compared > 50
    root = ET.parse(full / "blend_odm.xml").getroot()
    assert root.get("ODMVersion") == "1.3.2"
    item_defs = {i.get("OID") for i in root.iter(f"{ODM}ItemDef")}
    assert "IT.allocation_allocation.arm" in item_defs
    codes = {c.get("CodedValue") for c in root.iter(f"{ODM}CodeListItem")}
    assert {"intervention", "control", "wound_infection"} <= codes


def test_the_redcap_dictionary(full: Path) -> None:
    with (full / "data_dictionary_redcap.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
        assert list(rows[0]) == REDCAP_COLUMNS
    by_name = {(r["Form Name"], r["Field Label"]): r for r in rows}
    arm = next(
        r for r in rows if r["Form Name"] == "allocation_allocation" and r["Field Label"] == "arm"
    )
    assert arm["Field Type"] == "dropdown" and arm["Choices, Calculations, OR Slider Labels"] == (
        "intervention, intervention (same-day SBRT and surgery) | control, control (standard care)"
    )
    assert by_name[("safety_adverseevent", "serious (SAE)")]["Field Type"] == "yesno"
    assert (
        by_name[("safety_adverseevent", "onset date")]["Text Validation Type OR Show Slider Number"]
        == "date_ymd"
    )
    assert len({r["Variable / Field Name"] for r in rows}) == len(rows)


def test_the_full_export_is_logged(full: Path, personas) -> None:
    entry = ExportLog.objects.get()
    assert (entry.user, entry.kind, entry.via) == (personas["datamanager_dirk"], "full", "web")
    assert entry.rows["allocation_allocation"] == 4 and "blend_odm.xml" in entry.files


def test_export_pages_follow_the_permission_matrix(trial_cohort, client_for) -> None:
    for persona, status in (
        ("statistician_stan", 200),
        ("datamanager_dirk", 200),
        ("nurse_nina", 403),
        ("investigator_ivo", 403),
        ("monitor_mo", 403),
        ("admin_ada", 403),
    ):
        assert client_for(persona).get("/exports/").status_code == status, persona
    response = client_for("statistician_stan").post("/exports/analysis/download/")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert ExportLog.objects.get().user.username == "statistician_stan"
    assert client_for("nurse_nina").post("/exports/full/download/").status_code == 403
