"""Import cohort participants and historical questionnaires from CSV.

Every row is validated first (the registration form with its edit checks, the
consent rules, the instrument definitions). A file with any rejected row writes
nothing; the report lists each rejected row (1-based, header = row 1) with its
reasons. A row that is already in the database with the same content is
"unchanged", so importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.accounts.permissions import check
from blend.apps.audit.services import record_event
from blend.apps.consent.models import ConsentFormVersion
from blend.apps.consent.services import record_consent
from blend.apps.followup.models import Assessment
from blend.apps.questionnaires.services import enter_by_staff, response_of
from blend.apps.registry.forms import RegistrationForm
from blend.apps.registry.models import Identity, Participant, Site
from blend.apps.registry.services import Registration, register_participant
from blend.instruments import InstrumentError, score
from blend.protocol import load_protocol

PARTICIPANT_COLUMNS = [
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
]
QUESTIONNAIRE_COLUMNS = [
    "study_id",
    "timepoint",
    "completed_on",
    "mode",
    "instrument",
    "item",
    "value",
]


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row, reasons)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def write(self, path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["row", "reasons"])
            writer.writerows(self.rejected)

    def summary(self) -> str:
        if not self.ok:
            return f"{self.kind}: {len(self.rejected)} of {self.rows} rows rejected; nothing was imported"
        return f"{self.kind}: {self.rows} rows; {self.created} imported, {self.unchanged} already present (unchanged)"


def read_rows(path: Path, required: list[str]) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(
                f"{path.name}: expected columns {', '.join(missing)} in the header; "
                f"found {', '.join(reader.fieldnames or []) or 'no header'}"
            )
        return [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]


# --- participants ------------------------------------------------------------------------------------


@dataclass
class SignedConsent:
    """The consent decisions of one row, with the day and the form version they were given on."""

    answers: dict[str, str]
    on: date
    version: ConsentFormVersion


@dataclass
class ParticipantRow:
    number: int
    registration: Registration
    consent: SignedConsent | None  # None: the row records no consent
    existing: Participant | None = None


CHECK_CODE = re.compile(r"[A-Z]{1,3}\d{2,3}")


def _form_errors(form: RegistrationForm) -> list[str]:
    """Each error as "field: message", with an edit check's code first (imports are run by
    data managers, who discuss findings by their code)."""
    lines = []
    for name, errors in form.errors.as_data().items():
        for error in errors:
            code = f"[{error.code}] " if error.code and CHECK_CODE.fullmatch(error.code) else ""
            lines += [f"{name}: {code}{message}" for message in error.messages]
    return lines


def _site_pk(code: str) -> str:
    site = Site.objects.filter(code=code).first()
    return str(site.pk) if site else f"unknown site code {code!r}"


def _consent(
    row: dict[str, str], errors: list[str]
) -> tuple[dict[str, str], date | None, ConsentFormVersion | None]:
    answers = {
        code: row[f"consent_{code}"]
        for code in load_protocol().consent_codes
        if row.get(f"consent_{code}")
    }
    if not answers:
        return {}, None, None
    for code, answer in answers.items():
        if answer not in {"yes", "no", "postponed"}:
            errors.append(f"consent_{code}: expected yes, no or postponed, got {answer!r}")
    try:
        on = date.fromisoformat(row.get("consent_on", ""))
    except ValueError:
        errors.append(f"consent_on: expected a date YYYY-MM-DD, got {row.get('consent_on', '')!r}")
        on = None
    version = ConsentFormVersion.objects.filter(version=row.get("consent_version", "")).first()
    if version is None:
        errors.append(
            f"consent_version: expected a known consent-form version, got {row.get('consent_version', '')!r}"
        )
    return answers, on, version


def _consent_dates(on: date, version: ConsentFormVersion, registered_on: date) -> list[str]:
    errors = []
    if not registered_on <= on <= timezone.localdate():
        errors.append(
            f"consent_on: expected between cohort entry {registered_on} and today, got {on}"
        )
    if not (
        version.valid_from <= on and (version.valid_until is None or on <= version.valid_until)
    ):
        errors.append(f"consent_version: {version.version} is not valid on {on}")
    return errors


def _same(existing: Participant, reg: dict[str, Any]) -> bool:
    identity = existing.identity
    return (
        identity.full_name,
        identity.date_of_birth,
        existing.registered_on,
        existing.sex,
        existing.primary_tumour,
        existing.metastases_diagnosed_on,
        existing.performance_status,
        existing.site_id,
    ) == (
        reg["full_name"],
        reg["date_of_birth"],
        reg["registered_on"],
        reg["sex"],
        reg["primary_tumour"],
        reg["metastases_diagnosed_on"],
        reg["performance_status"],
        reg["site"].pk,
    )


def _validate_participant(
    number: int, row: dict[str, str], seen: set[str]
) -> tuple[ParticipantRow | None, list[str]]:
    errors: list[str] = []
    number_key = row.get("hospital_number", "")
    if number_key in seen:
        errors.append(f"hospital_number: {number_key} appears twice in this file")
    seen.add(number_key)
    existing = (
        Identity.objects.select_related("participant").filter(hospital_number=number_key).first()
    )
    data = {c: row.get(c, "") for c in PARTICIPANT_COLUMNS} | {
        "site": _site_pk(row.get("site", ""))
    }
    data["preferred_language"] = data["preferred_language"] or "nl"
    form = RegistrationForm(data)
    valid = form.is_valid()
    if (
        existing is not None
    ):  # the form refuses known hospital numbers; for a re-import that is expected
        errors += [
            e
            for e in _form_errors(form)
            if not e.startswith("hospital_number: This hospital number")
        ]
        valid = not errors and set(form.errors) <= {"hospital_number"}
    else:
        errors += _form_errors(form)
    answers, on, version = _consent(row, errors)
    if errors or not valid:
        return None, errors
    cleaned = {**form.cleaned_data, "hospital_number": number_key}
    # Without errors, a row with answers has their date and version; a row without has neither.
    consent = (
        SignedConsent(answers, on, version) if on is not None and version is not None else None
    )
    if consent is not None:
        errors += _consent_dates(consent.on, consent.version, cleaned["registered_on"])
        if errors:
            return None, errors
    if existing is not None and not _same(existing.participant, cleaned):
        return None, [
            f"hospital_number: {number_key} is already registered as {existing.participant.study_id} "
            "with different data; correct it in the platform (with a reason), not by import"
        ]
    return ParticipantRow(
        number, Registration(**cleaned), consent, existing.participant if existing else None
    ), []


def _record_signed(participant: Participant, consent: SignedConsent, user: User) -> None:
    for item, answer in consent.answers.items():
        record_consent(
            participant, item, answer, on=consent.on, form_version=consent.version, user=user
        )


def import_participants(path: Path, *, user: User, dry_run: bool = False) -> ImportReport:
    check(user, Cap.IMPORT)
    report, rows, seen = ImportReport("participants"), [], set[str]()
    for number, row in enumerate(read_rows(path, PARTICIPANT_COLUMNS), start=2):
        report.rows += 1
        parsed, errors = _validate_participant(number, row, seen)
        if errors:
            report.rejected.append((number, "; ".join(errors)))
        elif parsed is not None:
            rows.append(parsed)
    if not report.ok or dry_run:
        return report
    with transaction.atomic():
        for parsed in rows:
            if parsed.existing is not None:
                report.unchanged += 1
                continue
            participant = register_participant(parsed.registration, user=user)
            if parsed.consent is not None:
                _record_signed(participant, parsed.consent, user)
            report.created += 1
        record_event(
            "import.participants",
            actor=user,
            details={"file": path.name, "created": report.created, "unchanged": report.unchanged},
        )
    return report


# --- historical questionnaires -----------------------------------------------------------------------


@dataclass
class QuestionnaireGroup:
    first_row: int
    assessment: Assessment | None = None
    completed_on: date | None = None
    mode: str = ""
    answers: dict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))
    unchanged: bool = False


def _number(text: str) -> int | float | str:
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() else value


def _group_rows(
    rows: list[dict[str, str]],
) -> tuple[dict[tuple[str, str], QuestionnaireGroup], list[tuple[int, str]]]:
    groups: dict[tuple[str, str], QuestionnaireGroup] = {}
    rejected: list[tuple[int, str]] = []
    for number, row in enumerate(rows, start=2):
        key = (row["study_id"], row["timepoint"])
        group = groups.setdefault(key, QuestionnaireGroup(number))
        errors = _row_errors(row, group)
        if errors:
            rejected.append((number, "; ".join(errors)))
            continue
        if row["item"] in group.answers[row["instrument"]]:
            rejected.append(
                (
                    number,
                    f"item: {row['instrument']}.{row['item']} appears twice for this questionnaire",
                )
            )
        group.answers[row["instrument"]][row["item"]] = (
            _number(row["value"]) if row["value"] != "" else None
        )
    return groups, rejected


def _row_errors(row: dict[str, str], group: QuestionnaireGroup) -> list[str]:
    errors = []
    try:
        on = date.fromisoformat(row["completed_on"])
    except ValueError:
        return [f"completed_on: expected a date YYYY-MM-DD, got {row['completed_on']!r}"]
    if on > timezone.localdate():
        errors.append(f"completed_on: expected today or earlier, got {on}")
    if row["mode"] not in {"paper", "telephone"}:
        errors.append(f"mode: expected paper or telephone, got {row['mode']!r}")
    if group.assessment is None:
        group.assessment = (
            Assessment.objects.select_related("participant")
            .filter(participant__study_id=row["study_id"], timepoint=row["timepoint"])
            .first()
        )
        group.completed_on, group.mode = on, row["mode"]
    if group.assessment is None:
        errors.append(
            f"study_id/timepoint: no scheduled {row['timepoint']!r} assessment for {row['study_id']!r} "
            "(record the treatment first so the schedule exists)"
        )
    elif row["instrument"] not in group.assessment.instruments or row["instrument"] == "omed":
        errors.append(
            f"instrument: expected one of {[i for i in group.assessment.instruments if i != 'omed']} "
            f"for {row['timepoint']}, got {row['instrument']!r}"
        )
    if (on, row["mode"]) != (group.completed_on, group.mode):
        errors.append(
            "completed_on/mode: expected the same date and mode on every row of one questionnaire"
        )
    return errors


def _check_group(group: QuestionnaireGroup, assessment: Assessment) -> list[str]:
    errors = []
    for code, answers in group.answers.items():
        if code == "cost":
            continue
        try:
            score(code, {k: v for k, v in answers.items() if v is not None})
        except InstrumentError as error:
            errors.append(f"{code}: {error}")
    existing = response_of(assessment)
    if existing is not None and existing.status == "submitted":
        if {k: dict(v) for k, v in group.answers.items()} == {
            k: existing.answers.get(k) for k in group.answers
        }:
            group.unchanged = True
        else:
            errors.append(
                f"{assessment.timepoint}: a different questionnaire was already submitted for "
                f"{assessment.participant.study_id}"
            )
    return errors


def import_questionnaires(path: Path, *, user: User, dry_run: bool = False) -> ImportReport:
    check(user, Cap.IMPORT)
    rows = read_rows(path, QUESTIONNAIRE_COLUMNS)
    report = ImportReport("questionnaires", rows=len(rows))
    groups, report.rejected = _group_rows(rows)
    for group in groups.values():
        if group.assessment is not None and not any(
            r == group.first_row for r, _ in report.rejected
        ):
            errors = _check_group(group, group.assessment)
            if errors:
                report.rejected.append((group.first_row, "; ".join(errors)))
    report.rejected.sort()
    if not report.ok or dry_run:
        return report
    with transaction.atomic():
        for group in groups.values():
            if group.unchanged:
                report.unchanged += 1
                continue
            # every group has both once the file passed: a row without them is rejected above
            assert group.assessment is not None and group.completed_on is not None
            enter_by_staff(
                group.assessment,
                group.answers,
                mode=group.mode,
                completed_on=group.completed_on,
                user=user,
            )
            report.created += 1
        record_event(
            "import.questionnaires",
            actor=user,
            details={"file": path.name, "created": report.created, "unchanged": report.unchanged},
        )
    return report
