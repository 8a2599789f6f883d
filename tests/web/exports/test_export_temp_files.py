"""Attack: web exports must leave nothing in the temporary folder, after a download and
after an export that fails half-way (docs/security.md, section 11).

The temporary folder is a private one per test (``tempfile.tempdir``), so anything an
export, its zip or openpyxl's per-sheet files leave behind is seen."""

from __future__ import annotations

import errno
import io
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blend.apps.exports.models import ExportLog
from blend.apps.exports.services import FULL_FORMATS
from blend.apps.exports.tables import Table
from tests.pages import finish


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _left_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _download(client: Any, kind: str, formats: list[str] | None = None) -> tuple[Any, bytes]:
    response = client.post(f"/exports/{kind}/download/", {"format": formats or []})
    assert response.status_code == 200, response.content[:300]
    body = b"".join(response.streaming_content)
    return response, body


@pytest.mark.parametrize("fmt", [*FULL_FORMATS, "all"])
def test_a_full_export_download_leaves_nothing_behind(
    trial_cohort, client_for, private_tmp: Path, fmt: str
) -> None:
    formats = list(FULL_FORMATS) if fmt == "all" else [fmt]
    response, body = _download(client_for("datamanager_dirk"), "full", formats)
    # Already while the response is being sent, the folder holds nothing with a name.
    assert _left_in(private_tmp) == []
    finish(response)
    assert _left_in(private_tmp) == []
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert names and all("/" not in n for n in names)
    if fmt == "all":
        assert {"blend.xlsx", "blend_odm.xml", "data_dictionary_redcap.csv"} <= set(names)


def test_an_analysis_download_leaves_nothing_behind(
    trial_cohort, client_for, private_tmp: Path
) -> None:
    response, body = _download(client_for("statistician_stan"), "analysis")
    finish(response)
    assert _left_in(private_tmp) == []
    assert "participants.csv" in zipfile.ZipFile(io.BytesIO(body)).namelist()


def _failing_rows(original: Any) -> Any:
    """Table.rows that gives two rows of the first table and then finds the disk full."""

    def rows(self: Table) -> Iterator[tuple[Any, ...]]:
        for n, row in enumerate(original(self)):
            if n == 2:
                raise OSError(errno.ENOSPC, "No space left on device")
            yield row

    return rows


def _failing_chunks(original: Any) -> Any:
    """Table.text_chunks (the CSV and ODM writers read through it) that gives the first
    chunk and then finds the disk full."""

    def text_chunks(self: Table, **options: Any) -> Iterator[list[Any]]:
        for n, chunk in enumerate(original(self, **options)):
            if n == 1:
                raise OSError(errno.ENOSPC, "No space left on device")
            yield chunk
        raise OSError(errno.ENOSPC, "No space left on device")

    return text_chunks


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "sav", "odm"])
def test_an_export_that_fails_half_way_leaves_nothing_and_says_so(
    trial_cohort, client_for, private_tmp: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setattr(Table, "rows", _failing_rows(Table.rows))
    monkeypatch.setattr(Table, "text_chunks", _failing_chunks(Table.text_chunks))
    response = client_for("datamanager_dirk").post("/exports/full/download/", {"format": [fmt]})
    assert response.status_code == 503
    assert b"No space left on device" in response.content
    assert b'data-testid="export-error"' in response.content
    finish(response)
    assert _left_in(private_tmp) == []
    assert not ExportLog.objects.exists()  # nothing was handed out, so nothing is logged


def test_a_client_that_goes_away_half_way_leaves_nothing(
    trial_cohort, client_for, private_tmp: Path
) -> None:
    response = client_for("datamanager_dirk").post(
        "/exports/full/download/", {"format": list(FULL_FORMATS)}
    )
    next(iter(response.streaming_content))  # one chunk read, then the connection drops
    finish(response)
    assert _left_in(private_tmp) == []
