"""`make bench`: run every bench/bench_*.py in turn and collect their reports.

Each script prints a human-readable report and writes bench/out/<name>.json.
Speed is measured here, never asserted in tests.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from figures import write_summary

HERE = Path(__file__).parent


def main() -> int:
    (HERE / "out").mkdir(exist_ok=True)
    selected = sys.argv[1:]
    scripts = sorted(
        p for p in HERE.glob("bench_*.py") if not selected or any(s in p.stem for s in selected)
    )
    failures = []
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent)
        print(f"--- {script.stem}: {time.perf_counter() - started:.1f} s, exit {result.returncode}")
        if result.returncode:
            failures.append(script.stem)
    summary = write_summary()
    print(f"\n== summary of every figure against its goal: {summary}")
    if failures:
        print(f"\nfailed: {', '.join(failures)}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
