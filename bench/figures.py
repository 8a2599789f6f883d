"""One format for every benchmark figure, so `make bench` can write bench/out/summary.md.

Each bench script calls `record(bench, figures)` once at its end; it writes
bench/out/<bench>.figures.json beside the script's own detailed <bench>.json. `run_all.py`
then gathers every *.figures.json into one table: the figure, what was measured, its
anchor measured side by side in the same run, the ratio, the goal and whether it was met.

A figure states its goal as a comparison on either the ratio or the value, so the summary
never guesses which way "better" points:
  Figure("allocation, SQLite, 8 clients", value=812, unit="alloc/s", anchor=1450,
         anchor_label="raw insert+commit, 8 clients", goal_ratio_min=0.5)
  Figure("reminders at 10^5 members", value=7.9, unit="s", goal_value_max=10)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

OUT = Path(__file__).parent / "out"


@dataclass(frozen=True)
class Figure:
    figure: str
    value: float
    unit: str
    anchor: float | None = None
    anchor_label: str = ""
    goal_ratio_min: float | None = None
    goal_ratio_max: float | None = None
    goal_value_max: float | None = None
    goal_value_min: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.anchor in (None, 0):
            return None
        return self.value / float(self.anchor)  # type: ignore[arg-type]

    @property
    def goal(self) -> str:
        parts = []
        if self.goal_ratio_min is not None:
            parts.append(f"ratio ≥ {self.goal_ratio_min:g}")
        if self.goal_ratio_max is not None:
            parts.append(f"ratio ≤ {self.goal_ratio_max:g}")
        if self.goal_value_min is not None:
            parts.append(f"≥ {self.goal_value_min:g} {self.unit}")
        if self.goal_value_max is not None:
            parts.append(f"≤ {self.goal_value_max:g} {self.unit}")
        return ", ".join(parts) or "—"

    @property
    def met(self) -> bool | None:
        checks: list[bool] = []
        ratio = self.ratio
        if self.goal_ratio_min is not None:
            checks.append(ratio is not None and ratio >= self.goal_ratio_min)
        if self.goal_ratio_max is not None:
            checks.append(ratio is not None and ratio <= self.goal_ratio_max)
        if self.goal_value_min is not None:
            checks.append(self.value >= self.goal_value_min)
        if self.goal_value_max is not None:
            checks.append(self.value <= self.goal_value_max)
        return all(checks) if checks else None

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data.update(ratio=self.ratio, goal=self.goal, met=self.met)
        return data


def record(bench: str, figures: Iterable[Figure]) -> Path:
    """Write bench/out/<bench>.figures.json; run_all.py turns all of them into summary.md."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{bench}.figures.json"
    rows = [f.as_json() for f in figures]
    path.write_text(json.dumps({"bench": bench, "figures": rows}, indent=2), encoding="utf-8")
    return path


def _cell(value: object, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def write_summary(out: Path = OUT) -> Path:
    """Gather every *.figures.json into bench/out/summary.md (one table, goal beside each)."""
    lines = [
        "# Benchmark summary",
        "",
        "Written by `make bench` (bench/run_all.py). Each anchor was measured in the same run",
        "as its figure, so the ratios hold across machines even where the seconds do not.",
        "",
        "| bench | figure | value | anchor | ratio | goal | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for path in sorted(out.glob("*.figures.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for row in data["figures"]:
            anchor = (
                f"{_cell(row['anchor'])} ({row['anchor_label']})"
                if row["anchor"] is not None
                else "—"
            )
            met = {True: "yes", False: "**no**", None: "—"}[row["met"]]
            value = f"{_cell(row['value'])} {row['unit']}"
            lines.append(
                f"| {data['bench']} | {row['figure']} | {value} | {anchor} | "
                f"{_cell(row['ratio'])} | {row['goal']} | {met} |"
            )
    summary = out / "summary.md"
    summary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return summary
