"""Property: for any contract-valid dataset, `blend analyze` exits 0 and every number in
results.json is finite, or null with its reason (issue 13).

Datasets: `make_dataset(n, seed)` for 2 ≤ n ≤ 40, then up to three generators of
`blend.stats.awkward` (one per defect class) applied at random. Each one must still
pass the contract validation before the analysis runs.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blend.stats import awkward
from blend.stats.analysis import unexplained_nulls
from blend.stats.cli import main_analyze
from blend.stats.dataset import load_dataset
from blend.stats.synthetic import make_dataset

ARMS = st.sampled_from(["intervention", "control"])
VISITS = st.sampled_from(["w1", "w2", "w4", "w6", "w8", "w12", "m6", "m12"])
FRACTIONS = st.floats(0.05, 1.0)
SEEDS = st.integers(0, 1000)
EDITS = st.one_of(
    st.tuples(
        st.just("no_outcomes_in_arm"), st.fixed_dictionaries({"arm": ARMS, "timepoint": VISITS})
    ),
    st.tuples(st.just("no_visit"), st.fixed_dictionaries({"timepoint": VISITS})),
    st.tuples(st.just("interim_before"), st.fixed_dictionaries({"timepoint": VISITS})),
    st.tuples(st.just("no_deaths_in_arm"), st.fixed_dictionaries({"arm": ARMS})),
    st.tuples(
        st.just("drop_cost_rows"), st.fixed_dictionaries({"fraction": FRACTIONS, "seed": SEEDS})
    ),
    st.tuples(st.just("empty_costs"), st.just({})),
    st.tuples(
        st.just("drop_baseline_eq5d"), st.fixed_dictionaries({"fraction": FRACTIONS, "seed": SEEDS})
    ),
    st.tuples(
        st.just("early_last_contact"),
        st.fixed_dictionaries({"fraction": FRACTIONS, "days": st.integers(1, 180), "seed": SEEDS}),
    ),
    st.tuples(
        st.just("scale_costs"), st.fixed_dictionaries({"arm": ARMS, "factor": st.floats(0.0, 3.0)})
    ),
    st.tuples(
        st.just("shift_utilities"),
        st.fixed_dictionaries({"arm": ARMS, "delta": st.floats(-0.5, 0.5)}),
    ),
    st.tuples(st.just("everyone_refuses"), st.fixed_dictionaries({"keep": st.integers(0, 3)})),
    st.tuples(
        st.just("controls_cross_over"),
        st.fixed_dictionaries({"fraction": FRACTIONS, "seed": SEEDS}),
    ),
    st.tuples(
        st.just("shift_outcome"),
        st.fixed_dictionaries({"arm": ARMS, "delta": st.floats(-60, 60), "timepoint": VISITS}),
    ),
    st.tuples(
        st.just("survivors_without_outcome"),
        st.fixed_dictionaries({"fraction": FRACTIONS, "seed": SEEDS}),
    ),
)


def _reject_constant(name: str) -> Any:
    raise AssertionError(f"results.json holds {name}")


def non_finite_numbers(value: Any, path: str = "") -> list[str]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in non_finite_numbers(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in non_finite_numbers(v, f"{path}.{i}")]
    if isinstance(value, float) and not (abs(value) < float("inf")):
        return [path]
    return []


@settings(
    max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(n=st.integers(2, 40), seed=st.integers(0, 10_000), edits=st.lists(EDITS, max_size=3))
def test_blend_analyze_survives_every_contract_valid_dataset(
    n: int, seed: int, edits: list[tuple[str, dict[str, Any]]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_dataset(n, seed, Path(tmp) / "data")
        for name, params in edits:
            awkward.GENERATORS[name](folder, **params)
        load_dataset(folder)  # still contract-valid
        out = Path(tmp) / "out"
        code = main_analyze(
            [
                str(folder),
                "--out",
                str(out),
                "--imputations",
                "3",
                "--bootstrap",
                "40",
                "--no-progress",
            ]
        )
        assert code == 0
        results = json.loads((out / "results.json").read_text(), parse_constant=_reject_constant)
    assert non_finite_numbers(results) == []
    assert unexplained_nulls(results) == [], edits
