"""Attacks on the CSV import (issue 14, item 12): unknown columns are refused, not
dropped; a file that is not UTF-8 is named; bad dates name the format and the value;
hospital numbers are compared without regard to case; the import refuses exactly what
the registration form refuses; errors are capped but counted; chunks join up."""

from __future__ import annotations

import csv
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from blend.apps.exports import imports
from blend.apps.exports.imports import ImportFileError, import_participants
from blend.apps.registry.forms import RegistrationForm
from blend.apps.registry.models import Identity, Participant
from tests.web.exports.test_import import GOOD, HEADER


def write(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def row(**changes: str) -> list[str]:
    values = dict(zip(HEADER, GOOD[0], strict=True)) | changes
    return [values[c] for c in HEADER]


def test_an_unknown_column_is_refused_not_dropped(
    tmp_path, personas, site, consent_version
) -> None:
    path = write(tmp_path / "c.csv", [*HEADER, "bsn"], [[*GOOD[0], "123456782"]])
    with pytest.raises(ImportFileError) as refused:
        import_participants(path, user=personas["datamanager_dirk"])
    message = str(refused.value)
    assert "unknown column bsn" in message and "refused" in message
    assert "Expected only the columns hospital_number, full_name" in message
    assert not Participant.objects.exists()


def test_the_command_refuses_an_unknown_column(tmp_path, personas, site, consent_version) -> None:
    path = write(tmp_path / "c.csv", [*HEADER, "bsn"], [[*GOOD[0], "123456782"]])
    with pytest.raises(CommandError, match="unknown column bsn"):
        call_command(
            "import_data",
            "participants",
            str(path),
            "--user",
            "datamanager_dirk",
            stdout=StringIO(),
            stderr=StringIO(),
        )
    assert not Identity.objects.exists()


def test_a_windows_1252_file_is_named_with_a_hint(
    tmp_path, personas, site, consent_version
) -> None:
    path = write(tmp_path / "c.csv", HEADER, [row(full_name="José Müller")], encoding="cp1252")
    with pytest.raises(ImportFileError) as refused:
        import_participants(path, user=personas["datamanager_dirk"])
    assert str(refused.value) == (
        "c.csv: the file is not UTF-8 (line 2 cannot be read as UTF-8); it looks like "
        "Windows-1252 (Excel's 'CSV' format). Save it as 'CSV UTF-8' and upload again."
    )
    assert not Participant.objects.exists()


def test_a_utf16_file_is_named(tmp_path, personas, site, consent_version) -> None:
    path = write(tmp_path / "c.csv", HEADER, GOOD, encoding="utf-16")
    with pytest.raises(ImportFileError, match=r"UTF-16 \(Excel's 'Unicode Text' format\)"):
        import_participants(path, user=personas["datamanager_dirk"])


def test_a_utf8_file_with_a_byte_order_mark_imports(
    tmp_path, personas, site, consent_version
) -> None:
    path = write(tmp_path / "c.csv", HEADER, [row(full_name="José Müller")], encoding="utf-8-sig")
    report = import_participants(path, user=personas["datamanager_dirk"])
    assert report.ok and Identity.objects.get().full_name == "José Müller"


def test_a_bad_date_names_the_format_and_the_value(
    tmp_path, personas, site, consent_version
) -> None:
    path = write(tmp_path / "c.csv", HEADER, [GOOD[1], row(registered_on="03/01/2026")])
    report = import_participants(path, user=personas["datamanager_dirk"])
    assert not report.ok and report.rejected[0][0] == 3
    assert (
        "column registered_on: expected a date as YYYY-MM-DD (e.g. 2026-03-01), "
        "received '03/01/2026'"
    ) in report.rejected[0][1]
    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_data", "participants", str(path), "--user", "datamanager_dirk",
            stdout=StringIO(), stderr=err,
        )  # fmt: skip
    assert "row 3, column registered_on: expected a date as YYYY-MM-DD" in err.getvalue()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"date_of_birth": "1850-05-05"}, "column date_of_birth: Expected a date between 1900"),
        ({"date_of_birth": "9999-01-01"}, "received '9999-01-01'"),
        ({"registered_on": "2099-01-01", "consent_on": "2099-01-01"}, "column registered_on:"),
        ({"date_of_birth": "2024-06-01"}, "Cohort entry cannot be before the date of birth"),
        ({"date_of_birth": "2024-02-30"}, "received '2024-02-30'"),
        ({"email": "not-an-address"}, "column email:"),
        ({"consent_c": "no", "consent_a": "yes"}, None),
    ],
)
def test_date_and_contact_rules(
    tmp_path, personas, site, consent_version, changes, expected
) -> None:
    report = import_participants(
        write(tmp_path / "c.csv", HEADER, [row(**changes)]), user=personas["datamanager_dirk"]
    )
    if expected is None:
        assert report.ok
    else:
        assert not report.ok and expected in report.rejected[0][1], report.rejected


def test_hospital_numbers_differing_in_case_are_one_number_in_the_file(
    tmp_path, personas, site, consent_version
) -> None:
    path = write(tmp_path / "c.csv", HEADER, [GOOD[0], row(hospital_number="h100001")])
    report = import_participants(path, user=personas["datamanager_dirk"])
    assert not report.ok and report.rejected == [
        (
            3,
            "column hospital_number: appears twice in this file (compared without regard to "
            "case; first on row 2)",
        )
    ]
    assert not Participant.objects.exists()


def test_hospital_numbers_differing_in_case_are_one_number_in_the_cohort(
    tmp_path, personas, site, consent_version
) -> None:
    dirk = personas["datamanager_dirk"]
    assert import_participants(write(tmp_path / "a.csv", HEADER, [GOOD[0]]), user=dirk).ok
    same = import_participants(
        write(tmp_path / "b.csv", HEADER, [row(hospital_number="h100001")]), user=dirk
    )
    assert (same.ok, same.created, same.unchanged) == (True, 0, 1)
    changed = import_participants(
        write(tmp_path / "c.csv", HEADER, [row(hospital_number="h100001", performance_status="3")]),
        user=dirk,
    )
    assert not changed.ok and "already registered" in changed.rejected[0][1]
    assert Identity.objects.count() == 1


def test_errors_are_capped_but_every_rejected_row_is_counted(
    tmp_path, personas, site, consent_version, monkeypatch
) -> None:
    monkeypatch.setattr(imports, "MAX_REPORTED", 5)
    monkeypatch.setattr(imports, "CHUNK_ROWS", 4)
    rows = [row(hospital_number=f"H2{n:05d}", sex="man") for n in range(12)]
    report = import_participants(
        write(tmp_path / "c.csv", HEADER, rows), user=personas["datamanager_dirk"]
    )
    assert (report.rejected_count, len(report.rejected)) == (12, 5)
    assert [r for r, _ in report.rejected] == [2, 3, 4, 5, 6]
    assert "12 of 12 rows rejected (the first 5 are listed)" in report.summary()


def test_duplicates_and_row_numbers_across_chunks(
    tmp_path, personas, site, consent_version, monkeypatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 3)
    monkeypatch.setattr(imports.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    read_chunk, chunks_read = imports._columns, []
    monkeypatch.setattr(imports, "_columns", lambda *a: chunks_read.append(1) or read_chunk(*a))
    rows = [row(hospital_number=f"H3{n:05d}") for n in range(7)]
    rows.append(row(hospital_number="h300001"))  # row 9 repeats row 3, two chunks earlier
    rows.append(row(hospital_number="H399999", performance_status="9"))  # row 10
    report = import_participants(
        write(tmp_path / "c.csv", HEADER, rows), user=personas["datamanager_dirk"]
    )
    reasons = dict(report.rejected)
    assert sorted(reasons) == [9, 10]
    assert "first on row 3" in reasons[9] and "performance_status" in reasons[10]
    assert len(chunks_read) == 3  # 9 rows, 3 a chunk: the repeat was found across chunks
    assert not any((tmp_path / "tmp").iterdir())  # the duplicate check's file is gone
    ok = import_participants(
        write(tmp_path / "d.csv", HEADER, rows[:7]), user=personas["datamanager_dirk"]
    )
    assert (ok.ok, ok.created) == (True, 7)


# The import and the registration form refuse the same rows (the vectorised pass
# is a faster way of applying the form's rules, not other rules).
AGREEMENT = [
    {},
    {"date_of_birth": "1850-01-01"},
    {"date_of_birth": "1900-01-01", "registered_on": "2010-01-01"},
    {"date_of_birth": "2006-03-01"},  # 18 by year at entry 2024
    {"date_of_birth": "2007-03-01"},  # 17: R01
    {"date_of_birth": "1913-01-01"},  # 111: R01
    {"registered_on": "2099-01-01"},
    {"metastases_diagnosed_on": "2024-03-01"},
    {"metastases_diagnosed_on": "1950-01-01"},
    {"hospital_number": "H 1"},
    {"hospital_number": "abc"},
    {"hospital_number": "x" * 31},
    {"email": "a@b"},
    {"email": "anna@example.org"},
    {"email": "anna@@example.org"},
    {"email": "anna.@example.org"},
    {"email": "anna@exa mple.org"},
    {"phone": "+31 6 1234 5678"},
    {"phone": "0612"},
    {"sex": "Female"},
    {"performance_status": "4"},
    {"performance_status": "-1"},
    {"primary_tumour": "myeloma"},
    {"full_name": "x" * 201},
    {"preferred_language": "de"},
]


@pytest.mark.parametrize("changes", AGREEMENT, ids=[str(c) for c in AGREEMENT])
def test_the_import_and_the_form_refuse_the_same_rows(
    tmp_path, personas, site, consent_version, changes
) -> None:
    values = dict(zip(HEADER, row(**changes), strict=True))
    form = RegistrationForm(
        {**{c: values[c] for c in imports.PARTICIPANT_COLUMNS}, "site": site.pk}
    )
    no_consent = {c: "" for c in HEADER if c.startswith("consent")}
    report = import_participants(
        write(tmp_path / "c.csv", HEADER, [row(**changes, **no_consent)]),
        user=personas["datamanager_dirk"],
        dry_run=True,
    )
    assert report.ok == form.is_valid(), (report.rejected, form.errors)


@pytest.mark.parametrize("line", [2, 4])
def test_a_row_with_more_fields_than_the_header_is_refused(
    tmp_path, personas, site, consent_version, line
) -> None:
    """An unquoted comma would shift a row's cells into the wrong columns: refused."""
    rows = [row(hospital_number=f"H40000{n}") for n in range(3)]
    rows[line - 2] = [*rows[line - 2], "extra"]
    path = write(tmp_path / "c.csv", HEADER, rows)
    with pytest.raises(ImportFileError, match=rf"line {line} has .*more fields|line {line} has 18"):
        import_participants(path, user=personas["datamanager_dirk"])
    assert not Participant.objects.exists()


def test_the_questionnaire_import_refuses_unknown_columns_foreign_encodings_and_bad_dates(
    tmp_path, personas
) -> None:
    from blend.apps.exports.imports import import_questionnaires
    from tests.web.exports.test_import import Q_HEADER

    dirk = personas["datamanager_dirk"]
    line = ["PRS-00001-8", "baseline", "2025-04-01", "paper", "pain-nrs", "worst_pain", "3"]
    with pytest.raises(ImportFileError, match="unknown column bsn"):
        import_questionnaires(
            write(tmp_path / "a.csv", [*Q_HEADER, "bsn"], [[*line, "1"]]), user=dirk
        )
    with pytest.raises(ImportFileError, match="Windows-1252"):
        import_questionnaires(
            write(tmp_path / "b.csv", Q_HEADER, [[*line[:5], "é", "3"]], encoding="cp1252"),
            user=dirk,
        )
    dated = [*line[:2], "1-4-2025", *line[3:]]
    report = import_questionnaires(write(tmp_path / "c.csv", Q_HEADER, [dated]), user=dirk)
    assert report.rejected == [
        (
            2,
            "column completed_on: expected a date as YYYY-MM-DD (e.g. 2026-03-01), "
            "received '1-4-2025'",
        )
    ]
