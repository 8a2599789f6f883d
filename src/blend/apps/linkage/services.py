"""Routine-data linkage (docs/interoperability.md §3): the NCR linkage export, the BRP
vital-status import and the conflict queue. Every state change is one function here, in
one transaction, audited.

- ``export_ncr``: the members with a current "yes" to the linkage consent item
  (``consent.over_time.current_yes``), one row each: the pseudonymised key and the
  columns ``linkage.toml`` names. Logged in the export log (``exports.services``).
- ``import_brp``: the whole file is read and judged first; then every answer that agrees
  with the record goes through ``followup.services.record_vital_status`` (the staff entry's
  service: audited, a death stops every invitation and waits for its SAE review), and
  every disagreement becomes a ``LinkageConflict``. Any bad row refuses the file whole.
- ``resolve_conflict``: the data manager accepts the registry's answer (recorded through
  the same service) or keeps the recorded data, with a reason.
"""

from __future__ import annotations

import csv
import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.accounts.permissions import check
from blend.apps.audit.guards import WriteRefused
from blend.apps.audit.services import audited_save, record_event
from blend.apps.consent.over_time import current_yes
from blend.apps.exports.services import log_file_export
from blend.apps.followup.services import FollowupError, record_vital_status, vital_records
from blend.apps.linkage import domain
from blend.apps.linkage.domain import BrpFile, BrpRow, Recorded, Verdict
from blend.apps.linkage.models import ConflictState, LinkageConflict, LinkageRun, RunKind
from blend.apps.registry.models import Participant
from blend.protocol import load_cohort
from blend.protocol.linkage import NcrLinkage, load_linkage

SECRET_SETTING = "BLEND_LINKAGE_KEY"
EXPORT_KIND = "linkage_ncr"


class LinkageError(ValueError):
    """A linkage request that cannot be carried out; the message names what and why."""


def linkage_secret() -> str:
    """The linkage key's secret (``BLEND_LINKAGE_KEY`` or ``BLEND_LINKAGE_KEY_FILE``)."""
    secret = getattr(settings, "LINKAGE_KEY", None)
    if not secret or len(secret) < 32:
        raise LinkageError(
            f"{SECRET_SETTING}: expected the linkage secret shared with the trusted third "
            f"party, at least 32 characters (or {SECRET_SETTING}_FILE), got "
            f"{'nothing' if not secret else f'{len(secret)} characters'}"
        )
    return secret


# --------------------------------------------------------------------------- NCR export


def _key_values(row: dict[str, Any], key_from: tuple[str, ...]) -> list[str]:
    values = {
        "site": row["site__code"],
        "hospital_number": row["identity__hospital_number"],
        "date_of_birth": row["identity__date_of_birth"].isoformat(),
    }
    return [values[name] for name in key_from]


def _ncr_row(
    row: dict[str, Any], consent_on: date, config: NcrLinkage, secret: str
) -> dict[str, str]:
    values = {
        "linkage_key": domain.linkage_key(secret, _key_values(row, config.key_from)),
        "study_id": row["study_id"],
        "sex": row["sex"],
        "birth_year": str(row["birth_year"]),
        "site": row["site__code"],
        "registered_on": row["registered_on"].isoformat(),
        "primary_tumour": row["primary_tumour"],
        "metastases_diagnosed_on": row["metastases_diagnosed_on"].isoformat(),
        "consent_on": consent_on.isoformat(),
    }
    return {name: values[name] for name in config.fields}


_MEMBER_VALUES = (
    "id",
    "study_id",
    "sex",
    "birth_year",
    "site__code",
    "registered_on",
    "primary_tumour",
    "metastases_diagnosed_on",
    "identity__hospital_number",
    "identity__date_of_birth",
)


def ncr_rows() -> tuple[list[dict[str, str]], int]:
    """The NCR file's rows (members with a current linkage "yes", by study ID) and the
    number of cohort members considered."""
    config, secret = load_linkage().ncr, linkage_secret()
    # A member who left the cohort (its first item, participation, withdrawn) is not
    # linked either, whatever the linkage item still says.
    in_cohort = current_yes(load_cohort().consent_codes[0])
    consented = {
        pid: on for pid, on in current_yes(config.consent_item).items() if pid in in_cohort
    }
    members = (
        Participant.objects.filter(pk__in=list(consented), identity__isnull=False)
        .order_by("study_id")
        .values(*_MEMBER_VALUES)
    )
    rows = [_ncr_row(m, consented[m["id"]], config, secret) for m in members]
    return rows, Participant.objects.count()


def _write_atomically(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    """Write beside ``path`` and rename, so a failed export leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".ncr-", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def export_ncr(path: Path, *, user: User | None, via: str = "cli") -> LinkageRun:
    """Write the NCR linkage file to ``path``; logged in the export log and as a run."""
    check(user, Cap.LINKAGE)
    rows, cohort = ncr_rows()
    columns = load_linkage().ncr.fields
    _write_atomically(path, columns, rows)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with transaction.atomic():
        run = LinkageRun.objects.create(
            kind=RunKind.NCR_EXPORT,
            user=user,
            via=via,
            file_name=path.name,
            sha256=digest,
            rows=len(rows),
            eligible=cohort,
        )
        log_file_export(
            EXPORT_KIND,
            path,
            user=user,
            via=via,
            rows={"ncr_linkage": len(rows)},
            details={"columns": ",".join(columns), "linkage_run": str(run.pk)},
        )
        record_event(
            "linkage.ncr_export",
            actor=user,
            obj=run,
            details={"rows": len(rows), "cohort": cohort, "columns": list(columns)},
        )
    return run


# --------------------------------------------------------------------------- BRP import


@dataclass(frozen=True)
class ImportResult:
    run: LinkageRun
    unmatched_rows: tuple[int, ...]  # the file's rows that matched no member


def read_upload(data: bytes) -> str:
    """The file's text, or a refusal naming the encoding problem (nothing is read)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise domain.BrpFileError(
            [
                domain.Problem(
                    0,
                    "(file)",
                    "a UTF-8 text file (save the CSV as UTF-8)",
                    f"a byte {data[error.start]:#04x} at position {error.start} that is not UTF-8",
                )
            ]
        ) from None


def _members(brp: BrpFile) -> dict[str, int]:
    """The file's member values that match a cohort member → the participant's id."""
    if brp.member_column == "study_id":
        wanted = [row.member for row in brp.rows]
        return dict(Participant.objects.filter(study_id__in=wanted).values_list("study_id", "id"))
    config, secret = load_linkage().ncr, linkage_secret()
    return {
        domain.linkage_key(secret, _key_values(m, config.key_from)): m["id"]
        for m in Participant.objects.filter(identity__isnull=False).values(*_MEMBER_VALUES)
    }


@dataclass(frozen=True)
class _Judged:
    row: BrpRow
    participant_id: int
    verdict: Verdict
    kind: domain.ConflictKind | None
    recorded: dict[str, Any]


def _judge_all(brp: BrpFile, members: dict[str, int]) -> tuple[list[_Judged], list[int]]:
    matched = [(row, members[row.member]) for row in brp.rows if row.member in members]
    unmatched = [row.row for row in brp.rows if row.member not in members]
    pids = [pid for _, pid in matched]
    held = vital_records(pids)
    entry = dict(Participant.objects.filter(pk__in=pids).values_list("id", "registered_on"))
    judged = []
    for row, pid in matched:
        h = held[pid]
        recorded = Recorded(
            entry[pid], h["died_on"], h["last_contact_on"], h["last_questionnaire_on"]
        )
        verdict, kind = domain.judge(row, recorded)
        judged.append(_Judged(row, pid, verdict, kind, h))
    return judged, unmatched


def _apply(item: _Judged, participant: Participant, run: LinkageRun, user: User) -> None:
    row, reason = item.row, f"BRP vital-status linkage (run {run.pk}, row {item.row.row})"
    try:
        if row.died_on is not None:
            record_vital_status(
                participant,
                last_contact_on=row.died_on,
                died_on=row.died_on,
                user=user,
                reason=reason,
            )
        else:
            assert row.alive_on is not None
            record_vital_status(participant, last_contact_on=row.alive_on, user=user, reason=reason)
    except (FollowupError, WriteRefused) as error:
        raise domain.BrpFileError(
            [
                domain.Problem(
                    row.row,
                    "died_on" if row.died_on else "alive_on",
                    "a value the vital-status form accepts",
                    str(error),
                )
            ]
        ) from None


def _queue(item: _Judged, run: LinkageRun, user: User) -> None:
    """One open conflict per member, kind and registry answer (a file read again adds none)."""
    same = LinkageConflict.objects.filter(
        participant_id=item.participant_id,
        kind=item.kind,
        state=ConflictState.OPEN,
        registry_died_on=item.row.died_on,
        registry_alive_on=item.row.alive_on,
    )
    if same.exists():
        return
    conflict = LinkageConflict(
        participant_id=item.participant_id,
        run=run,
        kind=str(item.kind),
        registry_died_on=item.row.died_on,
        registry_alive_on=item.row.alive_on,
        recorded_died_on=item.recorded["died_on"],
        recorded_last_contact_on=item.recorded["last_contact_on"],
    )
    audited_save(conflict, user=user)
    record_event(
        "linkage.conflict",
        actor=user,
        participant=conflict.participant,
        obj=conflict,
        details={"kind": str(item.kind), "row": item.row.row},
    )


def import_brp(data: bytes, *, file_name: str, user: User, via: str = "cli") -> ImportResult:
    """Apply a BRP vital-status file: all of it or, when any row is bad, none of it."""
    check(user, Cap.LINKAGE)
    brp = domain.parse_brp(read_upload(data), timezone.localdate())
    judged, unmatched = _judge_all(brp, _members(brp))
    count = {v: sum(1 for j in judged if j.verdict == v) for v in Verdict}
    with transaction.atomic():
        run = LinkageRun.objects.create(
            kind=RunKind.BRP_IMPORT,
            user=user,
            via=via,
            file_name=file_name[:255],
            sha256=hashlib.sha256(data).hexdigest(),
            rows=len(brp.rows),
            matched=len(judged),
            applied=count[Verdict.APPLY],
            unchanged=count[Verdict.SAME],
            conflicts=count[Verdict.CONFLICT],
        )
        participants = Participant.objects.in_bulk([j.participant_id for j in judged])
        for item in judged:
            if item.verdict == Verdict.APPLY:
                _apply(item, participants[item.participant_id], run, user)
            elif item.verdict == Verdict.CONFLICT:
                _queue(item, run, user)
        record_event(
            "linkage.brp_import",
            actor=user,
            obj=run,
            details={
                "rows": run.rows,
                "matched": run.matched,
                "applied": run.applied,
                "unchanged": run.unchanged,
                "conflicts": run.conflicts,
                "sha256": run.sha256,
            },
        )
    return ImportResult(run, tuple(unmatched))


# ------------------------------------------------------------------------ conflict queue


def open_conflicts() -> list[LinkageConflict]:
    return list(
        LinkageConflict.objects.filter(state=ConflictState.OPEN).select_related(
            "participant", "run"
        )
    )


def _accept(conflict: LinkageConflict, user: User, reason: str) -> None:
    participant = conflict.participant
    held = vital_records([participant.pk])[participant.pk]
    why = f"registry linkage conflict {conflict.pk} resolved: registry accepted ({reason})"
    try:
        if conflict.registry_died_on is not None:
            record_vital_status(
                participant,
                last_contact_on=conflict.registry_died_on,
                died_on=conflict.registry_died_on,
                cause_of_death=held["cause_of_death"],
                user=user,
                reason=why,
            )
        else:  # alive at a date after the recorded death: the death was recorded in error
            assert conflict.registry_alive_on is not None
            record_vital_status(
                participant, last_contact_on=conflict.registry_alive_on, user=user, reason=why
            )
    except (FollowupError, WriteRefused) as error:
        raise LinkageError(
            f"decision: the registry's answer cannot be recorded ({error}); keep the recorded "
            "data, or correct the vital status on the participant's page"
        ) from None


@transaction.atomic
def resolve_conflict(
    conflict: LinkageConflict, *, decision: str, reason: str, user: User
) -> LinkageConflict:
    """Accept the registry's answer (recorded through the vital-status service) or keep
    the recorded data. Either way with a reason, audited; a resolved conflict stays so."""
    check(user, Cap.LINKAGE)
    if decision not in {"accept", "keep"}:
        raise LinkageError(f"decision: expected accept or keep, got {decision!r}")
    if not reason.strip():
        raise LinkageError("reason: expected the reason for the decision, got nothing")
    conflict = LinkageConflict.objects.select_for_update().get(pk=conflict.pk)
    if conflict.state != ConflictState.OPEN:
        raise LinkageError(f"conflict: expected an open conflict, got one already {conflict.state}")
    if decision == "accept":
        _accept(conflict, user, reason.strip())
    conflict.state = ConflictState.ACCEPTED if decision == "accept" else ConflictState.KEPT
    conflict.resolved_by, conflict.resolved_at = user, timezone.now()
    conflict.resolution_reason = reason.strip()
    audited_save(conflict, user=user, reason=reason.strip())
    record_event(
        "linkage.conflict_resolved",
        actor=user,
        participant=conflict.participant,
        obj=conflict,
        reason=reason.strip(),
        details={"decision": decision, "kind": conflict.kind},
    )
    return conflict


# ------------------------------------------------------------------ for the CONSORT note


def _note(run: LinkageRun, open_conflicts: int) -> dict[str, Any]:
    if run.kind == RunKind.NCR_EXPORT:
        return {
            "source": "NCR",
            "data": "linkage file (pseudonymised key and cohort fields)",
            "on": timezone.localdate(run.at).isoformat(),
            "records": run.rows,
            "of": run.eligible,
            "matched": None,
            "match_rate": None,
        }
    return {
        "source": "BRP",
        "data": "vital status (date of death, or alive at a date)",
        "on": timezone.localdate(run.at).isoformat(),
        "records": run.rows,
        "of": None,
        "matched": run.matched,
        "match_rate": domain.match_rate(run.matched, run.rows),
        "conflicts_open": open_conflicts,
    }


def linkage_note(trial: str | None = None) -> list[dict[str, Any]] | None:
    """What was linked, when, and the match rate: the latest run of each kind (the
    ``linkage`` key of the analysis dataset; None when nothing was ever linked). Linkage
    is the cohort's, so the note is the same for every trial."""
    latest = [
        LinkageRun.objects.filter(kind=kind).order_by("-at", "-id").first() for kind in RunKind
    ]
    runs = [run for run in latest if run is not None]
    if not runs:
        return None
    waiting = LinkageConflict.objects.filter(state=ConflictState.OPEN).count()
    return [_note(run, waiting) for run in runs]
