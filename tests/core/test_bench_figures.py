"""bench/figures.py: a figure's ratio against its anchor, whether its goal is met, and the
summary table `make bench` writes (bench/ is scripts, not a package: loaded by path)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

FIGURES = Path(__file__).resolve().parents[2] / "bench" / "figures.py"


@pytest.fixture(scope="module")
def figures() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_figures", FIGURES)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_figures"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def test_ratio_is_value_over_anchor_and_absent_without_one(figures: ModuleType) -> None:
    assert figures.Figure("f", value=3.0, unit="s", anchor=1.5).ratio == 2.0
    assert figures.Figure("f", value=3.0, unit="s").ratio is None
    assert figures.Figure("f", value=3.0, unit="s", anchor=0).ratio is None


@pytest.mark.parametrize(
    ("value", "goal", "met"),
    [
        (1.9, {"goal_ratio_max": 2.0}, True),  # simulate: 1.9× the closed form
        (2.1, {"goal_ratio_max": 2.0}, False),
        (0.4, {"goal_ratio_max": 0.5}, True),  # analysis: 0.4× R
        (0.6, {"goal_ratio_max": 0.5}, False),
        (0.5, {"goal_ratio_min": 0.5}, True),  # allocation: half the raw rate, exactly
        (0.49, {"goal_ratio_min": 0.5}, False),
        (1.0, {}, None),  # no goal: neither met nor missed
    ],
)
def test_met_compares_the_ratio_with_its_goal(
    figures: ModuleType, value: float, goal: dict[str, float], met: bool | None
) -> None:
    assert figures.Figure("f", value=value, unit="s", anchor=1.0, **goal).met is met


def test_a_ratio_goal_without_an_anchor_is_not_met(figures: ModuleType) -> None:
    assert figures.Figure("f", value=1.0, unit="s", goal_ratio_max=2.0).met is False


def test_value_goals_need_no_anchor(figures: ModuleType) -> None:
    assert figures.Figure("reminders", value=7.9, unit="s", goal_value_max=10).met is True
    assert figures.Figure("reminders", value=12.0, unit="s", goal_value_max=10).met is False
    assert figures.Figure("r", value=12.0, unit="s", goal_value_max=10).goal == "≤ 10 s"


def test_record_and_write_summary_make_one_table_with_each_goal(
    figures: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(figures, "OUT", tmp_path)
    path = figures.record(
        "design",
        [
            figures.Figure(
                "blend simulate, whole process",
                value=0.9,
                unit="s",
                anchor=0.3,
                anchor_label="closed form",
                goal_ratio_max=2.0,
            ),
            figures.Figure("analysis only", value=0.2, unit="s", anchor=0.4, anchor_label="cf"),
        ],
    )
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["figures"][0]["ratio"] == pytest.approx(3.0)
    assert saved["figures"][0]["met"] is False
    summary = figures.write_summary(tmp_path).read_text(encoding="utf-8")
    rows = [line for line in summary.splitlines() if line.startswith("| design")]
    assert rows == [
        "| design | blend simulate, whole process | 0.9 s | 0.3 (closed form) | 3 | ratio ≤ 2 | **no** |",
        "| design | analysis only | 0.2 s | 0.4 (cf) | 0.5 | — | — |",
    ]
