"""Fail when pure code imports Django or the web application (run by `make lint`).

Pure code is the core packages (protocol configuration, instruments, eligibility,
randomization, edit checks, design, statistics, the FHIR reading and writing of ``interop``) and the ``domain.py`` module of each
app. It must stay usable outside the web application: by statisticians, by the CLI,
and in tests without a database. So it imports neither Django (nor a Django library)
nor anything of ``blend.apps``, ``blend.web`` or ``blend.cli``.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

PURE_PACKAGES = (
    "protocol",
    "instruments",
    "eligibility",
    "randomization",
    "editchecks",
    "design",
    "stats",
    "interop",
)
FORBIDDEN_ROOTS = {"django", "ninja", "simple_history", "axes"}
FORBIDDEN_MODULES = ("blend.apps", "blend.web", "blend.cli")

ROOT = Path(__file__).parent


def _imported(node: ast.AST, path: Path) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    if isinstance(node, ast.ImportFrom) and node.level:
        # A relative import is resolved against the file's own package.
        package = path.relative_to(ROOT.parent).with_suffix("").parts[: -node.level]
        base = ".".join(package + ((node.module,) if node.module else ()))
        return [base]
    return []


def _forbidden(module: str) -> bool:
    return module.split(".")[0] in FORBIDDEN_ROOTS or any(
        module == name or module.startswith(name + ".") for name in FORBIDDEN_MODULES
    )


def forbidden_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        bad = sorted({module for module in _imported(node, path) if _forbidden(module)})
        if bad:
            found.append(f"{path}:{node.lineno}: pure code imports {bad[0]}")
    return found


def pure_files() -> Iterator[Path]:
    for package in PURE_PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))
    yield from sorted((ROOT / "apps").glob("*/domain.py"))


def main() -> int:
    problems = [line for path in pure_files() for line in forbidden_imports(path)]
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
