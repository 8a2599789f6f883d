"""The routine-data linkage note (dataset.json ``linkage``): validated on load, stated in
the CONSORT diagram and in the report (CONSORT-ROUTINE)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from matplotlib.text import Text

from blend.stats import plots
from blend.stats.analysis import AnalysisConfig, run_analysis
from blend.stats.consort import consort_counts, flow_boxes
from blend.stats.dataset import load_dataset
from blend.stats.errors import ContractError
from blend.stats.report import write_report
from blend.stats.synthetic import make_dataset

NOTE: list[dict[str, Any]] = [
    {
        "source": "NCR",
        "data": "linkage file (pseudonymised key and cohort fields)",
        "on": "2026-04-01",
        "records": 90,
        "of": 100,
        "matched": None,
        "match_rate": None,
    },
    {
        "source": "BRP",
        "data": "vital status (date of death, or alive at a date)",
        "on": "2026-05-01",
        "records": 1000,
        "of": None,
        "matched": 950,
        "match_rate": 0.95,
        "conflicts_open": 3,
    },
]


def _with_note(folder: Path, note: Any) -> Path:
    meta = json.loads((folder / "dataset.json").read_text())
    meta["linkage"] = note
    (folder / "dataset.json").write_text(json.dumps(meta))
    return folder


@pytest.fixture
def linked(tmp_path: Path) -> Path:
    return _with_note(make_dataset(15, 3, tmp_path / "d"), NOTE)


def test_the_note_reaches_the_consort_counts_and_a_box_below_the_flow(linked: Path) -> None:
    counts = consort_counts(load_dataset(linked))
    assert counts["linkage"] == NOTE
    (box,) = [b for b in flow_boxes(counts) if b.name == "linkage"]
    text = " ".join(box.text.split())  # the lines are wrapped to fit the box
    assert "NCR linkage file" in text and "90 records of 100 cohort members" in text
    assert "matched 950 of 1,000 (95.0%)" in text
    assert "3 conflicts with the record open" in text
    assert box.row > max(b.row for b in flow_boxes(counts) if b.name != "linkage")


def test_without_a_note_there_is_no_linkage_box(tmp_path: Path) -> None:
    counts = consort_counts(load_dataset(make_dataset(15, 3, tmp_path / "d")))
    assert "linkage" not in counts
    assert "linkage" not in {b.name for b in flow_boxes(counts)}


def test_the_figure_draws_the_linkage_box_inside_it_over_no_other_box(linked: Path) -> None:
    counts = consort_counts(load_dataset(linked))
    fig = plots.consort_figure(counts)
    fig.canvas.draw()
    texts = {t.get_gid(): t for t in fig.findobj(Text) if str(t.get_gid()).startswith("consort-")}
    assert "Linked with routine data" in texts["consort-linkage"].get_text()
    extents = {
        b.name: texts[f"consort-{b.name}"].get_bbox_patch().get_window_extent()  # type: ignore[union-attr]
        for b in flow_boxes(counts)
    }
    width, height = fig.canvas.get_width_height()
    box = extents.pop("linkage")
    assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height
    assert not [name for name, other in extents.items() if box.overlaps(other)]


def test_the_report_states_what_was_linked_when_and_the_match_rate(
    linked: Path, tmp_path: Path
) -> None:
    result = run_analysis(
        load_dataset(linked), AnalysisConfig(imputations=3, bootstrap=200, seed=3)
    )
    assert result.results["consort"]["linkage"] == NOTE
    out = tmp_path / "report.html"
    write_report(result, {}, out)
    html = out.read_text()
    assert "<h3 id='linkage'>Routine-data linkage</h3>" in html
    assert "<td>BRP</td>" in html and "<td>2026-05-01</td>" in html and "<td>95.0%</td>" in html
    assert "matched by the registry" in html


@pytest.mark.parametrize(
    ("note", "where", "expected"),
    [
        ({"source": "BRP"}, "key linkage", "a list of linkage runs"),
        (["x"], "key linkage[0]", "an object"),
        ([{**NOTE[1], "source": ""}], "key linkage[0].source", "a non-empty text"),
        ([{**NOTE[1], "on": "1 May"}], "key linkage[0].on", "a date YYYY-MM-DD"),
        ([{**NOTE[1], "records": -1}], "key linkage[0].records", "a whole number ≥ 0"),
        ([{**NOTE[1], "matched": 1.5}], "key linkage[0].matched", "a whole number ≥ 0 or null"),
        ([{**NOTE[1], "match_rate": 1.2}], "key linkage[0].match_rate", "a number from 0 to 1"),
    ],
)
def test_a_bad_note_is_refused_naming_the_key(
    tmp_path: Path, note: Any, where: str, expected: str
) -> None:
    folder = _with_note(make_dataset(15, 3, tmp_path / "d"), note)
    with pytest.raises(ContractError) as refused:
        load_dataset(folder)
    assert refused.value.column == where
    assert expected in refused.value.expected
