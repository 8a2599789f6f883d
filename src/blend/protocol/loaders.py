"""Loading the cohort and its trials, cached (no Django).

``load_cohort()``, ``load_trial(code)`` and ``load_trials()`` read the shipped folders,
the registered trial folders (``BLEND_TRIALS_DIRS``, ``trial_dirs``) and a
``BLEND_PROTOCOL_DIR`` override (laid over the cohort and BLEND as ``legacy.overlaid``
says), and validate everything they return. Results are cached per set of folders;
tests that change files on disk call ``clear_caches()``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from blend.protocol.cohort_config import COHORT_DIR, Cohort, cohort_from_files
from blend.protocol.errors import ConfigError, ProtocolError
from blend.protocol.legacy import LEGACY_TRIAL, legacy_sections, overlaid, read_override
from blend.protocol.reading import FolderFiles, read_folder
from blend.protocol.trial_config import Trial, all_trial_dirs, find_trial_folders, trial_from_files

OVERRIDE_ENV = "BLEND_PROTOCOL_DIR"


def override_folder(override_dir: str | None = None) -> str | None:
    """The ``BLEND_PROTOCOL_DIR`` folder (or the one given), checked to exist."""
    override = override_dir or os.environ.get(OVERRIDE_ENV)
    if override and not Path(override).is_dir():
        raise ProtocolError(f"{OVERRIDE_ENV}: expected a folder, got {override!r}")
    return override or None


def _files(override: str | None, trial_dirs: tuple[str, ...]) -> tuple[FolderFiles, FolderFiles]:
    """The cohort's and BLEND's files with the override laid over them."""
    folders = dict(find_trial_folders(trial_dirs))
    cohort, blend = read_folder(COHORT_DIR), read_folder(folders[LEGACY_TRIAL])
    if override is None:
        return cohort, blend
    return overlaid(cohort, blend, read_override(Path(override)))


def single_trial_sections(override: str | None) -> dict[str, Any]:
    """The sections ``load_protocol()`` has always returned (``legacy.legacy_sections``)."""
    cohort, blend = _files(override, ())
    return legacy_sections(cohort, blend, read_override(Path(override)) if override else None)


def load_cohort(override_dir: str | None = None) -> Cohort:
    """The cohort (``cohort/``, with a ``BLEND_PROTOCOL_DIR`` override laid over it)."""
    return _load_cohort(override_folder(override_dir))


@cache
def _load_cohort(override: str | None) -> Cohort:
    return cohort_from_files(_files(override, ())[0])


def load_trial(
    code: str, trial_dirs: Iterable[Path | str] = (), override_dir: str | None = None
) -> Trial:
    """One trial, validated against the cohort and the codes of the other trials found."""
    return _load_trial(code, all_trial_dirs(trial_dirs), override_folder(override_dir))


@cache
def _load_trial(code: str, trial_dirs: tuple[str, ...], override: str | None) -> Trial:
    folders = dict(find_trial_folders(trial_dirs))
    if code not in folders:
        raise ProtocolError(f"trial: expected one of {sorted(folders)}, got {code!r}")
    cohort = _load_cohort(override)
    files = _files(override, trial_dirs)[1] if code == LEGACY_TRIAL else read_folder(folders[code])
    named = files.raw.get("trial", {}).get("code")
    if named != code:  # only an override can rename BLEND: it would then stand for another trial
        raise ConfigError(
            files.path("trial"),
            "code",
            f"{code!r}: {OVERRIDE_ENV} overrides the "
            "BLEND trial; another trial is a folder of its own (docs/trials.md)",
            named,
        )
    return trial_from_files(files, cohort, [other for other in folders if other != code])


def load_trials(
    trial_dirs: Iterable[Path | str] = (), override_dir: str | None = None
) -> Mapping[str, Trial]:
    """Every trial found, by code (sorted), each validated: what start-up checks. The first
    invalid folder raises ``ConfigError`` naming its file and key."""
    dirs, override = all_trial_dirs(trial_dirs), override_folder(override_dir)
    codes = sorted(dict(find_trial_folders(dirs)))
    return MappingProxyType({code: _load_trial(code, dirs, override) for code in codes})


def clear_caches() -> None:
    """Forget every loaded cohort, trial and protocol (after files changed on disk)."""
    from blend.protocol import load_protocol

    for cached in (_load_cohort, _load_trial, find_trial_folders, load_protocol):
        cached.cache_clear()
