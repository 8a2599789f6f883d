"""Every file, test, command and make target that a doc or a docstring names exists.

The docs (README.md, docs/**/*.md) and the comments and strings of src/ are scanned for
- repository paths: `src/...`, `tests/...`, `docs/...`, `bench/...` from the repository
  root, `apps/...` from src/blend/ and `blend/...` from src/; a shorter path with a file
  extension (`stats/survival.py`, `accounts/login.html`) must be the end of a repository
  file's path; `package/module.attribute` names a module and a name in it;
- test modules and test functions (`test_...`);
- `blend <command> [<subcommand>]`: a pure or mixed command of `blend.cli`, or a Django
  management command; a subcommand must be one of the command's argparse choices;
- Python names inside code: `blend.x.y` anywhere, and `app.module.name` for an app of
  src/blend/apps (two-part `app.name` is left alone: it is as often a capability, a
  protocol setting or a system-check id); the module must exist and define or import
  the name at top level;
- `make <target>` inside code (backticks or a fenced block): a target of the Makefile;
- relative Markdown links.

A path that starts with `../` lies outside the repository (the shared reference notes)
and is not checked.

A failure names the file and line of each reference that no longer resolves.
"""

from __future__ import annotations

import ast
import contextlib
import fnmatch
import functools
import io
import re
import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.core.management import get_commands

from blend.cli import MIXED_COMMANDS, PURE_COMMANDS
from blend.cli import main as blend_main

ROOT = Path(__file__).parents[2]
SKIPPED_DIRS = {".git", ".venv", "__pycache__", "var", ".hypothesis", ".ruff_cache", "migrations"}
# Written by `make bench`, never committed (.gitignore).
GENERATED_PREFIXES = ("bench/out/",)
# Files of other projects, cited by name.
EXTERNAL_FILES = {"hc/accounts/http.py"}  # healthchecks: the model for the typed request
FILE_EXTENSIONS = {
    "py",
    "md",
    "toml",
    "csv",
    "json",
    "html",
    "txt",
    "R",
    "png",
    "svg",
    "css",
    "js",
    "jsonl",
}

ROOTED_PATH = re.compile(r"(?<![\w./-])((?:src|tests|docs|bench|apps|blend)/[\w./*-]*[\w*])")
RELATIVE_PATH = re.compile(r"(?<![\w./-])([a-z_][\w-]*(?:/[\w*-]+)+\.[\w*]+)")
TEST_NAME = re.compile(r"(?<![\w./-])(?:([\w/]+\.py)::)?(test_\w+?)(\.py)?\b")
BLEND_COMMAND = re.compile(r"(?<![\w./-])blend ([a-z][\w-]*)(?: ([a-z][\w-]*))?")
MAKE_TARGET = re.compile(r"(?<![\w./-])make ([a-z][\w-]*)")
APPS = sorted(
    p.name for p in (ROOT / "src" / "blend" / "apps").iterdir() if (p / "apps.py").exists()
)
DOTTED_NAME = re.compile(rf"(?<![\w./=-])(blend(?:\.\w+)+|(?:{'|'.join(APPS)})\.\w+(?:\.\w+)+)")
# `blend.xlsx`, `blend.example.org`: a file or a host, not a module.
NOT_MODULE_SUFFIXES = FILE_EXTENSIONS | {"xlsx", "sav", "dta", "org"}
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s:]+)(?:#[^)]*)?\)")
INLINE_CODE = re.compile(r"``?([^`]+)``?")


@dataclass(frozen=True)
class Line:
    """One line of documentation text: where it is, whether it is all code, and its text."""

    where: str
    text: str
    fenced: bool = False

    def code(self) -> list[str]:
        """The parts of the line that are code: all of it in a fenced block, else its `spans`."""
        return [self.text] if self.fenced else INLINE_CODE.findall(self.text)


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _markdown_lines(path: Path) -> Iterator[Line]:
    fenced = False
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text.lstrip().startswith("```"):
            fenced = not fenced
            continue
        yield Line(f"{_relative(path)}:{number}", text, fenced)


def _source_files() -> list[Path]:
    return [p for p in sorted((ROOT / "src").rglob("*.py")) if "migrations" not in p.parts]


def _comment_and_string_lines(path: Path) -> Iterator[Line]:
    """Comments and string literals (docstrings, help texts) of one module, line by line."""
    readline = io.StringIO(path.read_text(encoding="utf-8")).readline
    for token in tokenize.generate_tokens(readline):
        if token.type in (tokenize.COMMENT, tokenize.STRING):
            for offset, text in enumerate(token.string.splitlines()):
                yield Line(f"{_relative(path)}:{token.start[0] + offset}", text)


@functools.cache
def documentation() -> tuple[Line, ...]:
    docs = [line for path in _doc_files() for line in _markdown_lines(path)]
    sources = [line for path in _source_files() for line in _comment_and_string_lines(path)]
    return (*docs, *sources)


@functools.cache
def repository_files() -> tuple[str, ...]:
    """Every file of the working tree, as a path relative to the root."""
    found: list[str] = []
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        if (
            path.is_file()
            and not SKIPPED_DIRS.intersection(parts)
            and not parts[0].endswith(".egg-info")
        ):
            found.append("/".join(parts))
    return tuple(sorted(found))


def _rooted(name: str) -> Path:
    head = name.split("/", 1)[0]
    base = {"apps": ROOT / "src" / "blend", "blend": ROOT / "src"}.get(head, ROOT)
    return base / name


def _exists(path: Path) -> bool:
    """`path` exists, or (`bench/*.py`) the pattern matches something."""
    return any(ROOT.glob(_relative(path))) if "*" in str(path) else path.exists()


def _is_module_attribute(name: str) -> bool:
    """`registry/services.next_study_id`: a module path, then a name defined in it."""
    stem, _, attribute = name.rpartition("/")[2].partition(".")
    return (
        bool(attribute)
        and attribute not in FILE_EXTENSIONS
        and attribute.isidentifier()
        and bool(stem)
    )


@functools.cache
def _module_names(module: Path) -> frozenset[str]:
    """The names a module defines or imports at top level (also under `if` and `try`)."""
    names: set[str] = set()
    statements = list(ast.parse(module.read_text(encoding="utf-8")).body)
    while statements:
        statement = statements.pop()
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(statement.name)
        elif isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(statement, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in statement.names)
        elif isinstance(statement, ast.If | ast.Try):
            statements += [*statement.body, *statement.orelse, *getattr(statement, "finalbody", [])]
            statements += [
                s for handler in getattr(statement, "handlers", []) for s in handler.body
            ]
    return frozenset(names)


def _module_has(module: Path, name: str) -> bool:
    return module.is_file() and name in _module_names(module)


def _is_generated(name: str) -> bool:
    return any(
        name.startswith(prefix) or name == prefix.rstrip("/") for prefix in GENERATED_PREFIXES
    )


def _rooted_path_resolves(name: str) -> bool:
    if _is_generated(name):
        return True
    if _is_module_attribute(name):
        module, _, attribute = name.rpartition(".")
        return _module_has(_rooted(module + ".py"), attribute)
    return _exists(_rooted(name))


def _file_ending_with(name: str) -> list[str]:
    return [
        f for f in repository_files() if fnmatch.fnmatch(f, name) or fnmatch.fnmatch(f, f"*/{name}")
    ]


def _relative_path_resolves(name: str) -> bool:
    if name in EXTERNAL_FILES:
        return True
    if _is_module_attribute(name):
        module, _, attribute = name.rpartition(".")
        return any(_module_has(ROOT / f, attribute) for f in _file_ending_with(module + ".py"))
    return bool(_file_ending_with(name))


def _shorter_path_resolves(name: str) -> bool:
    """A rooted path also matches the shorter pattern; the rooted check has judged it."""
    return bool(ROOTED_PATH.fullmatch(name)) or _relative_path_resolves(name)


def _unresolved(pattern: re.Pattern[str], resolves: Callable[[str], bool]) -> list[str]:
    return [
        f"{line.where}: {match.group(1)}"
        for line in documentation()
        for match in pattern.finditer(line.text)
        if not resolves(match.group(1))
    ]


def test_every_repository_path_named_in_docs_and_docstrings_exists() -> None:
    misses = _unresolved(ROOTED_PATH, _rooted_path_resolves)
    assert misses == [], "named but missing:\n" + "\n".join(misses)


def test_every_shorter_path_named_in_docs_and_docstrings_is_the_end_of_a_repository_file() -> None:
    misses = _unresolved(RELATIVE_PATH, _shorter_path_resolves)
    assert misses == [], "named but no repository file ends so:\n" + "\n".join(misses)


def _module_file(parts: list[str]) -> Path | None:
    base = ROOT / "src" / Path(*parts)
    candidates = [base.with_suffix(".py"), base / "__init__.py"]
    return next((path for path in candidates if path.is_file()), None)


def _dotted_name_resolves(name: str) -> bool:
    """`blend.stats.dataset.load_dataset`: the longest module prefix defines the next name."""
    parts = name.split(".")
    if parts[-1] in NOT_MODULE_SUFFIXES:
        return True
    if parts[0] != "blend":
        parts = ["blend", "apps", *parts]
    for end in range(len(parts), 1, -1):
        module = _module_file(parts[:end])
        if module is not None:
            return end == len(parts) or _module_has(module, parts[end])
    return False


def test_every_python_name_in_code_in_docs_and_docstrings_exists() -> None:
    misses = [
        f"{line.where}: {match.group(1)}"
        for line in documentation()
        for code in line.code()
        for match in DOTTED_NAME.finditer(code)
        if not _dotted_name_resolves(match.group(1))
    ]
    assert misses == [], "no such module or name in it:\n" + "\n".join(misses)


@functools.cache
def _test_sources() -> dict[str, str]:
    return {
        f: (ROOT / f).read_text(encoding="utf-8")
        for f in repository_files()
        if f.startswith("tests/") and f.endswith(".py")
    }


def _test_resolves(match: re.Match[str]) -> bool:
    module, name, suffix = match.groups()
    if module:
        sources = [
            text for path, text in _test_sources().items() if f"/{path}".endswith(f"/{module}")
        ]
        return any(re.search(rf"def {name}\b", source) for source in sources)
    modules = {Path(f).stem for f in repository_files() if f.endswith(".py")}
    if suffix or name in modules:
        return name in modules
    return any(re.search(rf"def {name}\b", source) for source in _test_sources().values())


def test_every_test_named_in_docs_and_docstrings_exists() -> None:
    misses = [
        f"{line.where}: {match.group(0)}"
        for line in documentation()
        for match in TEST_NAME.finditer(line.text)
        if not _test_resolves(match)
    ]
    assert misses == [], "no such test module or test function:\n" + "\n".join(misses)


@functools.cache
def blend_commands() -> frozenset[str]:
    django = {name.replace("_", "-") for name in get_commands()}
    return frozenset({*PURE_COMMANDS, *MIXED_COMMANDS, *django})


@functools.cache
def subcommands(command: str) -> frozenset[str] | None:
    """The argparse choices of a pure or mixed command (`{assess,sequence,verify}`), if any."""
    if command not in PURE_COMMANDS and command not in MIXED_COMMANDS:
        return None
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        blend_main([command, "--help"])
    choices = re.search(r"\{([\w,-]+)\}", out.getvalue())
    return frozenset(choices.group(1).split(",")) if choices else None


def _command_problem(command: str, subcommand: str | None) -> str | None:
    if command not in blend_commands():
        return "no such blend command"
    choices = subcommands(command)
    if choices is not None and subcommand is not None and subcommand not in choices:
        return f"no such subcommand (choices: {', '.join(sorted(choices))})"
    return None


def test_every_blend_command_named_in_docs_and_docstrings_exists() -> None:
    misses = [
        f"{line.where}: {match.group(0)}: {problem}"
        for line in documentation()
        for match in BLEND_COMMAND.finditer(line.text)
        if (problem := _command_problem(match.group(1), match.group(2)))
    ]
    assert misses == [], "\n".join(misses)


@functools.cache
def make_targets() -> frozenset[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return frozenset(re.findall(r"^([\w-]+)\s*:(?!=)", makefile, flags=re.MULTILINE))


def test_every_make_target_named_in_docs_and_docstrings_exists() -> None:
    misses = [
        f"{line.where}: {match.group(0)}"
        for line in documentation()
        for code in line.code()
        for match in MAKE_TARGET.finditer(code)
        if match.group(1) not in make_targets()
    ]
    assert misses == [], "no such Makefile target:\n" + "\n".join(misses)


def test_every_relative_markdown_link_resolves() -> None:
    misses = []
    for path in _doc_files():
        for line in _markdown_lines(path):
            misses += [
                f"{line.where}: {target}"
                for target in MARKDOWN_LINK.findall(line.text)
                if not (path.parent / target).exists()
            ]
    assert misses == [], "link to a missing file:\n" + "\n".join(misses)


def test_the_checks_catch_the_references_they_are_for() -> None:
    """The scanner itself: a made-up name of each kind is reported, a real one is not."""
    assert _rooted_path_resolves("src/blend/cli.py") and not _rooted_path_resolves(
        "src/blend/nope.py"
    )
    assert _rooted_path_resolves("apps/audit/append_only.py")
    assert _relative_path_resolves("stats/survival.py") and not _relative_path_resolves(
        "stats/nope.py"
    )
    assert _relative_path_resolves("stats/survival.logrank_test")
    assert not _relative_path_resolves("stats/survival.no_such_function")
    assert not _relative_path_resolves("stats/survival.lifelines")  # named in its docstring only
    assert _command_problem("check-audits", None) == "no such blend command"
    assert _command_problem("check-audit", None) is None
    assert _command_problem("randomization", "assess") is None
    assert _command_problem("randomization", "shuffle") is not None
    assert _command_problem("check-data", None) is None
    assert "lint" in make_targets() and "clean" in make_targets()
    assert _dotted_name_resolves("blend.stats.dataset.load_dataset")
    assert _dotted_name_resolves("consent.services.may_randomize")
    assert not _dotted_name_resolves("consent.rules.may_randomize")
    assert not _dotted_name_resolves("blend.stats.dataset.no_such_function")
    assert not _rooted_path_resolves("tests/core/stats/test_survival_against_r.py")
    assert not _test_resolves(_match(TEST_NAME, "`test_survival_against_r.py`"))
    assert _test_resolves(_match(TEST_NAME, "`test_stats_survival_against_r.py`"))
    assert _test_resolves(
        _match(TEST_NAME, "`test_stats_cli.py::test_results_json_has_every_contract_key`")
    )


def _match(pattern: re.Pattern[str], text: str) -> re.Match[str]:
    match = pattern.search(text)
    assert match is not None, text
    return match
