"""Large web imports run as a background task with progress (issue 14, item 12): the
upload is kept privately until the worker has run it, then removed; the page shows
progress and the report; nothing is half-written; a small upload stays synchronous."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tasks_db.models import DBTaskResult

from blend.apps.accounts.domain import Role
from blend.apps.accounts.models import User
from blend.apps.exports import jobs
from blend.apps.exports.models import ImportJob
from blend.apps.exports.tasks import run_import
from blend.apps.registry.models import Participant
from tests.web.exports.test_import import GOOD, HEADER
from tests.web.exports.test_import_checks import row, write


@pytest.fixture
def uploads(tmp_path, settings, monkeypatch) -> Path:  # type: ignore[no-untyped-def]
    settings.IMPORT_UPLOAD_DIR = str(tmp_path / "uploads")
    monkeypatch.setattr(jobs, "BACKGROUND_ROWS", 2)
    return tmp_path / "uploads"


def upload(client: Client, content: bytes, name: str = "cohort.csv") -> object:
    return client.post(
        "/exports/import/", {"kind": "participants", "file": SimpleUploadedFile(name, content)}
    )


def three_rows(tmp_path: Path) -> bytes:
    rows = [*GOOD, row(hospital_number="H100003", full_name="Derde Deelnemer")]
    return write(tmp_path / "c.csv", HEADER, rows).read_bytes()


def test_a_large_upload_is_queued_kept_privately_and_imported_by_the_worker(
    client_for, tmp_path, uploads, site, consent_version, django_capture_on_commit_callbacks
) -> None:
    client = client_for("datamanager_dirk")
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, three_rows(tmp_path))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exports/import/{job.pk}/"
    assert (job.status, job.rows_total, job.file_name) == ("queued", 3, "cohort.csv")
    assert not Participant.objects.exists()  # nothing is imported in the request
    queued = DBTaskResult.objects.get()
    assert queued.task_path.endswith("run_import") and queued.args_kwargs["args"] == [job.pk]
    saved = jobs.upload_path(job)
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(uploads.stat().st_mode) == 0o700

    page = client.get(f"/exports/import/{job.pk}/")
    assert (
        'hx-trigger="every 2s"' in page.content.decode()
        and "<script" not in (page.content.decode().split("<main", 1)[-1])
    )

    assert run_import.call(job.pk) == "done"
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.report["created"]) == ("done", 3, 3)
    assert Participant.objects.count() == 3
    assert not saved.exists()  # the upload is removed when the job ends

    finished = client.get(f"/exports/import/{job.pk}/", headers={"HX-Request": "true"})
    body = finished.content.decode()
    assert "every 2s" not in body and "3 rows; 3 imported" in body

    assert run_import.call(job.pk) == "done"  # a task delivered twice imports once
    assert Participant.objects.count() == 3


def test_a_rejected_background_file_writes_nothing_and_lists_the_rows(
    client_for, tmp_path, uploads, site, consent_version
) -> None:
    rows = [*GOOD, row(hospital_number="h100001")]  # the same number in another case
    client = client_for("datamanager_dirk")
    upload(client, write(tmp_path / "c.csv", HEADER, rows).read_bytes())
    job = ImportJob.objects.get()
    run_import.call(job.pk)
    job.refresh_from_db()
    assert job.status == "done" and job.report["rejected_count"] == 1
    assert not Participant.objects.exists()
    page = client.get(f"/exports/import/{job.pk}/").content.decode()
    assert "1 of 3 rows rejected" in page and "appears twice in this file" in page
    assert not jobs.upload_path(job).exists()


def test_a_background_file_that_is_not_utf8_fails_naming_its_encoding(
    client_for, tmp_path, uploads, site, consent_version
) -> None:
    rows = [*GOOD, row(hospital_number="H100009", full_name="Zoë Müller")]
    content = write(tmp_path / "c.csv", HEADER, rows, encoding="cp1252").read_bytes()
    client = client_for("datamanager_dirk")
    upload(client, content, name="excel.csv")
    job = ImportJob.objects.get()
    assert run_import.call(job.pk) == "failed"
    job.refresh_from_db()
    assert job.error.startswith("excel.csv: the file is not UTF-8")
    assert "Windows-1252" in job.error and "CSV UTF-8" in job.error
    assert "Windows-1252" in client.get(f"/exports/import/{job.pk}/").content.decode()
    assert not jobs.upload_path(job).exists() and not Participant.objects.exists()


def test_only_the_user_who_started_a_job_sees_it(
    client_for, tmp_path, uploads, site, consent_version
) -> None:
    upload(client_for("datamanager_dirk"), three_rows(tmp_path))
    job = ImportJob.objects.get()
    other = User.objects.create_user(
        "datamanager_two", password="x" * 20, role=Role.DATA_MANAGER.value, site=site
    )
    client = Client()
    client.force_login(other)
    assert client.get(f"/exports/import/{job.pk}/").status_code == 404
    assert client_for("monitor_mo").get(f"/exports/import/{job.pk}/").status_code == 403


def test_a_small_upload_stays_synchronous(
    client_for, tmp_path, uploads, site, consent_version
) -> None:
    content = write(tmp_path / "c.csv", HEADER, GOOD).read_bytes()
    response = upload(client_for("datamanager_dirk"), content)
    assert response.status_code == 200 and Participant.objects.count() == 2
    assert not ImportJob.objects.exists()


def test_the_page_names_an_unknown_column_and_a_foreign_encoding(
    client_for, tmp_path, site, consent_version
) -> None:
    client = client_for("datamanager_dirk")
    bsn = write(tmp_path / "b.csv", [*HEADER, "bsn"], [[*GOOD[0], "123456782"]]).read_bytes()
    response = upload(client, bsn)
    assert response.status_code == 400 and "unknown column bsn" in response.content.decode()
    cp1252 = write(tmp_path / "w.csv", HEADER, [row(full_name="José")], encoding="cp1252")
    response = upload(client, cp1252.read_bytes())
    assert response.status_code == 400 and "Windows-1252" in response.content.decode()
    assert not Participant.objects.exists()


def test_count_rows() -> None:
    assert jobs.count_rows([b"a,b\n1,2\n", b"3,4\n"]) == 2
    assert jobs.count_rows([b"a,b\n1,2\n3,4"]) == 2
    assert jobs.count_rows([b"a,b\n"]) == 0


@pytest.mark.django_db(transaction=True)
def test_progress_while_writing_is_seen_outside_the_import_transaction(personas) -> None:
    """On PostgreSQL the job's progress is saved on a connection of its own, so the page
    sees the rows written while the import's single transaction is still open."""
    from django.db import DEFAULT_DB_ALIAS, connections, transaction

    from tests.databases import require_postgres

    require_postgres()
    job = ImportJob.objects.create(user=personas["datamanager_dirk"], kind="participants")
    with transaction.atomic():
        jobs.record_progress(job.pk, "writing", 1234)
        reader = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with reader.cursor() as cursor:
                cursor.execute(
                    "SELECT status, rows_done FROM exports_importjob WHERE id = %s", [job.pk]
                )
                assert cursor.fetchone() == ("writing", 1234)
        finally:
            reader.close()
