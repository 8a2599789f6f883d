"""`blend analyze` and `blend report dsmb` end to end on a synthetic dataset."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from blend.stats.cli import main_analyze, main_report

CONTRACT_KEYS = {
    "meta": ["blend_version", "dataset_sha256", "seed", "imputations", "bootstrap", "created_at"],
    "consort": [
        "cohort",
        "screened",
        "randomization_consent",
        "eligible",
        "randomized",
        "intervention",
        "control",
    ],
    "primary": ["itt", "cace", "itt_mi", "worst_rank"],
    "secondary": ["overall_survival", "systemic_therapy", "pain_response_w4", "hospital_days"],
    "cea": ["horizon_days", "qaly", "cost", "icer", "inb", "ceac", "bootstrap"],
}
FIGURES = [
    "consort",
    "forest",
    "pf_over_time",
    "overall_survival",
    "systemic_therapy_cif",
    "ce_plane",
    "ceac",
    "tipping_point",
]


@pytest.fixture(scope="module")
def analysed(synthetic_100: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("analyze") / "out"
    code = main_analyze(
        [
            str(synthetic_100),
            "--out",
            str(out),
            "--seed",
            "9",
            "--imputations",
            "5",
            "--bootstrap",
            "300",
            "--no-progress",
        ]
    )
    assert code == 0
    return out


def test_results_json_has_every_contract_key(analysed: Path) -> None:
    results = json.loads((analysed / "results.json").read_text())
    for section, keys in CONTRACT_KEYS.items():
        assert set(keys) <= set(results[section]), section
    c = results["consort"]
    assert set(c["intervention"]) >= {
        "allocated",
        "offered",
        "accepted",
        "refused",
        "not_offered",
        "received",
        "analysed_primary",
    }
    assert set(c["control"]) >= {
        "allocated",
        "received_standard",
        "received_intervention",
        "analysed_primary",
    }
    for key in ("itt", "cace"):
        assert set(results["primary"][key]) >= {"estimate", "se", "ci95", "p", "n"}
    assert set(results["primary"]["itt_mi"]) >= {"estimate", "se", "ci95", "p", "df", "imputations"}
    assert results["primary"]["itt_mi"]["imputations"] == 5
    assert set(results["cea"]["inb"]) == {"20000", "50000", "80000"}
    assert results["cea"]["ceac"][0][0] == 0 and len(results["cea"]["ceac"]) == 101
    assert results["meta"]["seed"] == 9 and results["cea"]["bootstrap"]["replicates"] == 300


def test_analysed_primary_counts_the_complete_case_sample(
    analysed: Path, synthetic_100: Path
) -> None:
    results = json.loads((analysed / "results.json").read_text())
    c = results["consort"]
    assert (
        c["intervention"]["analysed_primary"] + c["control"]["analysed_primary"]
        == results["primary"]["itt"]["n"]
    )
    assert c["randomized"] == len(pd.read_csv(synthetic_100 / "participants.csv")) == 100
    mi = results["primary"]["itt_mi"]
    assert mi["n"] + mi["excluded_dead_by_w4"] == 100  # MI among those alive at week 4
    for arm in ("intervention", "control"):
        assert c[arm]["allocated"] == c[arm]["analysed_primary"] + sum(c[arm]["follow_up"].values())


def test_report_is_self_contained_with_every_section(analysed: Path) -> None:
    page = (analysed / "report.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", page)
    assert page.count("<svg") == len(FIGURES)
    for heading in (
        "Participant flow",
        "Table 1",
        "Primary outcome",
        "over time",
        "Secondary endpoints",
        "Adverse events",
        "Cost-effectiveness",
        "Methods",
        "PROM compliance",
    ):
        assert heading in page
    assert "5 imputations, seed 9" in page  # the methods text follows the configuration
    for name in FIGURES:
        assert (analysed / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        assert "<svg" in (analysed / f"{name}.svg").read_text()


def test_same_seed_gives_the_same_results(
    analysed: Path, synthetic_100: Path, tmp_path: Path
) -> None:
    out = tmp_path / "again"
    main_analyze(
        [
            str(synthetic_100),
            "--out",
            str(out),
            "--seed",
            "9",
            "--imputations",
            "5",
            "--bootstrap",
            "300",
            "--no-progress",
        ]
    )
    first = json.loads((analysed / "results.json").read_text())
    second = json.loads((out / "results.json").read_text())
    first["meta"].pop("created_at")
    second["meta"].pop("created_at")
    assert first == second


def test_broken_dataset_writes_nothing(
    synthetic_100: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(synthetic_100, broken)
    frame = pd.read_csv(broken / "participants.csv", dtype=str, keep_default_na=False)
    frame.loc[0, "arm"] = "placebo"
    frame.to_csv(broken / "participants.csv", index=False)
    out = tmp_path / "out"
    assert main_analyze([str(broken), "--out", str(out), "--no-progress"]) == 2
    assert not out.exists()
    assert "participants.csv, row 2, column arm" in capsys.readouterr().err


def test_bad_option_is_rejected(synthetic_100: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main_analyze([str(synthetic_100), "--out", str(tmp_path), "--imputations", "0"])


def test_dsmb_report(synthetic_100: Path, tmp_path: Path) -> None:
    assert main_report(["dsmb", str(synthetic_100), "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "dsmb.json").read_text())
    participants = pd.read_csv(synthetic_100 / "participants.csv")
    deaths = participants[participants["death_date"].notna()]["arm"].value_counts().to_dict()
    assert summary["deaths"]["by_arm"] == deaths
    assert summary["recruitment"]["randomized"] == 100
    aes = pd.read_csv(synthetic_100 / "adverse_events.csv")
    assert sum(g["serious"]["events"] for g in summary["adverse_events"]["by_arm"].values()) == int(
        aes["serious"].sum()
    )
    page = (tmp_path / "dsmb_report.html").read_text()
    assert "Serious adverse events" in page and "Deaths" in page


@pytest.mark.parametrize(("n", "seed"), [(2, 0), (4, 2), (6, 3), (12, 1)])
def test_tiny_interim_datasets_still_give_a_report(n: int, seed: int, tmp_path: Path) -> None:
    """Early in the trial some analyses are not estimable: they are null and noted."""
    from blend.stats.synthetic import make_dataset

    data = make_dataset(n, seed, tmp_path / "data")
    out = tmp_path / "out"
    assert (
        main_analyze(
            [
                str(data),
                "--out",
                str(out),
                "--imputations",
                "3",
                "--bootstrap",
                "50",
                "--no-progress",
            ]
        )
        == 0
    )
    results = json.loads((out / "results.json").read_text())
    assert results["consort"]["randomized"] == n
    for note in results["meta"]["not_estimable"]:
        assert "not estimable from these data" in note
        assert note.split(":")[0] in (out / "report.html").read_text()
    if any(note.startswith("ITT:") for note in results["meta"]["not_estimable"]):
        assert results["primary"]["itt"]["estimate"] is None
    assert main_report(["dsmb", str(data), "--out", str(tmp_path / "dsmb")]) == 0


def test_a_single_participant_per_arm_makes_itt_not_estimable(tmp_path: Path) -> None:
    from blend.stats.synthetic import make_dataset

    data = make_dataset(2, 0, tmp_path / "data")
    out = tmp_path / "out"
    main_analyze(
        [str(data), "--out", str(out), "--imputations", "2", "--bootstrap", "20", "--no-progress"]
    )
    results = json.loads((out / "results.json").read_text())
    itt = dict(results["primary"]["itt"])
    reason = itt.pop("not_estimable")  # the reason now sits beside the nulls
    assert itt == {
        "estimate": None,
        "se": None,
        "ci95": [None, None],
        "p": None,
        "n": results["primary"]["itt"]["n"],
    }
    assert reason and reason in " ".join(results["meta"]["not_estimable"])
    assert any(n.startswith("ITT:") for n in results["meta"]["not_estimable"])
