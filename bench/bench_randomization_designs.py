"""Speed of the pure randomization code (no database): the live path and the assessment.

- live path: ``allocate_next`` for the k-th allocation of a stratum (HMAC uniforms
  u_0 … u_k recomputed each time, as the allocation service does), at k = 100 and 1000;
- ``blend randomization assess`` for 20,000 sequences of 100 per design.

Writes bench/out/randomization_designs.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from blend.randomization import DesignSpec, allocate_next, assess, sequence

SEED = "5eed" * 16
OUT = Path(__file__).parent / "out" / "randomization_designs.json"
FACTORS = (("ambulatory", ("yes", "no")), ("primary", ("breast", "lung", "prostate", "other")))
SPECS = {
    "bsd": DesignSpec(),
    "blocks": DesignSpec(design="blocks"),
    "minimisation": DesignSpec(design="minimisation", factors=FACTORS),
}


def _live(spec: DesignSpec, k: int, calls: int) -> float:
    profile = {"ambulatory": "yes", "primary": "lung"}
    profiles = [profile] * k
    previous = sequence(spec, SEED, k, "", profiles if spec.design == "minimisation" else None)
    started = time.perf_counter()
    for _ in range(calls):
        allocate_next(spec, SEED, previous, profile, profiles)
    return (time.perf_counter() - started) / calls


def main() -> int:
    report: dict[str, dict[str, float]] = {}
    for name, spec in SPECS.items():
        started = time.perf_counter()
        result = assess(spec, 100, 20_000, seed=7)
        report[name] = {
            "assess_20000x100_s": time.perf_counter() - started,
            "correct_guess_proportion": result["correct_guesses"]["proportion"],
            "live_allocation_ms_at_k100": 1000 * _live(spec, 100, 200),
            "live_allocation_ms_at_k1000": 1000 * _live(spec, 1000, 20),
        }
        r = report[name]
        print(
            f"{name:<13} assess 20,000 × 100: {r['assess_20000x100_s']:.2f} s "
            f"(correct guesses {r['correct_guess_proportion']:.3f});  one live allocation: "
            f"{r['live_allocation_ms_at_k100']:.2f} ms at k = 100, {r['live_allocation_ms_at_k1000']:.2f} ms at k = 1000"
        )
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
