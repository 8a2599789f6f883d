"""Registering a trial: validate the folder against the cohort and the other trials, copy
it under ``BLEND_TRIALS_DIR`` and record who added it, all or nothing.

A trial is configuration (docs/trials.md): adding one needs no code and no migration.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from blend.apps.audit.services import record_event
from blend.apps.trials.models import TrialRegistration
from blend.protocol import (
    Trial,
    clear_caches,
    load_cohort,
    load_trials,
    trial_codes,
    validate_trial_folder,
)


class TrialRegistrationError(ValueError):
    """A trial folder that cannot be registered; the message says why."""


def registered_trials_dir() -> Path:
    return Path(settings.BLEND_TRIALS_DIR)


def registered_trial_dirs() -> tuple[str, ...]:
    """Where the registered trial folders are, for ``blend.protocol``'s loaders."""
    folder = registered_trials_dir()
    return (str(folder),) if folder.is_dir() else ()


def all_trials() -> dict[str, Trial]:
    """Every trial of the cohort, shipped and registered, validated."""
    return dict(load_trials(trial_dirs=registered_trial_dirs()))


def validate(source: Path) -> Trial:
    """The trial in ``source``, checked against the cohort and every trial already known."""
    if not (source / "trial.toml").is_file():
        raise TrialRegistrationError(
            f"{source}: expected a trial folder with a trial.toml, found none"
        )
    known = trial_codes(trial_dirs=registered_trial_dirs())
    return validate_trial_folder(source, load_cohort(), known)


def _checksum(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*.toml") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def add_trial(source: Path, *, user: Any) -> TrialRegistration:
    """Validate ``source`` and register it. A refused folder leaves nothing behind: the copy
    goes to a temporary folder that is renamed into place only once the row is written."""
    source = source.resolve()
    trial = validate(source)
    target_root = registered_trials_dir()
    target_root.mkdir(parents=True, exist_ok=True)
    target = target_root / trial.code
    if target.exists():
        raise TrialRegistrationError(f"trial {trial.code}: a folder {target} exists already")
    staging = Path(tempfile.mkdtemp(prefix=f".{trial.code}-", dir=target_root))
    try:
        shutil.copytree(
            source, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*", "__pycache__")
        )
        with transaction.atomic():
            registration = TrialRegistration.objects.create(
                code=trial.code,
                title=trial.title,
                folder=str(target),
                source=str(source),
                config_sha256=_checksum(staging),
                registered_at=timezone.now(),
                registered_by=user if getattr(user, "pk", None) else None,
            )
            record_event(
                "trial.add",
                actor=user,
                obj=registration,
                details={
                    "code": trial.code,
                    "source": str(source),
                    "sha256": registration.config_sha256,
                },
            )
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    clear_caches()
    return registration
