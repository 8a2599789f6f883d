"""``blend simulate``: arguments, TOML grid, JSON/CSV/PNG outputs."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from blend.cli import main as blend
from blend.design.scenario import Scenario, ScenarioError, load_grid

GRID = """
reps = 400
seed = 5
population = 5000
continuous = true

[[scenario]]
name = "BLEND"
n = [60, 100]
refusal = [0.0, 0.27]
missing = 0.19

[[scenario]]
name = "null"
delta = 0
"""


def test_simulate_json_includes_power(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "simulate",
        "--n",
        "100",
        "--delta",
        "10",
        "--sd",
        "20",
        "--rho",
        "0.5",
        "--refusal",
        "0.25",
        "--death",
        "0.1",
        "--missing",
        "0.15",
        "--reps",
        "500",
        "--seed",
        "3",
        "--population",
        "5000",
        "--json",
        "--no-progress",
        "--workers",
        "1",
    ]
    assert blend(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert 0 < result["power"] < 1
    assert result["power"] == result["methods"]["itt_cc"]["power"]
    assert set(result["methods"]) == {"itt_cc", "cace_2sls"}
    assert result["scenario"]["refusal"] == 0.25 and not result["scenario"]["continuous"]
    assert blend([*argv, "--continuous", "--mi", "3"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["scenario"]["continuous"] and "itt_mi" in again["methods"]


def test_a_grid_expands_every_combination(tmp_path: Path) -> None:
    path = tmp_path / "grid.toml"
    path.write_text(GRID)
    scenarios = load_grid(path, {"reps": 300})
    assert [s.name for s in scenarios] == [
        "BLEND n=60 refusal=0",
        "BLEND n=60 refusal=0.27",
        "BLEND n=100 refusal=0",
        "BLEND n=100 refusal=0.27",
        "null",
    ]
    assert all(s.reps == 300 and s.seed == 5 and s.continuous for s in scenarios)
    assert scenarios[1].missing == 0.19 and scenarios[4].delta == 0.0


def test_grid_run_writes_json_csv_and_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "grid.toml"
    path.write_text(GRID)
    out = tmp_path / "out"
    assert (
        blend(
            ["simulate", "--grid", str(path), "--out", str(out), "--no-progress", "--workers", "1"]
        )
        == 0
    )
    assert "itt_cc" in capsys.readouterr().out
    results = json.loads((out / "results.json").read_text())
    assert len(results) == 5
    with (out / "results.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 10 and {r["method"] for r in rows} == {"itt_cc", "cace_2sls"}
    assert (out / "power.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "reps = 100\n[[scenario]]\nrefusal = 1.2\n",
            "refusal: expected a proportion in [0, 1), got 1.2",
        ),
        ("[[scenario]]\nrefusl = 0.2\n", "unknown keys ['refusl']"),
        ("[[scenario]]\nn = 'many'\n", "scenario[0].n: expected int, got 'many'"),
        ("[[scenario]]\nname = 'x'\n[[scenario]]\nname = 'x'\n", "scenario names must be unique"),
    ],
)
def test_bad_grids_name_the_scenario_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "grid.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as error:
        load_grid(path)
    assert message in str(error.value)


def test_bad_arguments_exit_with_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert blend(["simulate", "--death", "1", "--no-progress"]) == 2
    assert "death: expected a proportion in [0, 1), got 1.0" in capsys.readouterr().err


def test_scenario_validation() -> None:
    with pytest.raises(
        ScenarioError, match=r"missing_mechanism: expected one of \['mcar', 'mar', 'mnar'\]"
    ):
        Scenario(missing_mechanism="random")
    with pytest.raises(
        ScenarioError, match="mi: expected 0 \\(off\\) or at least 2 imputations, got 1"
    ):
        Scenario(mi=1)


def test_the_shipped_blend_grids_parse() -> None:
    """The grids behind docs/design.md: 4 curves × 7 N, and 4 + 8 scenarios at N = 100."""
    from blend.design import scenario

    folder = Path(scenario.__file__).with_name("examples")
    curve = load_grid(folder / "blend_power_curve.toml")
    n100 = load_grid(folder / "blend_n100.toml")
    assert len(curve) == 28 and len(n100) == 12
    assert all(s.n == 100 and s.refusal == 0.27 for s in n100)
    assert {s.n for s in curve} == {60, 80, 100, 120, 160, 200, 240}


IMPORTS_OF_A_RUN = """
import sys
from blend.cli import main
code = main(["simulate", "--n", "40", "--reps", "60", "--population", "2000",
             "--no-progress", "--json", *sys.argv[1:]])
heavy = sorted(m for m in ("scipy", "matplotlib", "tqdm") if m in sys.modules)
print("HEAVY", ",".join(heavy))
raise SystemExit(code)
"""


def _heavy_imports(*argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS_OF_A_RUN, *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.rsplit("HEAVY", 1)[1].strip()


def test_a_default_run_imports_neither_scipy_nor_matplotlib_nor_tqdm(tmp_path: Path) -> None:
    """Start-up is most of a small run (issue 15): only what a run needs is imported
    (no events to draw, critical values decided without scipy, no bar, no plot)."""
    assert _heavy_imports() == ""
    assert _heavy_imports("--out", str(tmp_path / "a"), "--no-plot") == ""
    assert not (tmp_path / "a" / "power.png").exists()
    assert (tmp_path / "a" / "results.csv").exists()


def test_asking_for_the_plot_imports_matplotlib(tmp_path: Path) -> None:
    assert _heavy_imports("--out", str(tmp_path / "b")) == "matplotlib"
    assert (tmp_path / "b" / "power.png").exists()
