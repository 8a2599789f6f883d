"""The DSMB report of one trial: recruitment and CONSORT from the cohort, adverse events by
arm and grade, serious events, completeness per timepoint; the open report pools the
arms, the closed one splits them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from blend.stats.cli import main_report
from blend.stats.synthetic_vertical import make_vertical_dataset


@pytest.fixture(scope="module")
def vertical(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_vertical_dataset(110, 3, tmp_path_factory.mktemp("vertical"))


@pytest.mark.parametrize("name", ["synthetic_100", "vertical"])
def test_the_closed_report_splits_safety_and_completeness_by_arm(
    name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    data: Path = request.getfixturevalue(name)
    assert main_report(["dsmb", str(data), "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "dsmb.json").read_text())
    participants = pd.read_csv(data / "participants.csv")
    aes = pd.read_csv(data / "adverse_events.csv")
    arm_of = participants.set_index("study_id")["arm"]
    for arm, grades in summary["by_grade"].items():
        mine = aes[aes["study_id"].map(arm_of) == arm]
        assert {g: v["events"] for g, v in grades.items()} == {
            str(g): int((mine["grade"] == g).sum()) for g in range(1, 6)
        }
        assert sum(v["participants_worst"] for v in grades.values()) == mine["study_id"].nunique()
    pooled = summary["safety_pooled"]["by_grade"]
    for grade in pooled:
        assert pooled[grade]["events"] == sum(
            summary["by_grade"][arm][grade]["events"] for arm in summary["by_grade"]
        )
    assessments = pd.read_csv(data / "assessments.csv")
    baseline = assessments[assessments["timepoint"] == "baseline"]["study_id"].nunique()
    assert summary["completeness_pooled"]["baseline"]["returned"] == baseline
    for row in summary["completeness"].values():
        assert sum(g["randomized"] for g in row.values()) == len(participants)
    assert summary["consort"]["randomized"] == len(participants)
    assert set(summary["sections"]) == {"open", "closed"}
    closed = (tmp_path / "dsmb_report.html").read_text()
    assert "By CTCAE grade" in closed and "Completeness of follow-up by arm" in closed
    assert "CONSORT (TwiCs), from the cohort" in closed


@pytest.mark.parametrize("name", ["synthetic_100", "vertical"])
def test_the_open_report_never_splits_by_arm(
    name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    data: Path = request.getfixturevalue(name)
    assert main_report(["dsmb", str(data), "--out", str(tmp_path)]) == 0
    page = (tmp_path / "dsmb_open.html").read_text()
    meta = json.loads((data / "dataset.json").read_text())
    trial = meta["trial"]
    assert f"{trial} — DSMB open report" in page
    labels = [str(v) for v in (meta.get("arm_labels") or {}).values()]
    for word in ["intervention", "control", *labels]:
        assert word.lower() not in page.lower(), word
    assert "Safety, all arms together" in page and "Completeness of follow-up" in page


@pytest.mark.parametrize("name", ["synthetic_100", "vertical"])
def test_the_closed_report_holds_the_acceptance_of_the_offer(
    name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    data: Path = request.getfixturevalue(name)
    assert main_report(["dsmb", str(data), "--out", str(tmp_path)]) == 0
    acceptance = json.loads((tmp_path / "dsmb.json").read_text())["acceptance"]
    p = pd.read_csv(data / "participants.csv")
    offered = p[p["offered"].astype(str).str.lower() == "true"]
    accepted = (offered["accepted"].astype(str).str.lower() == "true").sum()
    refused = (offered["accepted"].astype(str).str.lower() == "false").sum()
    assert (acceptance["accepted"], acceptance["refused"]) == (accepted, refused)
    assert acceptance["rate"] == pytest.approx(accepted / (accepted + refused))
    closed = (tmp_path / "dsmb_report.html").read_text()
    assert "<h2>Acceptance of the offer</h2>" in closed and "data:image/png;base64," in closed
    assert "Acceptance of the offer" not in (tmp_path / "dsmb_open.html").read_text()


def test_the_dsmb_consort_shows_no_analysed_box_before_the_analysis(
    vertical: Path, tmp_path: Path
) -> None:
    assert main_report(["dsmb", str(vertical), "--out", str(tmp_path)]) == 0
    closed = (tmp_path / "dsmb_report.html").read_text()
    assert "intervention: allocated" in closed and "analysed primary" not in closed
