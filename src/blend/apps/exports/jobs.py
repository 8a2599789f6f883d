"""Large web imports run in the background, with progress.

A web upload of more than ``BACKGROUND_ROWS`` rows would outlast the web worker's
timeout, so it is saved as a private file (``upload_dir()``, readable only by the
platform's own user), an ``ImportJob`` is created, and the ``run_import`` task of the
tasks framework (the one the outbox uses; ``blend db-worker`` runs it) imports it. The
job records the rows validated and the report; the import page polls it. The upload
is removed when the job ends, whatever the outcome. Small uploads are imported at once,
as before. Either way the import itself is the same all-or-nothing
``imports.import_participants`` / ``import_questionnaires``.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.accounts.permissions import check
from blend.apps.audit.services import record_event
from blend.apps.exports.imports import (
    ImportReport,
    Progress,
    import_participants,
    import_questionnaires,
)
from blend.apps.exports.models import ImportJob, ImportStatus

logger = logging.getLogger(__name__)

BACKGROUND_ROWS = 500  # writing runs at about 100 rows/s: 500 stay well inside a web timeout
RUNNERS = {"participants": import_participants, "questionnaires": import_questionnaires}


def upload_dir() -> Path:
    """Where uploads wait for the worker: ``settings.IMPORT_UPLOAD_DIR``
    (``BLEND_IMPORT_UPLOAD_DIR``, by default ``var/imports``), kept at mode 0700."""
    folder = Path(settings.IMPORT_UPLOAD_DIR)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    return folder


def count_rows(chunks: Iterable[bytes]) -> int:
    """Data rows of an upload, counted by line ends (a quoted line break counts as one more)."""
    lines, last = 0, b"\n"
    for chunk in chunks:
        lines += chunk.count(b"\n")
        last = chunk[-1:] or last
    if last != b"\n":
        lines += 1  # a last line without a line end
    return max(0, lines - 1)  # the header


def upload_path(job: ImportJob) -> Path:
    return upload_dir() / f"import-{job.pk}.csv"


@transaction.atomic
def start_import(
    chunks: Iterable[bytes], *, name: str, kind: str, dry_run: bool, rows: int, user: User
) -> ImportJob:
    """Save the upload privately, record the job and queue it for the worker."""
    check(user, Cap.IMPORT)
    if kind not in RUNNERS:
        raise ValueError(f"kind: expected participants or questionnaires, got {kind!r}")
    job = ImportJob.objects.create(
        user=user, kind=kind, file_name=name[:255], dry_run=dry_run, rows_total=rows
    )
    target = upload_path(job)
    partial = target.with_name(f".{uuid.uuid4().hex}.part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
    partial.replace(target)
    try:
        record_event(
            "import.queued",
            actor=user,
            obj=job,
            details={"kind": kind, "file": job.file_name, "rows": rows, "dry_run": dry_run},
        )
    except Exception:
        target.unlink(missing_ok=True)  # the job is rolled back: its upload goes too
        raise
    from blend.apps.exports.tasks import run_import

    transaction.on_commit(lambda: run_import.enqueue(job.pk))
    return job


def record_progress(job_id: int, status: str, rows: int) -> None:
    """Save a job's progress where the page can read it at once. While the import's own
    transaction is open (writing), PostgreSQL takes the update on a connection of its own,
    so it is not held back until the commit; SQLite, with one writer at a time, shows the
    writing phase as one step."""
    if not connection.in_atomic_block:
        ImportJob.objects.filter(pk=job_id).update(status=status, rows_done=rows)
        return
    if connection.vendor != "postgresql":
        return
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with side.cursor() as cursor:
            table = side.ops.quote_name(ImportJob._meta.db_table)
            cursor.execute(
                f"UPDATE {table} SET status = %s, rows_done = %s WHERE id = %s",  # noqa: S608
                [status, rows, job_id],
            )
    finally:
        side.close()


def _progress(job: ImportJob) -> Progress:
    def update(phase: str, rows: int) -> None:
        status = ImportStatus.WRITING if phase == "writing" else ImportStatus.VALIDATING
        record_progress(job.pk, status, rows)

    return update


def run_job(job_id: int) -> ImportJob:
    """Run a queued job (the task calls this). A job already started is left alone, so a
    task delivered twice imports once."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.VALIDATING
    )
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    if not claimed:
        return job
    path = upload_path(job)
    try:
        report = RUNNERS[job.kind](
            path, user=job.user, dry_run=job.dry_run, progress=_progress(job)
        )
        job.report, job.status = report.as_dict(), ImportStatus.DONE
        job.rows_done = report.rows
    except (ValueError, PermissionDenied) as error:  # the file refused whole: its words
        job.status, job.error = ImportStatus.FAILED, str(error).replace(path.name, job.file_name)
    except Exception:
        logger.exception("import job %s failed", job.pk)
        job.status = ImportStatus.FAILED
        job.error = "the import stopped on an unexpected error; nothing was imported"
    finally:
        path.unlink(missing_ok=True)
    job.finished_at = timezone.now()
    job.save(update_fields=["report", "status", "rows_done", "error", "finished_at"])
    return job


def report_of(job: ImportJob) -> ImportReport | None:
    return ImportReport.from_dict(job.report) if job.report else None
