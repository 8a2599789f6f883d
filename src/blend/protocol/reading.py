"""Reading cohort and trial folders: TOML files, and typed values whose errors name the
file, the key, what was expected and what was found (no Django)."""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from blend.protocol.errors import ConfigError, ProtocolError, Said, shown


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, "", detail=f"not valid TOML ({error})") from error


@dataclass(frozen=True)
class FolderFiles:
    """The TOML files of one cohort or trial folder, by name without ``.toml``.

    ``paths`` says where each file came from: a file laid over the folder's own (a
    ``BLEND_PROTOCOL_DIR`` override) is named by its own path in errors.
    """

    folder: Path
    raw: Mapping[str, dict[str, Any]]
    paths: Mapping[str, Path] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        return self.paths.get(name, self.folder / f"{name}.toml")

    def get(self, name: str) -> dict[str, Any] | None:
        return self.raw.get(name)

    def replaced(self, name: str, raw: dict[str, Any], path: Path | None = None) -> FolderFiles:
        """A copy with one file replaced (or added)."""
        paths = dict(self.paths)
        if path is not None:
            paths[name] = path
        return FolderFiles(self.folder, {**self.raw, name: raw}, paths)


def read_folder(folder: Path) -> FolderFiles:
    """Every ``*.toml`` file of the folder (not of its subfolders)."""
    if not folder.is_dir():
        raise ProtocolError(f"{shown(folder)}: expected a folder of TOML files, found none there")
    return FolderFiles(
        folder, {path.stem: read_toml(path) for path in sorted(folder.glob("*.toml"))}
    )


def check_files(
    files: FolderFiles, required: Collection[str], optional: Collection[str] = ()
) -> None:
    """Refuse a folder that lacks a required file or holds a file nobody reads (a typo
    such as ``eligibilty.toml`` would otherwise be ignored without a word)."""
    for name in required:
        if name not in files.raw:
            raise ConfigError(files.folder / f"{name}.toml", "", "this file", Said("no such file"))
    known = [*required, *optional]
    for name in files.raw:
        if name not in known:
            raise ConfigError(
                files.path(name),
                "",
                f"one of the files {', '.join(f'{n}.toml' for n in known)}",
                Said(f"a file {name}.toml"),
            )


_KIND_NAMES = {
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    str: "text",
    list: "a list",
    dict: "a table",
}
_MISSING = object()


class Table:
    """One TOML table of one file. ``key`` paths grow as tables nest:
    ``arms.intervention.procedures[0].dose_gy``."""

    def __init__(self, raw: Any, file: Path, prefix: str = "") -> None:
        self.file, self.prefix = file, prefix
        if not isinstance(raw, Mapping):
            raise self.error("", "a table", raw)
        self.raw: Mapping[str, Any] = raw

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix and name else self.prefix or name

    def error(self, name: str, expected: str, found: Any) -> ConfigError:
        return ConfigError(self.file, self.key(name), expected, found)

    def __contains__(self, name: object) -> bool:
        return name in self.raw

    def names(self) -> Iterator[str]:
        return iter(self.raw)

    def value(self, name: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
        if name not in self.raw:
            if default is not _MISSING:
                return default
            raise self.error(name, f"the key {name!r}", Said(f"only the keys {sorted(self.raw)}"))
        value = self.raw[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        is_bool = isinstance(value, bool)
        if not isinstance(value, kinds) or (is_bool and bool not in kinds):
            raise self.error(
                name, " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds), value
            )
        return value

    def text(self, name: str, default: Any = _MISSING) -> str:
        value = self.value(name, str, default)
        if value is not default and not value.strip():
            raise self.error(name, "a non-empty text", value)
        return value

    def integer(self, name: str, minimum: int | None = None, default: Any = _MISSING) -> int:
        value = self.value(name, int, default)
        if value is not default and minimum is not None and value < minimum:
            raise self.error(name, f"a whole number ≥ {minimum}", value)
        return value

    def number(self, name: str, minimum: float | None = None, default: Any = _MISSING) -> float:
        value = self.value(name, (int, float), default)
        if value is not default and minimum is not None and value < minimum:
            raise self.error(name, f"a number ≥ {minimum:g}", value)
        return value

    def choice(self, name: str, choices: Collection[str], default: Any = _MISSING) -> str:
        value = self.value(name, str, default)
        if value is not default and value not in choices:
            raise self.error(name, f"one of {list(choices)}", value)
        return value

    def texts(self, name: str, default: Any = _MISSING, non_empty: bool = True) -> tuple[str, ...]:
        value = self.value(name, list, default)
        if value is default:
            return tuple(value)
        if (non_empty and not value) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error(
                name, "a non-empty list of texts" if non_empty else "a list of texts", value
            )
        if len(set(value)) != len(value):
            raise self.error(name, "a list without repeats", value)
        return tuple(value)

    def table(self, name: str, default: Any = _MISSING) -> Table:
        value = self.value(name, dict, default)
        return Table(value, self.file, self.key(name))

    def tables(self, name: str, default: Any = _MISSING) -> list[Table]:
        """An array of tables (``[[name]]``)."""
        value = self.value(name, list, default)
        return [Table(item, self.file, f"{self.key(name)}[{i}]") for i, item in enumerate(value)]

    def only(self, allowed: Collection[str]) -> None:
        """Refuse keys nobody reads (typos)."""
        for name in self.raw:
            if name not in allowed:
                raise self.error(name, f"only the keys {sorted(allowed)}", Said(f"a key {name!r}"))

    def forbid(self, names: Collection[str], why: str) -> None:
        for name in names:
            if name in self.raw:
                raise self.error(name, f"no key {name!r} ({why})", self.raw[name])


def wrapped(file: Path, error: Exception) -> ConfigError:
    """An error of the package that owns a section, re-issued with the file's full name.
    Its message starts with the bare file name (``eligibility.toml: ...``): that is dropped."""
    message = str(error)
    for prefix in (f"{file.name}: ", f"{file.name} "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
            break
    return ConfigError(file, "", detail=message)
