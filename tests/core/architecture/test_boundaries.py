"""The boundaries of docs/architecture.md, kept by the build: imports between apps point
down ``LAYERS``, none is deferred to dodge a cycle, nothing is looked up by a string
label, and pure code imports neither Django nor the web application.

Each rule is also attacked: a synthetic tree that breaks it must be caught, so the check
cannot pass by reading nothing."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from blend import dependency_graph, lint_pure_core


def test_the_code_keeps_every_boundary() -> None:
    assert dependency_graph.breaches() == []


def test_pure_code_imports_neither_django_nor_the_web_application() -> None:
    problems = [
        line
        for path in lint_pure_core.pure_files()
        for line in lint_pure_core.forbidden_imports(path)
    ]
    assert problems == []


def test_every_app_is_in_the_layer_order_and_the_graph_reads_real_imports() -> None:
    apps = {p.name for p in dependency_graph.APPS.iterdir() if (p / "apps.py").exists()}
    assert apps == set(dependency_graph.LAYERS)
    edges = dependency_graph.graph(dependency_graph.cross_app_imports())
    assert "audit" in edges["consent"]  # consent writes through audited_save
    assert not edges.get("audit")  # the lowest app imports no other app


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    src = tmp_path / "blend"
    for name, text in files.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    for app in {Path(name).parts[1] for name in files if name.startswith("apps/")}:
        (src / "apps" / app / "apps.py").touch()
    return src


LAYERS = ("low", "high")


def test_an_upward_import_and_the_cycle_it_makes_are_caught(tmp_path: Path) -> None:
    src = _tree(
        tmp_path,
        {
            "apps/low/services.py": "from blend.apps.high.models import Thing\n",
            "apps/high/services.py": "from blend.apps.low.services import x\n",
        },
    )
    problems = dependency_graph.breaches(src, LAYERS)
    assert "apps/low/services.py:1: low imports high, which is above it in LAYERS" in problems
    assert "app cycle: high <-> low" in problems


def test_a_cross_app_import_deferred_into_a_function_is_caught(tmp_path: Path) -> None:
    src = _tree(
        tmp_path,
        {
            "apps/low/models.py": "",
            "apps/high/services.py": "def f():\n    from blend.apps.low.models import Thing\n    return Thing\n",
        },
    )
    assert dependency_graph.breaches(src, LAYERS) == [
        "apps/high/services.py:2: high imports low inside a function"
    ]


def test_registration_inside_appconfig_ready_is_allowed(tmp_path: Path) -> None:
    src = _tree(tmp_path, {"apps/low/models.py": "", "apps/high/services.py": ""})
    (src / "apps/high/apps.py").write_text(
        "class C:\n    def ready(self):\n        from blend.apps.low.models import register\n",
        encoding="utf-8",
    )
    assert dependency_graph.breaches(src, LAYERS) == []


@pytest.mark.parametrize(
    "call",
    [
        "apps.get_model('low.Thing')",
        "optional_model('low.Thing')",
        "importlib.import_module('blend.apps.low.services')",
        "import_string('blend.apps.low.services.f')",
    ],
)
def test_a_lookup_by_string_label_is_caught(tmp_path: Path, call: str) -> None:
    src = _tree(
        tmp_path,
        {"apps/high/services.py": f"def f():\n    return {call}\n", "apps/low/models.py": ""},
    )
    [problem] = dependency_graph.breaches(src, LAYERS)
    assert problem.startswith("apps/high/services.py:2: ")


def test_an_app_missing_from_the_layer_order_is_caught(tmp_path: Path) -> None:
    src = _tree(tmp_path, {"apps/low/models.py": "", "apps/new/models.py": ""})
    assert dependency_graph.breaches(src, ("low",)) == [
        "apps/new: not in LAYERS (blend.dependency_graph)"
    ]


@pytest.mark.parametrize(
    "line",
    [
        "import django",
        "from django.db import models",
        "from blend.apps import discover",
        "from blend.web.forms import EditCheckMixin",
        "import blend.cli",
        "from blend import cli",
        "from ninja import Router",
    ],
)
def test_pure_code_that_imports_the_framework_is_caught(tmp_path: Path, line: str) -> None:
    path = tmp_path / "domain.py"
    path.write_text(f"{line}\n", encoding="utf-8")
    assert lint_pure_core.forbidden_imports(path) == [
        f"{path}:1: pure code imports {_first_forbidden(line)}"
    ]


def _first_forbidden(line: str) -> str:
    words = line.split()
    module = words[1]
    if words[0] == "from" and module == "blend":
        return f"blend.{words[3]}"
    return module


def test_the_graph_for_the_docs_is_generated_from_the_code() -> None:
    text = dependency_graph.mermaid(dependency_graph.graph(dependency_graph.cross_app_imports()))
    assert text.startswith("```mermaid\ngraph BT")
    assert "  consent --> audit" in text


def test_the_graph_in_the_architecture_doc_is_the_one_the_code_has() -> None:
    """Refresh it with ``python -m blend.dependency_graph --write-docs``."""
    text = dependency_graph.DOCS.read_text(encoding="utf-8")
    generated = dependency_graph.mermaid(
        dependency_graph.graph(dependency_graph.cross_app_imports())
    )
    assert dependency_graph.docs_with_graph(text, generated) == text
