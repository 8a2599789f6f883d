"""The examples in docs/ and README.md run, so they cannot drift from the code.

The convention (docs/architecture.md, "Docs that run"):
- A ```pycon block is a doctest. It runs on its own, in a fresh namespace, and what it
  prints must match the text under each `>>>` line.
- A ```console block whose previous non-blank line is `<!-- runnable -->` is a terminal
  session. Each `$ ` line is a command (a trailing `\\` continues it on the next line).
  The lines up to the next `$ ` are its expected output; a command with no lines under
  it has its output left unchecked. A command must exit with status 0, unless it ends
  with a comment `# exits N` (e.g. `blend screen` exits 1 for an ineligible patient).
- A ```sh block whose previous non-blank line is `<!-- runnable -->` runs as one bash
  script (`set -euo pipefail`) and must exit with status 0.

Output matches as in doctest with ELLIPSIS and NORMALIZE_WHITESPACE: `...` stands for
any text, and runs of whitespace are equal. Every example runs in a fresh temporary
directory where `src`, `docs`, `tests` and `bench` link to the repository's, with the
virtualenv's bin/ first on PATH, and each block must finish within a minute. The
commands of one console block run in one shell, so a variable set by one reaches the next. Blocks
that need a server, the database or a long run are simply not marked.
"""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
MARKER = "<!-- runnable -->"
MARKED_LANGUAGES = {"console", "sh"}
LINKED_DIRS = ("src", "docs", "tests", "bench")
TIMEOUT_SECONDS = 60
MATCHING = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<language>[\w-]*)\s*$")
EXPECTED_STATUS = re.compile(r"#\s*exits (\d+)\b")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    path: Path
    line: int  # of the opening fence, 1-based
    language: str
    marked: bool
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT).as_posix()}:{self.line}"

    @property
    def runnable(self) -> bool:
        return self.language == "pycon" or (self.marked and self.language in MARKED_LANGUAGES)


def _doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _closing_fence(lines: list[str], start: int, indent: str) -> int:
    for number in range(start + 1, len(lines)):
        if lines[number].strip() == "```" and lines[number].startswith(indent):
            return number
    raise AssertionError(f"unclosed code block at line {start + 1}")


def _previous_text(lines: list[str], index: int) -> str:
    before = [line.strip() for line in lines[:index] if line.strip()]
    return before[-1] if before else ""


def blocks_of(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found, index = [], 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if fence is None:
            index += 1
            continue
        end = _closing_fence(lines, index, fence["indent"])
        body = "\n".join(line.removeprefix(fence["indent"]) for line in lines[index + 1 : end])
        marked = _previous_text(lines, index) == MARKER
        found.append(Block(path, index + 1, fence["language"], marked, body + "\n"))
        index = end + 1
    return found


ALL_BLOCKS = [block for path in _doc_files() for block in blocks_of(path)]
RUNNABLE = [block for block in ALL_BLOCKS if block.runnable]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in LINKED_DIRS:
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _shell(
    script: str, cwd: Path, options: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", *options, "-c", script],
        cwd=cwd,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )


@dataclass(frozen=True)
class Command:
    text: str
    expected: str  # empty: the output is not checked

    @property
    def status(self) -> int:
        shown = EXPECTED_STATUS.search(self.text.splitlines()[-1])
        return int(shown.group(1)) if shown else 0


def console_commands(text: str) -> list[Command]:
    """Split a terminal session into commands and the output shown under each."""
    commands: list[Command] = []
    lines = iter(text.splitlines())
    command, expected = "", []
    for line in lines:
        if line.startswith("$ "):
            if command:
                commands.append(Command(command, "\n".join(expected)))
            command, expected = line[2:], []
            while command.endswith("\\"):
                command += "\n" + next(lines)
        else:
            expected.append(line)
    if command:
        commands.append(Command(command, "\n".join(expected)))
    return commands


def _session_script(commands: list[Command], outputs: Path) -> str:
    """One bash script for the session, so that a variable set by one command reaches the next."""
    lines = ["set -o pipefail"]
    for number, command in enumerate(commands):
        lines += [
            "{ " + command.text,
            f"}} >{outputs}/{number}.out 2>&1; echo $? >{outputs}/{number}.status",
        ]
    return "\n".join(lines) + "\n"


def _check_output(command: Command, got: str, status: int) -> list[str]:
    if status != command.status:
        return [f"$ {command.text}\nexited with {status}, not {command.status}:\n{got}"]
    want = command.expected.strip()
    if want and not doctest.OutputChecker().check_output(want + "\n", got, MATCHING):
        return [f"$ {command.text}\nexpected:\n{command.expected}\ngot:\n{got}"]
    return []


def run_console(block: Block, cwd: Path) -> list[str]:
    commands = console_commands(block.text)
    assert commands, f"{block.where}: a runnable console block without a `$ ` command"
    outputs = cwd / ".console"
    outputs.mkdir()
    _shell(_session_script(commands, outputs), cwd)
    problems: list[str] = []
    for number, command in enumerate(commands):
        status = outputs / f"{number}.status"
        if not status.exists():
            return [*problems, f"$ {command.text}\nthe session ended before this command"]
        got = (outputs / f"{number}.out").read_text(encoding="utf-8")
        problems += _check_output(command, got, int(status.read_text()))
    return problems


def run_sh(block: Block, cwd: Path) -> list[str]:
    result = _shell(block.text, cwd, ("-euo", "pipefail"))
    return (
        []
        if result.returncode == 0
        else [f"exited with {result.returncode}:\n{result.stdout}{result.stderr}"]
    )


def run_pycon(block: Block, cwd: Path) -> list[str]:
    test = doctest.DocTestParser().get_doctest(
        block.text, {}, block.where, str(block.path), block.line
    )
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=MATCHING)
    runner.run(test, out=report.append, clear_globs=True)
    return ["".join(report)] if runner.failures else []


RUNNERS = {"pycon": run_pycon, "console": run_console, "sh": run_sh}


@pytest.mark.parametrize("block", RUNNABLE, ids=[block.where for block in RUNNABLE])
def test_the_example_runs(block: Block, workdir: Path) -> None:
    problems = RUNNERS[block.language](block, workdir)
    assert problems == [], f"{block.where}: the example is out of date\n" + "\n".join(problems)


def test_every_runnable_marker_is_on_a_console_or_sh_block() -> None:
    misplaced = []
    for path in _doc_files():
        lines = path.read_text(encoding="utf-8").splitlines()
        starts = {block.line - 1 for block in blocks_of(path) if block.marked}
        for index, line in enumerate(lines):
            if line.strip() == MARKER and not any(
                _marker_before(lines, start) == index for start in starts
            ):
                misplaced.append(f"{path.relative_to(ROOT).as_posix()}:{index + 1}")
    marked_elsewhere = [
        b.where for b in ALL_BLOCKS if b.marked and b.language not in MARKED_LANGUAGES
    ]
    assert misplaced + marked_elsewhere == [], (
        "a runnable marker must stand just above a console or sh block"
    )


def _marker_before(lines: list[str], fence: int) -> int:
    return max(index for index in range(fence) if lines[index].strip())


def test_the_docs_have_runnable_examples_of_each_kind() -> None:
    """Guards the parser: if it stopped finding blocks, every example would pass unseen."""
    assert {block.language for block in RUNNABLE} == {"pycon", "console", "sh"}


def test_a_console_session_splits_into_commands_and_their_output() -> None:
    session = "$ echo a \\\n  b\na b\n$ false  # exits 1\n"
    commands = console_commands(session)
    assert commands == [Command("echo a \\\n  b", "a b"), Command("false  # exits 1", "")]
    assert [command.status for command in commands] == [0, 1]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("pycon", ">>> 1 + 1\n3\n"),
        ("console", "$ echo two\n3\n"),
        ("console", "$ X=two\n$ echo $X\n3\n"),
        ("console", "$ true  # exits 1\n"),
        ("sh", "true\nfalse\ntrue\n"),
    ],
)
def test_a_wrong_example_is_reported(language: str, text: str, workdir: Path) -> None:
    block = Block(ROOT / "docs" / "example.md", 1, language, True, text)
    assert RUNNERS[language](block, workdir) != []


def test_a_session_keeps_its_variables_and_matches_with_ellipsis(workdir: Path) -> None:
    block = Block(
        ROOT / "docs" / "example.md",
        1,
        "console",
        True,
        "$ X=two\n$ echo one $X three\none ... three\n",
    )
    assert run_console(block, workdir) == []
