"""Routine-data linkage (issue 17 item 3): the NCR file's consent gate and contents, the
BRP vital-status import through the staff entry's service, the conflict queue and its
resolution, files refused whole, and who may do any of it."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from blend.apps.accounts.models import User
from blend.apps.audit.models import AuditEvent
from blend.apps.consent.over_time import approve_form_version
from blend.apps.consent.services import record_consent, withdraw_consent
from blend.apps.exports.models import ExportLog
from blend.apps.followup.models import Assessment, VitalStatus
from blend.apps.followup.services import record_vital_status
from blend.apps.linkage import services
from blend.apps.linkage.domain import linkage_key
from blend.apps.linkage.models import ConflictState, LinkageConflict, LinkageRun
from blend.apps.outbox.models import Status
from blend.apps.outbox.services import queue_message
from blend.apps.registry.models import Participant
from blend.apps.safety.services import deaths_needing_review
from blend.protocol.linkage import DEFAULT_NCR

pytestmark = pytest.mark.django_db

ENTRY = date(2025, 3, 1)
NOT_E = {code: "yes" for code in "abcd"}


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8")))


def _key(p: Participant, secret: str) -> str:
    identity = p.identity
    return linkage_key(
        secret, [p.site.code, identity.hospital_number, identity.date_of_birth.isoformat()]
    )


def _brp(rows: list[tuple[str, str, str]], column: str = "study_id") -> bytes:
    lines = [f"{column},died_on,alive_on", *(",".join(r) for r in rows)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def dirk(personas: dict[str, User]) -> User:
    return personas["datamanager_dirk"]


# ------------------------------------------------------------------- the consent gate


def test_only_members_with_a_current_yes_to_linkage_are_in_the_ncr_file(
    make_participant: Callable[..., Participant],
    personas: dict[str, User],
    consent_version: Any,
    dirk: User,
    tmp_path: Path,
) -> None:
    nurse = personas["nurse_nina"]
    said_yes = make_participant()
    said_no = make_participant({**NOT_E, "e": "no"})
    postponed = make_participant({**NOT_E, "e": "postponed"})
    never_asked = make_participant(NOT_E)
    withdrew = make_participant()
    withdraw_consent(withdrew, "e", on=date(2025, 6, 1), reason="changed mind", user=nurse)
    left_cohort = make_participant()
    withdraw_consent(left_cohort, "a", on=date(2025, 6, 1), reason="left PRESENT", user=nurse)
    yes_after_no = make_participant({**NOT_E, "e": "no"})
    record_consent(
        yes_after_no, "e", "yes", on=date(2025, 7, 1), form_version=consent_version, user=nurse
    )

    run = services.export_ncr(tmp_path / "ncr.csv", user=dirk)

    keys = {row["linkage_key"] for row in _rows(tmp_path / "ncr.csv")}
    secret = services.linkage_secret()
    assert keys == {_key(said_yes, secret), _key(yes_after_no, secret)}
    for left_out in (said_no, postponed, never_asked, withdrew, left_cohort):
        assert _key(left_out, secret) not in keys
    assert (run.rows, run.eligible) == (2, 7)


def test_a_yes_under_a_superseded_form_that_asks_linkage_again_no_longer_counts(
    make_participant: Callable[..., Participant],
    personas: dict[str, User],
    dirk: User,
    tmp_path: Path,
) -> None:
    old_yes = make_participant()
    renewed = make_participant()
    version = approve_form_version(
        "PRESENT v4.0", valid_from=date(2025, 9, 1), reask_items=["e"], user=personas["admin_ada"]
    )
    record_consent(
        renewed, "e", "yes", on=date(2025, 9, 2), form_version=version, user=personas["nurse_nina"]
    )

    services.export_ncr(tmp_path / "ncr.csv", user=dirk)

    secret = services.linkage_secret()
    assert [r["linkage_key"] for r in _rows(tmp_path / "ncr.csv")] == [_key(renewed, secret)]
    assert _key(old_yes, secret) != _key(renewed, secret)


# ------------------------------------------------------------------ the file and the log


def test_the_file_holds_only_the_configured_columns_and_no_identifier(
    make_participant: Callable[..., Participant], dirk: User, tmp_path: Path
) -> None:
    member = make_participant()
    services.export_ncr(tmp_path / "ncr.csv", user=dirk)
    text = (tmp_path / "ncr.csv").read_text()
    (row,) = _rows(tmp_path / "ncr.csv")
    assert tuple(row) == DEFAULT_NCR.fields
    assert row == {
        "linkage_key": _key(member, services.linkage_secret()),
        "sex": "female",
        "birth_year": "1960",
        "primary_tumour": "breast",
        "metastases_diagnosed_on": "2025-02-01",
    }
    identity = member.identity
    for identifier in (
        identity.full_name,
        identity.hospital_number,
        identity.date_of_birth.isoformat(),
        identity.email,
        identity.phone,
        member.study_id,
    ):
        assert identifier not in text


def test_the_export_is_in_the_export_log_and_the_audit_trail(
    make_participant: Callable[..., Participant], dirk: User, tmp_path: Path
) -> None:
    import hashlib

    make_participant()
    run = services.export_ncr(tmp_path / "ncr.csv", user=dirk)
    entry = ExportLog.objects.get()
    digest = hashlib.sha256((tmp_path / "ncr.csv").read_bytes()).hexdigest()
    assert (entry.kind, entry.user, entry.via, entry.rows) == (
        "linkage_ncr",
        dirk,
        "cli",
        {"ncr_linkage": 1},
    )
    assert entry.files == {"ncr.csv": digest}
    assert run.sha256 == digest
    assert AuditEvent.objects.filter(action="export.linkage_ncr", actor=dirk).count() == 1
    assert AuditEvent.objects.filter(action="linkage.ncr_export", actor=dirk).count() == 1


def test_without_the_secret_nothing_is_written(
    make_participant: Callable[..., Participant], dirk: User, tmp_path: Path, settings: Any
) -> None:
    settings.LINKAGE_KEY = None
    make_participant()
    with pytest.raises(services.LinkageError, match="BLEND_LINKAGE_KEY: expected"):
        services.export_ncr(tmp_path / "ncr.csv", user=dirk)
    assert not (tmp_path / "ncr.csv").exists()
    assert not ExportLog.objects.exists() and not LinkageRun.objects.exists()


# ------------------------------------------------------------------------ BRP import


def test_a_registry_death_is_recorded_through_the_vital_status_service(
    make_participant: Callable[..., Participant], dirk: User
) -> None:
    member = make_participant()
    queued = queue_message(
        audience="participant",
        channel="email",
        to_address="p@example.org",
        template_code="questionnaire_reminder",
        context={"study_id": member.study_id, "timepoint": "w4", "link": "https://x"},
        language="nl",
        participant=member,
    )
    result = services.import_brp(
        _brp([(_key(member, services.linkage_secret()), "2026-01-05", "")], "linkage_key"),
        file_name="brp.csv",
        user=dirk,
    )
    status = VitalStatus.objects.get(participant=member)
    assert (status.died_on, status.last_contact_on, status.recorded_by) == (
        date(2026, 1, 5),
        date(2026, 1, 5),
        dirk,
    )
    death = AuditEvent.objects.get(action="followup.death", participant=member)
    assert "BRP vital-status linkage" in death.reason
    assert status.history.count() == 1  # the field-level history of the staff entry
    queued.refresh_from_db()
    assert queued.status == Status.CANCELLED  # invitations stopped
    assert member.pk in {p.pk for p, _ in deaths_needing_review()}  # SAE review prompted
    run = result.run
    assert (run.rows, run.matched, run.applied, run.unchanged, run.conflicts) == (1, 1, 1, 0, 0)


def test_alive_at_moves_the_last_contact_and_unknown_members_count_as_unmatched(
    make_participant: Callable[..., Participant], dirk: User
) -> None:
    member = make_participant()
    result = services.import_brp(
        _brp([(member.study_id, "", "2026-02-01"), ("PRS-99999-9", "", "2026-02-01")]),
        file_name="brp.csv",
        user=dirk,
    )
    assert VitalStatus.objects.get(participant=member).last_contact_on == date(2026, 2, 1)
    assert (result.run.rows, result.run.matched) == (2, 1)
    assert result.unmatched_rows == (3,)


def test_the_same_file_again_changes_nothing(
    make_participant: Callable[..., Participant], dirk: User
) -> None:
    member = make_participant()
    data = _brp([(member.study_id, "2026-01-05", "")])
    services.import_brp(data, file_name="brp.csv", user=dirk)
    again = services.import_brp(data, file_name="brp.csv", user=dirk).run
    assert (again.applied, again.unchanged) == (0, 1)
    assert VitalStatus.objects.get(participant=member).history.count() == 1


# ---------------------------------------------------------------------- conflicts


def test_a_different_death_date_is_queued_and_never_overwritten(
    make_participant: Callable[..., Participant], personas: dict[str, User], dirk: User
) -> None:
    member = make_participant()
    nurse = personas["nurse_nina"]
    record_vital_status(
        member, last_contact_on=date(2026, 1, 9), died_on=date(2026, 1, 9), user=nurse
    )
    services.import_brp(_brp([(member.study_id, "2026-01-05", "")]), file_name="brp.csv", user=dirk)
    assert VitalStatus.objects.get(participant=member).died_on == date(2026, 1, 9)
    conflict = LinkageConflict.objects.get(participant=member)
    assert (
        conflict.kind,
        conflict.state,
        conflict.registry_died_on,
        conflict.recorded_died_on,
    ) == (
        "death_date_differs",
        ConflictState.OPEN,
        date(2026, 1, 5),
        date(2026, 1, 9),
    )
    # read again: the same disagreement is not queued twice
    services.import_brp(_brp([(member.study_id, "2026-01-05", "")]), file_name="brp.csv", user=dirk)
    assert LinkageConflict.objects.filter(participant=member).count() == 1


def test_a_death_before_a_completed_questionnaire_is_queued(
    make_participant: Callable[..., Participant], dirk: User
) -> None:
    member = make_participant()
    Assessment.objects.create(
        participant=member,
        timepoint="w4",
        anchor_on=date(2025, 3, 10),
        target_on=date(2025, 4, 7),
        opens_on=date(2025, 4, 1),
        closes_on=date(2025, 4, 20),
        completed_on=date(2025, 4, 8),
    )
    services.import_brp(_brp([(member.study_id, "2025-04-01", "")]), file_name="brp.csv", user=dirk)
    assert not VitalStatus.objects.filter(participant=member).exists()
    assert LinkageConflict.objects.get(participant=member).kind == "death_before_questionnaire"


def test_alive_after_a_recorded_death_is_queued(
    make_participant: Callable[..., Participant], personas: dict[str, User], dirk: User
) -> None:
    member = make_participant()
    record_vital_status(
        member,
        last_contact_on=date(2026, 1, 9),
        died_on=date(2026, 1, 9),
        user=personas["nurse_nina"],
    )
    services.import_brp(_brp([(member.study_id, "", "2026-03-01")]), file_name="brp.csv", user=dirk)
    assert VitalStatus.objects.get(participant=member).died_on == date(2026, 1, 9)
    assert LinkageConflict.objects.get(participant=member).kind == "alive_after_death"


@pytest.fixture
def conflict(
    make_participant: Callable[..., Participant], personas: dict[str, User], dirk: User
) -> LinkageConflict:
    member = make_participant()
    record_vital_status(
        member,
        last_contact_on=date(2026, 1, 9),
        died_on=date(2026, 1, 9),
        cause_of_death="progression",
        user=personas["nurse_nina"],
    )
    services.import_brp(_brp([(member.study_id, "2026-01-05", "")]), file_name="brp.csv", user=dirk)
    return LinkageConflict.objects.get()


def test_accepting_the_registry_records_it_through_the_service_with_the_reason(
    conflict: LinkageConflict, dirk: User
) -> None:
    services.resolve_conflict(
        conflict, decision="accept", reason="death certificate seen", user=dirk
    )
    status = VitalStatus.objects.get(participant=conflict.participant)
    assert (status.died_on, status.cause_of_death) == (date(2026, 1, 5), "progression")
    assert "death certificate seen" in status.history.first().history_change_reason
    conflict.refresh_from_db()
    assert (conflict.state, conflict.resolved_by, conflict.resolution_reason) == (
        ConflictState.ACCEPTED,
        dirk,
        "death certificate seen",
    )
    event = AuditEvent.objects.get(action="linkage.conflict_resolved")
    assert (event.reason, event.details["decision"]) == ("death certificate seen", "accept")


def test_keeping_the_record_changes_nothing_but_the_conflict(
    conflict: LinkageConflict, dirk: User
) -> None:
    services.resolve_conflict(
        conflict, decision="keep", reason="hospital record is right", user=dirk
    )
    assert VitalStatus.objects.get(participant=conflict.participant).died_on == date(2026, 1, 9)
    conflict.refresh_from_db()
    assert conflict.state == ConflictState.KEPT
    assert conflict.history.count() == 2


@pytest.mark.parametrize(
    ("decision", "reason", "message"),
    [
        ("accept", " ", "reason: expected the reason"),
        ("overwrite", "x", "decision: expected accept or keep"),
    ],
)
def test_a_decision_needs_a_reason_and_a_known_choice(
    conflict: LinkageConflict, dirk: User, decision: str, reason: str, message: str
) -> None:
    with pytest.raises(services.LinkageError, match=message):
        services.resolve_conflict(conflict, decision=decision, reason=reason, user=dirk)
    conflict.refresh_from_db()
    assert conflict.state == ConflictState.OPEN


def test_a_resolved_conflict_cannot_be_resolved_again(
    conflict: LinkageConflict, dirk: User
) -> None:
    services.resolve_conflict(conflict, decision="keep", reason="checked", user=dirk)
    with pytest.raises(services.LinkageError, match="expected an open conflict"):
        services.resolve_conflict(conflict, decision="accept", reason="again", user=dirk)


# ------------------------------------------------------------------ refused whole


def test_a_file_with_one_bad_row_writes_nothing(
    make_participant: Callable[..., Participant], dirk: User
) -> None:
    good, other = make_participant(), make_participant()
    data = _brp([(good.study_id, "2026-01-05", ""), (other.study_id, "5 jan", "")])
    with pytest.raises(ValueError, match="row 3, column died_on: expected a date as YYYY-MM-DD"):
        services.import_brp(data, file_name="brp.csv", user=dirk)
    assert not VitalStatus.objects.exists()
    assert not LinkageRun.objects.exists() and not LinkageConflict.objects.exists()


def test_a_row_the_vital_status_service_refuses_rolls_back_the_whole_file(
    make_participant: Callable[..., Participant], dirk: User
) -> None:
    """A locked participant's vital status cannot be written: the file is refused naming
    the row, and the rows before it are rolled back."""
    from blend.apps.datamanagement.services import lock_participant

    first, locked = make_participant(), make_participant()
    lock_participant(locked, user=dirk, reason="clean")
    data = _brp([(first.study_id, "2026-01-05", ""), (locked.study_id, "2026-01-06", "")])
    with pytest.raises(ValueError, match="row 3, column died_on"):
        services.import_brp(data, file_name="brp.csv", user=dirk)
    assert not VitalStatus.objects.exists()
    assert not LinkageRun.objects.exists()


def test_a_file_that_is_not_utf8_is_refused(dirk: User) -> None:
    with pytest.raises(ValueError, match="expected a UTF-8 text file"):
        services.import_brp(
            b"study_id,died_on,alive_on\n\xff\xfe,,\n", file_name="x.csv", user=dirk
        )


# ------------------------------------------------------------------------- the pages


PAGES = ["linkage:overview"]


@pytest.mark.parametrize(
    "persona", ["nurse_nina", "investigator_ivo", "statistician_stan", "monitor_mo", "admin_ada"]
)
def test_only_the_data_manager_opens_linkage(
    client_for: Callable[[str], Client], persona: str, conflict: LinkageConflict
) -> None:
    client = client_for(persona)
    assert client.get(reverse("linkage:overview")).status_code == 403
    assert client.post(reverse("linkage:export-ncr")).status_code == 403
    assert client.post(reverse("linkage:import-brp")).status_code == 403
    url = reverse("linkage:conflict", args=[conflict.pk])
    assert client.post(url, {"decision": "accept", "reason": "x"}).status_code == 403
    conflict.refresh_from_db()
    assert conflict.state == ConflictState.OPEN


def test_signed_out_is_sent_to_the_login(client: Client) -> None:
    response = client.get(reverse("linkage:overview"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_data_manager_downloads_the_ncr_file(
    client_for: Callable[[str], Client], make_participant: Callable[..., Participant], dirk: User
) -> None:
    member = make_participant()
    response = client_for("datamanager_dirk").post(reverse("linkage:export-ncr"))
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert _key(member, services.linkage_secret()) in body
    assert ExportLog.objects.get().via == "web"


def test_without_the_secret_the_page_says_so_and_writes_nothing(
    client_for: Callable[[str], Client], make_participant: Callable[..., Participant], settings: Any
) -> None:
    settings.LINKAGE_KEY = ""
    make_participant()
    response = client_for("datamanager_dirk").post(reverse("linkage:export-ncr"))
    assert response.status_code == 400
    assert "BLEND_LINKAGE_KEY: expected the linkage secret" in response.content.decode()
    assert not ExportLog.objects.exists()


def test_the_upload_page_applies_a_file_and_lists_the_conflicts(
    client_for: Callable[[str], Client],
    conflict: LinkageConflict,
    make_participant: Callable[..., Participant],
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    member = make_participant()
    client = client_for("datamanager_dirk")
    upload = SimpleUploadedFile("brp.csv", _brp([(member.study_id, "", "2026-02-01")]))
    response = client.post(reverse("linkage:import-brp"), {"file": upload}, follow=True)
    assert response.status_code == 200
    assert "1 recorded" in response.content.decode()
    assert conflict.participant.study_id in response.content.decode()
    assert VitalStatus.objects.get(participant=member).last_contact_on == date(2026, 2, 1)


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "expected a UTF-8 text file"),
        (b"name,died_on,alive_on\nJan,2026-01-01,\n", "column name"),
        (b"study_id,died_on,alive_on\nPRS-00001-8,2099-01-01,\n", "row 2, column died_on"),
        (b"", "The submitted file is empty"),
    ],
)
def test_a_bad_upload_is_a_page_naming_the_problem_never_a_500(
    client_for: Callable[[str], Client], personas: dict[str, User], content: bytes, shown: str
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client_for("datamanager_dirk").post(
        reverse("linkage:import-brp"), {"file": SimpleUploadedFile("brp.csv", content)}
    )
    assert response.status_code == 400
    assert shown in response.content.decode()
    assert not LinkageRun.objects.exists()


def test_the_conflict_page_resolves_with_a_reason(
    client_for: Callable[[str], Client], conflict: LinkageConflict
) -> None:
    client = client_for("datamanager_dirk")
    url = reverse("linkage:conflict", args=[conflict.pk])
    assert client.get(url).status_code == 200
    refused = client.post(url, {"decision": "keep", "reason": ""})
    assert refused.status_code == 400
    response = client.post(url, {"decision": "keep", "reason": "checked the record"})
    assert response.status_code == 302
    conflict.refresh_from_db()
    assert conflict.state == ConflictState.KEPT
    again = client.post(url, {"decision": "accept", "reason": "again"})
    assert again.status_code == 400  # refused with the reason, nothing changed
    assert "expected an open conflict" in again.content.decode()
    conflict.refresh_from_db()
    assert conflict.state == ConflictState.KEPT


def test_the_dashboard_shows_the_waiting_conflicts_to_the_data_manager_only(
    client_for: Callable[[str], Client], conflict: LinkageConflict
) -> None:
    from blend.apps.linkage.panels import dashboard_cards

    def cards(username: str) -> list[dict[str, Any]]:
        request = client_for(username).get(reverse("linkage:overview")).wsgi_request
        return dashboard_cards(request)  # type: ignore[arg-type]

    (card,) = cards("datamanager_dirk")
    assert (card["value"], card["tone"]) == (1, "warn")
    assert cards("nurse_nina") == []


def test_the_page_reads_in_dutch(client_for: Callable[[str], Client]) -> None:
    response = client_for("datamanager_dirk").get(
        reverse("linkage:overview"), HTTP_ACCEPT_LANGUAGE="nl"
    )
    text = response.content.decode()
    assert "Koppelbestand voor de Nederlandse Kankerregistratie (NKR)" in text
    assert "Er wacht geen conflict." in text


def test_an_unknown_conflict_is_a_404(client_for: Callable[[str], Client]) -> None:
    assert (
        client_for("datamanager_dirk").get(reverse("linkage:conflict", args=[999])).status_code
        == 404
    )


# ----------------------------------------------------------------------- commands


def test_the_commands_run_and_refuse_without_the_capability(
    make_participant: Callable[..., Participant], personas: dict[str, User], tmp_path: Path
) -> None:
    member = make_participant()
    out = io.StringIO()
    call_command(
        "linkage", "export-ncr", str(tmp_path / "ncr.csv"), "--user", "datamanager_dirk", stdout=out
    )
    assert "Wrote 1 members" in out.getvalue()
    (tmp_path / "brp.csv").write_bytes(_brp([(member.study_id, "2026-01-05", "")]))
    call_command(
        "linkage", "import-brp", str(tmp_path / "brp.csv"), "--user", "datamanager_dirk", stdout=out
    )
    assert "1 recorded" in out.getvalue()
    with pytest.raises(CommandError, match="linkage"):
        call_command(
            "linkage", "export-ncr", str(tmp_path / "x.csv"), "--user", "statistician_stan"
        )
    assert not (tmp_path / "x.csv").exists()
    (tmp_path / "bad.csv").write_text("study_id,died_on,alive_on\nX,nope,\n")
    with pytest.raises(CommandError, match="refused, nothing was recorded: row 2, column died_on"):
        call_command(
            "linkage", "import-brp", str(tmp_path / "bad.csv"), "--user", "datamanager_dirk"
        )


# -------------------------------------------------------------- the analysis dataset


def test_the_analysis_dataset_states_the_linkage(
    make_participant: Callable[..., Participant], dirk: User, tmp_path: Path
) -> None:
    import json

    from blend.apps.exports.services import export_analysis

    member = make_participant()
    services.export_ncr(tmp_path / "ncr.csv", user=dirk)
    services.import_brp(
        _brp([(member.study_id, "", "2026-02-01"), ("PRS-99999-9", "", "2026-02-01")]),
        file_name="brp.csv",
        user=dirk,
    )
    export_analysis(tmp_path / "ds")
    note = json.loads((tmp_path / "ds" / "dataset.json").read_text())["linkage"]
    assert [(n["source"], n["records"], n["matched"], n["match_rate"]) for n in note] == [
        ("NCR", 1, None, None),
        ("BRP", 2, 1, 0.5),
    ]
    from blend.stats.dataset import load_dataset

    assert load_dataset(tmp_path / "ds").meta["linkage"] == note
