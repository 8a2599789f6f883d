"""CSV import: per-row validation with reasons, all-or-nothing, idempotent re-import."""

from __future__ import annotations

import csv
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from blend.apps.audit.models import AuditEvent
from blend.apps.consent.models import ConsentRecord
from blend.apps.exports.imports import import_participants, import_questionnaires
from blend.apps.followup.models import Assessment
from blend.apps.questionnaires.models import Response
from blend.apps.registry.models import Participant

HEADER = [
    "hospital_number",
    "full_name",
    "date_of_birth",
    "sex",
    "site",
    "registered_on",
    "primary_tumour",
    "metastases_diagnosed_on",
    "performance_status",
    "email",
    "phone",
    "preferred_language",
    "consent_a",
    "consent_b",
    "consent_c",
    "consent_on",
    "consent_version",
]
GOOD = [
    [
        "H100001",
        "Anna Jansen",
        "1958-04-02",
        "female",
        "umcu",
        "2024-02-01",
        "breast",
        "2024-01-10",
        "1",
        "anna@example.org",
        "",
        "nl",
        "yes",
        "yes",
        "no",
        "2024-02-01",
        "PRESENT v3.0",
    ],
    [
        "H100002",
        "Kees Bakker",
        "1949-11-30",
        "male",
        "umcu",
        "2024-03-05",
        "prostate",
        "2024-02-20",
        "2",
        "",
        "",
        "en",
        "yes",
        "no",
        "",
        "2024-03-05",
        "PRESENT v3.0",
    ],
]


def write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_a_good_file_imports_and_a_second_import_changes_nothing(
    tmp_path, personas, site, consent_version
) -> None:
    path = write(tmp_path / "cohort.csv", HEADER, GOOD)
    dirk = personas["datamanager_dirk"]
    report = import_participants(path, user=dirk)
    assert (report.ok, report.created, report.unchanged) == (True, 2, 0)
    anna = Participant.objects.get(identity__hospital_number="H100001")
    assert (anna.birth_year, anna.performance_status, anna.identity.full_name) == (
        1958,
        1,
        "Anna Jansen",
    )
    assert sorted(ConsentRecord.objects.filter(participant=anna).values_list("item", "answer")) == [
        ("a", "yes"),
        ("b", "yes"),
        ("c", "no"),
    ]
    counts = (
        Participant.objects.count(),
        ConsentRecord.objects.count(),
        AuditEvent.objects.count(),
    )
    again = import_participants(path, user=dirk)
    assert (again.ok, again.created, again.unchanged) == (True, 0, 2)
    assert (
        Participant.objects.count(),
        ConsentRecord.objects.count(),
        AuditEvent.objects.count() - 1,
    ) == counts


BAD_ROWS = [
    (
        [
            "H100003",
            "Kim Kind",
            "2015-01-01",
            "female",
            "umcu",
            "2024-02-01",
            "breast",
            "2024-01-10",
            "1",
            "",
            "",
            "nl",
            "",
            "",
            "",
            "",
            "",
        ],
        "[R01]",
    ),
    (
        [
            "H100004",
            "Piet Fout",
            "1950-01-01",
            "man",
            "umcu",
            "2024-02-01",
            "lung",
            "2024-01-10",
            "1",
            "",
            "",
            "nl",
            "",
            "",
            "",
            "",
            "",
        ],
        "sex:",
    ),
    (
        [
            "H100005",
            "Els Ps",
            "1950-01-01",
            "female",
            "umcu",
            "2024-02-01",
            "lung",
            "2024-01-10",
            "7",
            "",
            "",
            "nl",
            "",
            "",
            "",
            "",
            "",
        ],
        "performance_status:",
    ),
    (
        [
            "H100006",
            "Jan Site",
            "1950-01-01",
            "male",
            "nowhere",
            "2024-02-01",
            "lung",
            "2024-01-10",
            "1",
            "",
            "",
            "nl",
            "",
            "",
            "",
            "",
            "",
        ],
        "site:",
    ),
    (
        [
            "H100007",
            "Ria Consent",
            "1950-01-01",
            "female",
            "umcu",
            "2024-02-01",
            "lung",
            "2024-01-10",
            "1",
            "",
            "",
            "nl",
            "maybe",
            "",
            "",
            "2024-02-01",
            "PRESENT v3.0",
        ],
        "consent_a: expected yes, no or postponed",
    ),
    (
        [
            "H100008",
            "Theo Datum",
            "1950-01-01",
            "male",
            "umcu",
            "2024-02-01",
            "lung",
            "2024-01-10",
            "1",
            "",
            "",
            "nl",
            "yes",
            "",
            "",
            "2024-01-15",
            "PRESENT v3.0",
        ],
        "consent_on: expected between cohort entry",
    ),
    (
        [
            "H100001",
            "Anna Jansen",
            "1958-04-02",
            "female",
            "umcu",
            "2024-02-01",
            "breast",
            "2024-01-10",
            "1",
            "",
            "",
            "nl",
            "",
            "",
            "",
            "",
            "",
        ],
        "appears twice",
    ),
]


def test_a_file_with_bad_rows_is_rejected_whole_with_reasons(
    tmp_path, personas, site, consent_version
) -> None:
    path = write(tmp_path / "cohort.csv", HEADER, GOOD + [row for row, _ in BAD_ROWS])
    report = import_participants(path, user=personas["datamanager_dirk"])
    assert not report.ok and report.created == 0
    assert [row for row, _ in report.rejected] == list(range(4, 4 + len(BAD_ROWS)))
    for (row, reasons), (_, expected) in zip(report.rejected, BAD_ROWS, strict=True):
        assert expected in reasons, (row, reasons)
    assert not Participant.objects.exists() and not ConsentRecord.objects.exists()


def test_a_changed_row_for_a_known_hospital_number_is_rejected(
    tmp_path, personas, site, consent_version
) -> None:
    import_participants(write(tmp_path / "a.csv", HEADER, GOOD), user=personas["datamanager_dirk"])
    changed = [GOOD[0][:8] + ["3"] + GOOD[0][9:]]
    report = import_participants(
        write(tmp_path / "b.csv", HEADER, changed), user=personas["datamanager_dirk"]
    )
    assert not report.ok and "already registered" in report.rejected[0][1]
    assert Participant.objects.get(identity__hospital_number="H100001").performance_status == 1


def test_import_needs_the_import_capability(tmp_path, personas, site) -> None:
    path = write(tmp_path / "cohort.csv", HEADER, GOOD)
    for name in ("nurse_nina", "investigator_ivo", "statistician_stan", "monitor_mo", "admin_ada"):
        with pytest.raises(PermissionDenied):
            import_participants(path, user=personas[name])
    assert not Participant.objects.exists()


def test_the_command_reports_rejected_rows(tmp_path, personas, site, consent_version) -> None:
    path = write(tmp_path / "cohort.csv", HEADER, GOOD + [BAD_ROWS[0][0]])
    report_path = tmp_path / "rejected.csv"
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command(
            "import_data",
            "participants",
            str(path),
            "--user",
            "datamanager_dirk",
            "--report",
            str(report_path),
            stdout=StringIO(),
            stderr=err,
        )
    assert "row 4, column date_of_birth: [R01]" in err.getvalue()
    assert list(csv.reader(report_path.open()))[1][0] == "4"
    with pytest.raises(CommandError, match="expected columns"):
        call_command(
            "import_data",
            "participants",
            str(write(tmp_path / "x.csv", ["study"], [["1"]])),
            "--user",
            "datamanager_dirk",
            stdout=StringIO(),
            stderr=StringIO(),
        )


Q_HEADER = ["study_id", "timepoint", "completed_on", "mode", "instrument", "item", "value"]


@pytest.fixture
def scheduled(make_participant):  # type: ignore[no-untyped-def]
    p = make_participant()
    day = date(2025, 4, 1)
    Assessment.objects.create(
        participant=p,
        timepoint="baseline",
        instruments=["qlq-c15-pal", "pain-nrs", "omed"],
        anchor_on=day,
        target_on=day,
        opens_on=day,
        closes_on=day,
    )
    return p


def c15_rows(sid: str, value: str = "2") -> list[list[str]]:
    return [
        [sid, "baseline", "2025-04-01", "paper", "qlq-c15-pal", f"q{i}", value]
        for i in range(1, 16)
    ]


def test_historical_questionnaires_import_once(tmp_path, personas, scheduled) -> None:
    rows = c15_rows(scheduled.study_id) + [
        [scheduled.study_id, "baseline", "2025-04-01", "paper", "pain-nrs", "worst_pain", "6"]
    ]
    path = write(tmp_path / "q.csv", Q_HEADER, rows)
    report = import_questionnaires(path, user=personas["datamanager_dirk"])
    assert (report.ok, report.created) == (True, 1), report.rejected
    response = Response.objects.get()
    assert response.mode == "paper" and response.completed_on == date(2025, 4, 1)
    assert response.scores["pain-nrs"]["worst_pain"] == 6
    assert response.scores["qlq-c15-pal"]["PF"] is not None
    again = import_questionnaires(path, user=personas["datamanager_dirk"])
    assert (again.ok, again.created, again.unchanged) == (
        True,
        0,
        1,
    ) and Response.objects.count() == 1


def test_bad_questionnaire_rows_are_rejected_and_nothing_is_written(
    tmp_path, personas, scheduled
) -> None:
    sid = scheduled.study_id
    rows = c15_rows(sid)[:14] + [
        [sid, "baseline", "2025-04-01", "paper", "qlq-c15-pal", "q15", "9"],  # QL item is 1-7
        ["PRS-99999-9", "baseline", "2025-04-01", "paper", "pain-nrs", "worst_pain", "3"],
        [sid, "w4", "2025-05-01", "paper", "pain-nrs", "worst_pain", "3"],
        [sid, "baseline", "2025-04-01", "web", "pain-nrs", "worst_pain", "3"],
    ]
    report = import_questionnaires(
        write(tmp_path / "q.csv", Q_HEADER, rows), user=personas["datamanager_dirk"]
    )
    reasons = dict(report.rejected)
    assert not report.ok and not Response.objects.exists()
    assert "no scheduled 'baseline' assessment for 'PRS-99999-9'" in reasons[17]
    assert "no scheduled 'w4' assessment" in reasons[18]
    assert "mode: expected paper or telephone" in reasons[19]
    assert "qlq-c15-pal" in reasons[2] and "q15" in reasons[2]


def test_the_import_page(client_for, tmp_path, site, consent_version) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = write(tmp_path / "bad.csv", HEADER, GOOD + [BAD_ROWS[1][0]]).read_bytes()
    client = client_for("datamanager_dirk")
    response = client.post(
        "/exports/import/", {"kind": "participants", "file": SimpleUploadedFile("c.csv", bad)}
    )
    body = response.content.decode()
    assert response.status_code == 400 and "1 of 3 rows rejected" in body and "sex:" in body
    assert not Participant.objects.exists()
    good = write(tmp_path / "good.csv", HEADER, GOOD).read_bytes()
    response = client.post(
        "/exports/import/", {"kind": "participants", "file": SimpleUploadedFile("c.csv", good)}
    )
    assert response.status_code == 200 and Participant.objects.count() == 2
    for name in ("nurse_nina", "statistician_stan", "monitor_mo"):
        assert client_for(name).get("/exports/import/").status_code == 403


def _scheduled_many(make_participant, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    day = date(2025, 4, 1)
    ids = []
    for _ in range(count):
        p = make_participant()
        for timepoint in ("baseline", "w4"):
            Assessment.objects.create(
                participant=p,
                timepoint=timepoint,
                instruments=["qlq-c15-pal", "pain-nrs", "omed"],
                anchor_on=day,
                target_on=day,
                opens_on=day,
                closes_on=day,
            )
        ids.append(p.study_id)
    return ids


def test_the_questionnaire_check_asks_the_database_the_same_number_of_times_for_any_length(
    tmp_path, personas, make_participant
) -> None:
    """The validation streams the file and fetches assessments and earlier answers a chunk
    at a time: three questionnaires or thirty, the number of queries is the same."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ids = _scheduled_many(make_participant, 15)
    dirk = personas["datamanager_dirk"]

    def queries_for(study_ids: list[str]) -> int:
        rows = [
            [sid, tp, "2025-04-01", "paper", "qlq-c15-pal", f"q{i}", "2"]
            for sid in study_ids
            for tp in ("baseline", "w4")
            for i in range(1, 16)
        ]
        path = write(tmp_path / f"q{len(study_ids)}.csv", Q_HEADER, rows)
        with CaptureQueriesContext(connection) as captured:
            report = import_questionnaires(path, user=dirk, dry_run=True)
        assert report.ok and report.rows == len(rows), report.rejected
        return len(captured)

    assert queries_for(ids[:1]) == queries_for(ids)


def test_a_questionnaire_split_over_the_file_is_one_questionnaire(
    tmp_path, personas, scheduled
) -> None:
    """Rows of one questionnaire need not be adjacent (nor in one chunk): they are
    grouped by study ID and timepoint, and a second date within it is refused."""
    from blend.apps.exports import imports

    sid = scheduled.study_id
    rows = c15_rows(sid)
    rows.insert(7, [sid, "baseline", "2025-04-01", "paper", "pain-nrs", "worst_pain", "4"])
    path = write(tmp_path / "q.csv", Q_HEADER, rows)
    original = imports.CHUNK_ROWS
    imports.CHUNK_ROWS = 4  # read as four chunks
    try:
        report = import_questionnaires(path, user=personas["datamanager_dirk"], dry_run=True)
        assert report.ok and report.rows == 16, report.rejected
        rows[12][2] = "2025-04-02"
        bad = import_questionnaires(
            write(tmp_path / "r.csv", Q_HEADER, rows), user=personas["datamanager_dirk"]
        )
    finally:
        imports.CHUNK_ROWS = original
    assert dict(bad.rejected)[14].startswith("completed_on/mode: expected the same date")
    assert not Response.objects.exists()
