"""Fail when a pure-core package imports Django (run by `make lint`).

The pure core must stay usable outside the web application: by statisticians,
by the CLI, and in tests without a database.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PURE_PACKAGES = ("protocol", "instruments", "eligibility", "randomization", "design", "stats")
FORBIDDEN_ROOTS = {"django", "ninja", "simple_history", "axes"}


def django_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found += [f"{path}:{node.lineno}: imports {n}" for n in names if n.split(".")[0] in FORBIDDEN_ROOTS]
    return found


def main() -> int:
    root = Path(__file__).parent
    problems = [
        line
        for package in PURE_PACKAGES
        for path in sorted((root / package).rglob("*.py"))
        for line in django_imports(path)
    ]
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
