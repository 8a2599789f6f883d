"""Benchmark: score_frame on 1,000,000 QLQ-C15-PAL responses vs a minimal numpy lookup.

The baseline does the same arithmetic (conversion tables for PF/EF/FA/NV, the linear
transformation for PA/DY/SL/AP/CO/QL) on a ready-made integer array, with no
validation, no missing-value handling and no DataFrame in or out. The ratio
score_frame / baseline is the price of validation and missing-item rules; the aim is
at most 3. Both results are compared for equality first. Writes bench/out/instruments.json.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from blend.instruments import score_frame

N = 1_000_000
REPEATS = 5
SEED = 20261127
OUT = Path(__file__).parent / "out" / "instruments.json"

PF = np.array([0, 0, 0, 14, 11, 9, 7, 5, 4, 3, 2, 1, 0]) * 100.0 / 15.0
EF = np.array([0, 0, 12, 10, 8, 6, 5, 2, 0]) * 100.0 / 12.0
FA = np.array([[0, 2, 3, 5], [2, 3, 5, 6], [3, 4, 6, 8], [4, 6, 8, 9]]).ravel() * 100.0 / 9.0
NV = np.array([0, 0, 1, 3, 6]) * 100.0 / 6.0


def minimal_lookup(q: np.ndarray) -> dict[str, np.ndarray]:
    """The bare arithmetic on complete integer answers (columns q1..q15)."""
    c = [q[:, i] for i in range(15)]
    return {
        "PF": PF[c[0] + c[1] + c[2]],
        "EF": EF[c[12] + c[13]],
        "FA": FA[(c[6] - 1) * 4 + (c[10] - 1)],
        "NV": NV[c[8]],
        "PA": ((c[4] + c[11]) / 2.0 - 1.0) / 3.0 * 100.0,
        "DY": (c[3] - 1.0) / 3.0 * 100.0,
        "SL": (c[5] - 1.0) / 3.0 * 100.0,
        "AP": (c[7] - 1.0) / 3.0 * 100.0,
        "CO": (c[9] - 1.0) / 3.0 * 100.0,
        "QL": (c[14] - 1.0) / 6.0 * 100.0,
    }


def best_of(function: Callable[[], object]) -> tuple[float, object]:
    times, result = [], None
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return min(times), result


def responses(rng: np.random.Generator) -> np.ndarray:
    answers = rng.integers(1, 5, size=(N, 15))
    answers[:, 14] = rng.integers(1, 8, size=N)
    return answers


def main() -> int:
    rng = np.random.default_rng(SEED)
    answers = responses(rng)
    frame = pd.DataFrame(answers, columns=[f"q{i}" for i in range(1, 16)])

    library_s, scored = best_of(lambda: score_frame("qlq-c15-pal", frame))
    baseline_s, expected = best_of(lambda: minimal_lookup(answers))
    for key, values in expected.items():  # type: ignore[union-attr]
        if not np.allclose(scored[key].to_numpy(), values, rtol=0, atol=1e-9):  # type: ignore[index]
            raise SystemExit(f"score_frame and the minimal lookup disagree on {key}")

    with_missing = frame.astype(float).mask(rng.random(frame.shape) < 0.05)
    missing_s, _ = best_of(lambda: score_frame("qlq-c15-pal", with_missing))

    ratio = library_s / baseline_s
    report = {
        "responses": N,
        "repeats": REPEATS,
        "score_frame_s": round(library_s, 4),
        "minimal_numpy_lookup_s": round(baseline_s, 4),
        "ratio": round(ratio, 2),
        "target_ratio": 3.0,
        "score_frame_5pct_missing_s": round(missing_s, 4),
        "responses_per_s": round(N / library_s),
    }
    print(f"QLQ-C15-PAL, {N:,} responses, best of {REPEATS}")
    print(f"  score_frame (validation + missing rules, DataFrame in/out): {library_s:8.3f} s")
    print(f"  minimal numpy lookup (same arithmetic, int array):          {baseline_s:8.3f} s")
    print(f"  ratio: {ratio:.2f} (aim <= 3)  -> {'OK' if ratio <= 3 else 'ABOVE TARGET'}")
    print(f"  score_frame with 5% missing items:                          {missing_s:8.3f} s")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
