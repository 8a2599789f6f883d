"""Export services: the analysis dataset and the full export, each logged (who, when, what)."""

from __future__ import annotations

import getpass
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import transaction

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.accounts.permissions import check
from blend.apps.allocation import blinding
from blend.apps.audit.services import record_event
from blend.apps.exports import formats
from blend.apps.exports.analysis import build_analysis_dataset, write_analysis_dataset
from blend.apps.exports.models import ExportLog
from blend.apps.exports.tables import arms_only_of, export_tables
from blend.apps.trials.lookup import trial_code_or_default

FULL_FORMATS = ("csv", "xlsx", "sav", "dta", "dictionary", "odm")


class ExportError(ValueError):
    """An export request that cannot be carried out; the message names the option."""


#: name -> provider(trial code) of an extra ``dataset.json`` key, or None to leave it out.
DatasetNote = Callable[[str], Any]
_dataset_notes: dict[str, DatasetNote] = {}


def register_dataset_note(name: str, provider: DatasetNote) -> None:
    """Add the key ``name`` to the analysis dataset's ``dataset.json`` (the contract allows
    other keys). A higher app registers in its ``AppConfig.ready``: linkage gives the
    "linkage" note that the CONSORT diagram and the report state."""
    _dataset_notes[name] = provider


def log_file_export(
    kind: str,
    path: Path,
    *,
    user: User | None,
    via: str,
    rows: dict[str, int],
    details: dict[str, str] | None = None,
) -> ExportLog:
    """Log one exported file written by another app (the NCR linkage file): who, when,
    how many rows and its SHA-256, in the same export log as every other export."""
    with transaction.atomic():
        entry = ExportLog.objects.create(
            user=user if getattr(user, "pk", None) else None,
            via=via,
            os_user=getpass.getuser() if via == "cli" else "",
            kind=kind,
            formats=[path.suffix.lstrip(".") or "file"],
            rows=rows,
            files={path.name: hashlib.sha256(path.read_bytes()).hexdigest()},
        )
        record_event(
            f"export.{kind}",
            actor=user,
            obj=entry,
            details={**(details or {}), "rows": rows, "via": via},
        )
    return entry


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: _sha256(p) for p in sorted(folder.iterdir()) if p.is_file()}


def _sha256(path: Path) -> str:
    """Read in blocks: an export file can be larger than the memory an export may use."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _log(
    kind: str,
    folder: Path,
    *,
    user: User | None,
    via: str,
    fmts: list[str],
    rows: dict[str, int],
    details: dict[str, str] | None = None,
) -> ExportLog:
    with transaction.atomic():
        entry = ExportLog.objects.create(
            user=user if getattr(user, "pk", None) else None,
            via=via,
            os_user=getpass.getuser() if via == "cli" else "",
            kind=kind,
            formats=fmts,
            rows=rows,
            files=_digests(folder),
        )
        record_event(
            f"export.{kind}",
            actor=user,
            obj=entry,
            details={**(details or {}), "formats": fmts, "rows": rows, "via": via},
        )
    return entry


def _authorize(user: User | None, via: str) -> None:
    if (
        via != "cli" or user is not None
    ):  # the command line is trusted as the server operator when no user is named
        check(user, Cap.EXPORT)


def _arm_trials(user: User | None) -> frozenset[str] | None:
    """The trials whose arms ``user`` may export (None: every trial, for the operator)."""
    return None if user is None else blinding.sees_arms_in(user)


def export_analysis(
    folder: Path, *, user: User | None = None, via: str = "cli", trial: str | None = None
) -> ExportLog:
    """The contract dataset of ``trial`` (the default trial for None). It holds the
    trial's arms, so a named user needs ``allocation.view`` in that trial."""
    _authorize(user, via)
    code = trial_code_or_default(trial)
    if user is not None:
        check(user, Cap.ALLOCATION_VIEW, trial=code)
    dataset = build_analysis_dataset(trial=code)
    for name, provider in _dataset_notes.items():
        note = provider(code)
        if note is not None:
            dataset.meta[name] = note
    rows = write_analysis_dataset(folder, dataset)
    return _log(
        "analysis",
        folder,
        user=user,
        via=via,
        fmts=["csv"],
        rows=rows,
        details={"trial": dataset.meta["trial"]},
    )


def export_full(
    folder: Path, fmts: list[str] | None = None, *, user: User | None = None, via: str = "cli"
) -> ExportLog:
    _authorize(user, via)
    chosen = list(fmts or FULL_FORMATS)
    unknown = [f for f in chosen if f not in FULL_FORMATS]
    if unknown:
        raise ExportError(
            f"format: expected some of {', '.join(FULL_FORMATS)}, got {', '.join(unknown)}"
        )
    folder.mkdir(parents=True, exist_ok=True)
    # allocation.view is held per trial: the arms of a trial the user may not see stay out.
    tables = arms_only_of(
        export_tables(), _arm_trials(user), blinding.hidden_forms(user) if user else frozenset()
    )
    rows: dict[str, int] = {}
    writers = {
        "csv": lambda: rows.update(formats.write_csv(folder, tables)),
        "xlsx": lambda: formats.write_excel(folder / "blend.xlsx", tables),
        "sav": lambda: formats.write_spss(folder, tables),
        "dta": lambda: formats.write_stata(folder, tables),
        "dictionary": lambda: formats.write_dictionary(
            folder / "data_dictionary_redcap.csv", tables
        ),
        "odm": lambda: formats.write_odm(folder / "blend_odm.xml", tables),
    }
    for name in chosen:
        writers[name]()
    if not rows:
        rows = {t.name: t.queryset().count() for t in tables}
    return _log("full", folder, user=user, via=via, fmts=chosen, rows=rows)


def log_export(
    kind: str,
    folder: Path,
    *,
    user: User | None,
    via: str,
    fmts: list[str],
    rows: dict[str, int],
    details: dict[str, str] | None = None,
) -> ExportLog:
    """Log an export that another app wrote into ``folder`` (the FHIR export), exactly as
    this app logs its own: the ExportLog row with every file's SHA-256, and the audit event."""
    return _log(kind, folder, user=user, via=via, fmts=fmts, rows=rows, details=details)


def authorize_export(user: User | None, via: str) -> None:
    """The ``export`` capability, as every export checks it (the command line without a
    named user is the server operator)."""
    _authorize(user, via)
