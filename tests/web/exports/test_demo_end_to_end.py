"""The whole path on the demo data: cohort → export (the contract) → `blend analyze`.

The analysis package is tested on synthetic datasets; this test closes the loop on
data made by the platform's own services, so the export and the analysis cannot drift
apart unnoticed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blend.apps.allocation.models import Allocation
from blend.apps.demo.services import load_demo
from blend.apps.exports.services import export_analysis
from blend.apps.offers.models import Offer
from blend.stats.cli import main_analyze


@pytest.mark.slow
def test_the_demo_export_is_analysed_end_to_end(tmp_path: Path, personas) -> None:
    load_demo(participants=200, seed=20221015, force=True)
    export_analysis(tmp_path / "dataset", user=personas["statistician_stan"], via="web")
    status = main_analyze(
        [
            str(tmp_path / "dataset"),
            "--out",
            str(tmp_path / "out"),
            "--seed",
            "7",
            "--imputations",
            "5",
            "--bootstrap",
            "200",
            "--no-progress",
        ]
    )
    assert status == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    consort = results["consort"]
    blend = Allocation.objects.filter(trial="BLEND")
    assert consort["randomized"] == blend.count() > 20
    assert consort["intervention"]["allocated"] == blend.filter(arm="intervention").count()
    accepted = Offer.objects.filter(trial="BLEND", state="accepted").count()
    assert consort["intervention"]["accepted"] == accepted
    assert (
        results["primary"]["itt"]["n"]
        == consort["intervention"]["analysed_primary"] + consort["control"]["analysed_primary"]
    )
    assert results["primary"]["itt"]["estimate"] is not None
    assert (tmp_path / "out" / "report.html").stat().st_size > 10_000

    # VERTICAL, the completed trial of the same cohort: its own dataset and primary analysis.
    export_analysis(
        tmp_path / "vertical", user=personas["statistician_stan"], via="web", trial="VERTICAL"
    )
    out = tmp_path / "vertical-out"
    assert main_analyze([str(tmp_path / "vertical"), "--out", str(out), "--no-progress"]) == 0
    vertical = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert vertical["primary"]["measure"] == "pain_response"
    assert vertical["consort"]["randomized"] == Allocation.objects.filter(trial="VERTICAL").count()
    assert vertical["primary"]["itt"]["estimate"] is not None
    assert vertical["primary"]["iv"]["first_stage"]["f_statistic"] > 10
