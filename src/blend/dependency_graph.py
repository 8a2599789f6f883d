"""The app-dependency graph, read from the code, and the rules it must keep.

``python -m blend.dependency_graph`` prints the graph (Mermaid); ``--write-docs``
writes it into docs/architecture.md; ``--check`` prints every breach and exits 1
(``make lint`` and ``tests/core/architecture/test_boundaries.py`` run it). Nothing here is drawn by hand:
the graph is the set of ``import`` statements under ``src/blend/apps``.

The rules:

- imports between apps point down :data:`LAYERS` (an app imports only apps
  listed before it), so there is no cycle;
- no cross-app import is deferred into a function body to dodge a cycle (the
  one place allowed is ``AppConfig.ready``, where Django wants models imported);
- no model or service is looked up by a string label (``apps.get_model``,
  ``import_module``); extension modules are found by ``blend.apps.discover``.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

#: The apps from the bottom up. An app may import only the apps before it.
LAYERS: tuple[str, ...] = (
    "audit",  # business events, field-level history, write guards
    "trials",  # the cohort's trials: shipped and registered trial folders (blend trial add)
    "accounts",  # staff users, roles, the permission matrix
    "api",  # the REST API's frame (tokens, errors, paging); each app adds its endpoints in <app>/api.py
    "registry",  # cohort members and their identifiers
    "consent",  # staged consent; every consent question
    "outbox",  # messages to patients and staff
    "screening",  # eligibility facts, confirmation
    "allocation",  # concealed randomization, the allocation log
    "prescreening",  # cohort facts against every trial's criteria: the worklist, the denominator
    "offers",  # the TwiCs offer to the intervention arm
    "followup",  # schedule of assessments, vital status, who may be contacted
    "treatment",  # treatment records, the schedule's anchor
    "questionnaires",  # patient questionnaires and reminders
    "datamanagement",  # edit-check runs, queries, locks, sign-off, form status
    "safety",  # adverse events, SAE notification
    "disclosure",  # stage 3: a completed trial's results told to its living participants
    "exports",  # analysis dataset, full exports, import
    "fhir",  # read-only FHIR R4 export: the API's /api/fhir/... and `blend export fhir`
    "linkage",  # registry linkage: the NCR file, BRP vital status, the conflict queue
    "overview",  # dashboard, participant list and page: composes every app's panels
    "demo",  # the synthetic demo cohort
)

#: Modules allowed to import by a computed name: the extension-point finder; the console
#: script, which loads pure subcommands lazily so they start without Django; and the SMS
#: backend, a class path chosen in settings the way Django chooses EMAIL_BACKEND.
DYNAMIC_IMPORT_ALLOWED = ("apps/__init__.py", "cli.py", "apps/outbox/backends.py")

SRC = Path(__file__).resolve().parent
APPS = SRC / "apps"


@dataclass(frozen=True)
class Import:
    source_app: str
    target_app: str
    path: str
    line: int
    deferred: bool


def _app_of_module(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 3 and parts[:2] == ["blend", "apps"]:
        return parts[2]
    return None


def _imported_modules(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        if node.module == "blend.apps":
            return [f"blend.apps.{alias.name}" for alias in node.names]
        return [node.module]
    return []


def _import_statements(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


def _top_level_nodes(tree: ast.Module) -> set[int]:
    """Statements at module level, including those under ``if TYPE_CHECKING:``."""
    nodes: set[int] = set()
    for statement in tree.body:
        nodes.add(id(statement))
        if isinstance(statement, ast.If):
            nodes.update(id(child) for child in statement.body + statement.orelse)
        if isinstance(statement, ast.Try):
            nodes.update(id(child) for child in statement.body)
    return nodes


def _ready_nodes(tree: ast.Module, path: Path) -> set[int]:
    """Statements inside ``AppConfig.ready`` of an app's apps.py."""
    if path.name != "apps.py":
        return set()
    return {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "ready"
        for child in ast.walk(node)
    }


def app_modules(apps_dir: Path = APPS) -> list[Path]:
    return sorted(
        p for p in apps_dir.rglob("*.py") if "migrations" not in p.parts and p.parent != apps_dir
    )


def cross_app_imports(apps_dir: Path = APPS) -> list[Import]:
    found = []
    app_names = {p.name for p in apps_dir.iterdir() if p.is_dir()}
    for path in app_modules(apps_dir):
        app = path.relative_to(apps_dir).parts[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        top, ready = _top_level_nodes(tree), _ready_nodes(tree, path)
        for node in _import_statements(tree):
            for module in _imported_modules(node):
                target = _app_of_module(module)
                if target in app_names and target != app:
                    deferred = id(node) not in top and id(node) not in ready
                    found.append(
                        Import(
                            app,
                            target,
                            str(path.relative_to(apps_dir.parent)),
                            node.lineno,
                            deferred,
                        )
                    )
    return found


def graph(imports: list[Import]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for imp in imports:
        edges[imp.source_app].add(imp.target_app)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one app (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(set(edges) | {t for targets in edges.values() for t in targets}):
        if node not in index:
            visit(node)
    return found


def _string_lookups(path: Path, src: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rel = str(path.relative_to(src))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = (
            func.attr
            if isinstance(func, ast.Attribute)
            else func.id
            if isinstance(func, ast.Name)
            else ""
        )
        if name in {"get_model", "optional_model", "optional_service"}:
            found.append(f"{rel}:{node.lineno}: looks up a model or service by name ({name})")
        if name in {"import_module", "__import__", "import_string"} and not rel.endswith(
            DYNAMIC_IMPORT_ALLOWED
        ):
            found.append(f"{rel}:{node.lineno}: imports a module by a computed name ({name})")
    return found


def breaches(src: Path = SRC, layers: tuple[str, ...] = LAYERS) -> list[str]:
    """Every breach of the rules in the package at ``src`` (default: this one)."""
    apps_dir = src / "apps"
    imports = cross_app_imports(apps_dir)
    problems = []
    known = set(layers)
    apps_on_disk = {p.name for p in apps_dir.iterdir() if (p / "apps.py").exists()}
    problems += [
        f"apps/{app}: not in LAYERS (blend.dependency_graph)"
        for app in sorted(apps_on_disk - known)
    ]
    rank = {app: i for i, app in enumerate(layers)}
    for imp in imports:
        where = f"{imp.path}:{imp.line}"
        if imp.deferred:
            problems.append(f"{where}: {imp.source_app} imports {imp.target_app} inside a function")
        if rank.get(imp.target_app, -1) > rank.get(imp.source_app, len(layers)):
            problems.append(
                f"{where}: {imp.source_app} imports {imp.target_app}, which is above it in LAYERS"
            )
    problems += [f"app cycle: {' <-> '.join(c)}" for c in cycles(graph(imports))]
    for path in sorted(src.rglob("*.py")):
        if "migrations" not in path.parts:
            problems += _string_lookups(path, src)
    return problems


def mermaid(edges: dict[str, set[str]]) -> str:
    lines = ["```mermaid", "graph BT"]
    for source in LAYERS:
        for target in sorted(edges.get(source, ()), key=LAYERS.index):
            lines.append(f"  {source} --> {target}")
    lines.append("```")
    return "\n".join(lines)


DOCS = SRC.parent.parent / "docs" / "architecture.md"
START, END = "<!-- dependency-graph: start -->", "<!-- dependency-graph: end -->"


def docs_with_graph(text: str, graph_text: str) -> str:
    """``text`` with the block between the markers replaced by ``graph_text``."""
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{graph_text}\n{END}{after}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m blend.dependency_graph", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--check", action="store_true", help="print every breach of the rules and exit 1 if any"
    )
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help=f"write the graph into {DOCS.name} between its markers",
    )
    args = parser.parse_args(argv)
    if args.write_docs:
        DOCS.write_text(
            docs_with_graph(DOCS.read_text(encoding="utf-8"), mermaid(graph(cross_app_imports()))),
            encoding="utf-8",
        )
        return 0
    if args.check:
        problems = breaches()
        for line in problems:
            print(line, file=sys.stderr)
        return 1 if problems else 0
    print(mermaid(graph(cross_app_imports())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
