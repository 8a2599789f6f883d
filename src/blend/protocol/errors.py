"""The errors of the protocol configuration (no Django).

``ConfigError`` is what a trial team sees when a cohort or trial folder is refused: it
names the file, the key, what was expected and what was found, so the fix is obvious
without reading code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).parent


class ProtocolError(ValueError):
    """The protocol configuration is inconsistent or malformed."""


class ConfigError(ProtocolError):
    """One problem in one file of a cohort or trial folder.

    ``detail`` is set instead of ``expected``/``found`` when the problem was reported by
    the package that owns the section (the eligibility engine, the randomization spec, the
    schedule): its message already says what was expected and what was found.
    """

    def __init__(
        self, file: Path | str, key: str, expected: str = "", found: Any = None, *, detail: str = ""
    ) -> None:
        self.file = shown(file)
        self.key = key
        self.expected = expected
        self.found = found
        self.detail = detail
        where = f"{self.file}: {key}" if key else self.file
        problem = detail or f"expected {expected}, found {describe(found)}"
        super().__init__(f"{where}: {problem}")


def shown(path: Path | str) -> str:
    """A shipped file relative to the package (``trials/BLEND/trial.toml``); any other in full."""
    path = Path(path)
    try:
        return path.resolve().relative_to(PACKAGE_DIR.resolve()).as_posix()
    except ValueError:
        return str(path)


class Said(str):
    """What was found, described in words (``Said("no such file")``) rather than a value."""


def describe(found: Any) -> str:
    """What was found, as the trial team would write it: a value quoted, a description not."""
    if found is None:
        return "nothing"
    if isinstance(found, Said):
        return str(found)
    return repr(found)
