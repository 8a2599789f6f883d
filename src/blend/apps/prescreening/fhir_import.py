"""The FHIR import of screening facts (issue 17 item 2; docs/interoperability.md section 2).

A hospital's FHIR R4 Bundle pre-fills a cohort member's facts. Reading it is pure
(``blend.interop.fhir_import.read_bundle``, with the cohort's code mapping
``cohort/fhir_mapping.toml``); this module matches its Patient to a member and writes the
facts, all or none, in one transaction with the audit trail.

**Matching.** The bundle's Patient carries the member's pseudonymous study ID as an
identifier in the mapping's ``study_id_system`` (``urn:blend:study-id``), or the hospital
number in ``hospital_number_system``, matched through the registry's service
(``registry.services.participant_by_hospital_number``, which needs ``identifiers.view``).
The hospital number is never stored with the facts, nor repeated in an error. A Patient
that matches no member, or two identifiers that name different members, refuse the bundle.

**Imported facts** are cohort facts with ``origin = fhir``, the bundle and the resources
they come from as their source, and no confirmation. A value the nurse entered earlier is
replaced only when the hospital record says otherwise, and the replaced value is kept for
the nurse to see (and in the history). Eligibility cannot be confirmed for any trial while
an imported fact of the member is unconfirmed (``unconfirmed_imports_block``, registered
with the screening app as a confirmation hold). The worklist reads imported facts as any
other, so an import moves a member onto (or off) it at once.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.accounts.permissions import check
from blend.apps.audit.services import audited_save, record_event
from blend.apps.prescreening.models import CohortFact, Origin
from blend.apps.prescreening.services import (
    FROM_RECORDS,
    PrescreeningError,
    catalogue,
    refresh_members,
)
from blend.apps.registry.models import Participant
from blend.apps.registry.services import participant_by_hospital_number
from blend.interop.fhir_import import BundleFacts, BundleRefused, ImportedFact, PatientRef, Problem
from blend.interop.fhir_import import read_bundle as read
from blend.protocol.fhir_mapping import FhirMapping, load_fhir_mapping

SOURCE_LENGTH = 120  # CohortFact.source


@dataclass(frozen=True)
class ImportResult:
    participant: Participant
    bundle: str  # the bundle's label (identifier, id or the name it came under)
    written: dict[str, str]  # fact key → "added" | "replaced" | "unchanged"
    found: BundleFacts

    @property
    def to_confirm(self) -> list[str]:
        return [key for key, what in self.written.items() if what != "unchanged"]


def fhir_mapping() -> FhirMapping:
    """The cohort's code mapping, checked against its catalogue (never the record facts)."""
    return load_fhir_mapping(catalogue(), excluded=FROM_RECORDS)


def parse_json(text: bytes | str) -> Any:
    """The bundle's JSON, or ``BundleRefused`` saying where the text stops being JSON."""
    try:
        return json.loads(text)
    except UnicodeDecodeError:
        raise BundleRefused(
            [Problem("Bundle", "Bundle", "a JSON document in UTF-8", "bytes that are not UTF-8")]
        ) from None
    except json.JSONDecodeError as error:
        found = f"text that is not JSON ({error.msg} at line {error.lineno}, column {error.colno})"
        raise BundleRefused([Problem("Bundle", "Bundle", "a JSON document", found)]) from None


def read_bundle(bundle: Any) -> BundleFacts:
    """The bundle read with the cohort's mapping (nothing written)."""
    return read(bundle, fhir_mapping(), catalogue())


def _by_study_id(patient: PatientRef) -> Participant | None:
    members = list(Participant.objects.filter(study_id__in=set(patient.study_ids)))
    if len(members) == len(set(patient.study_ids)) == 1:
        return members[0]
    if patient.study_ids:
        expected = "the study ID of one cohort member"
        raise BundleRefused(
            [
                Problem(
                    patient.resource,
                    f"{patient.path}.identifier",
                    expected,
                    repr(patient.study_ids),
                )
            ]
        )
    return None


def _by_hospital_number(patient: PatientRef, user: User) -> Participant | None:
    members = {
        found.pk: found
        for number in set(patient.hospital_numbers)
        if (found := participant_by_hospital_number(number, user=user)) is not None
    }
    if len(members) == 1 and len(set(patient.hospital_numbers)) == 1:
        return next(iter(members.values()))
    if patient.hospital_numbers:
        # The numbers are direct identifiers: named by count, never repeated back.
        named = (
            f"{len(set(patient.hospital_numbers))} hospital number(s) naming {len(members)} members"
        )
        raise BundleRefused(
            [
                Problem(
                    patient.resource,
                    f"{patient.path}.identifier",
                    "the hospital number of one cohort member",
                    named,
                )
            ]
        )
    return None


def matched_member(patient: PatientRef, user: User) -> Participant:
    """The cohort member the bundle's Patient names, or ``BundleRefused``."""
    by_study = _by_study_id(patient)
    by_hospital = _by_hospital_number(patient, user) if patient.hospital_numbers else None
    if by_study and by_hospital and by_study.pk != by_hospital.pk:
        raise BundleRefused(
            [
                Problem(
                    patient.resource,
                    f"{patient.path}.identifier",
                    "a study ID and a hospital number of the same cohort member",
                    "identifiers of two different members",
                )
            ]
        )
    member = by_study or by_hospital
    if member is None:  # read_bundle refuses a Patient with neither identifier
        raise BundleRefused(
            [Problem(patient.resource, f"{patient.path}.identifier", "a cohort member", "none")]
        )
    return member


def _source(label: str, fact: ImportedFact) -> str:
    observed = f" ({fact.observed_on.isoformat()})" if fact.observed_on else ""
    text = f"FHIR {label}: {', '.join(fact.resources)}{observed}"
    return text if len(text) <= SOURCE_LENGTH else text[: SOURCE_LENGTH - 1] + "…"


def _write(
    participant: Participant, facts: dict[str, ImportedFact], label: str, user: User, on: date
) -> dict[str, str]:
    existing = {row.key: row for row in CohortFact.objects.filter(participant=participant)}
    written: dict[str, str] = {}
    for key, fact in facts.items():
        row = existing.get(key)
        if row is not None and row.value == fact.value:
            written[key] = "unchanged"  # the record agrees with what the cohort holds
            continue
        reason = ""
        if row is not None:
            # An import replacing an import keeps the value the nurse last had in front of them.
            row.replaced_value = row.replaced_value if row.to_confirm else row.value
            reason = _("imported from the hospital record (FHIR bundle %(bundle)s)") % {
                "bundle": label
            }
        row = row or CohortFact(participant=participant, key=key)
        row.value, row.recorded_on, row.recorded_by = fact.value, on, user
        row.source, row.origin = _source(label, fact), Origin.FHIR
        row.confirmed_at = row.confirmed_by = None
        audited_save(row, user=user, reason=reason)
        written[key] = "replaced" if reason else "added"
    return written


@transaction.atomic
def import_fhir_bundle(bundle: Any, *, user: User, name: str = "") -> ImportResult:
    """Pre-fill a member's cohort facts from a FHIR Bundle (a parsed JSON value), all or
    nothing: a bad bundle raises ``BundleRefused`` listing every problem, and nothing is
    written. ``name`` labels a bundle that has neither an identifier nor an id (the file)."""
    check(user, Cap.PARTICIPANT_WRITE)
    found = read_bundle(bundle)
    participant = matched_member(found.patient, user)
    Participant.objects.select_for_update().filter(pk=participant.pk).first()
    on = max(timezone.localdate(), participant.registered_on)
    label = found.label or name or "bundle"
    written = _write(participant, dict(found.facts), label, user, on)
    record_event(
        "cohort_facts.import_fhir",
        actor=user,
        participant=participant,
        details={
            "bundle": label,
            "written": written,
            "resources": sorted({r for fact in found.facts.values() for r in fact.resources}),
            "unused": len(found.unused),
        },
    )
    refresh_members([participant.pk])  # the worklist reads imported facts at once
    return ImportResult(participant, label, written, found)


def unconfirmed_imports(participant: Participant) -> list[CohortFact]:
    """The member's imported facts waiting for the nurse's confirmation."""
    return list(
        CohortFact.objects.filter(participant=participant, confirmed_at__isnull=True)
        .exclude(origin=Origin.ENTERED)
        .order_by("key")
    )


def unconfirmed_imports_block(participant: Participant, trial: str) -> str | None:
    """The confirmation hold registered with screening: eligibility (for any trial) is not
    confirmed while a fact imported from the hospital record is unconfirmed."""
    waiting = unconfirmed_imports(participant)
    if not waiting:
        return None
    specs = catalogue()
    labels = ", ".join(
        str(specs[row.key].label) if row.key in specs else row.key for row in waiting
    )
    return _(
        "Expected every fact imported from the hospital record to be confirmed by the research "
        "nurse before eligibility is confirmed; not yet confirmed: %(facts)s. Confirm them on "
        "the member's cohort facts page."
    ) % {"facts": labels}


@transaction.atomic
def confirm_imported_facts(
    participant: Participant, keys: Collection[str], *, user: User
) -> list[CohortFact]:
    """The nurse confirms imported facts as they stand (a wrong one is corrected on the
    cohort facts form instead, which records it as entered). Every key must be an imported
    fact waiting for confirmation, or nothing is confirmed."""
    check(user, Cap.PARTICIPANT_WRITE)
    if not keys:
        raise PrescreeningError(
            {"facts": "expected at least one imported fact to confirm; got none"}
        )
    Participant.objects.select_for_update().filter(pk=participant.pk).first()
    waiting = {row.key: row for row in unconfirmed_imports(participant)}
    errors = {
        key: f"expected an imported fact waiting for confirmation (one of {sorted(waiting)}); got {key!r}"
        for key in keys
        if key not in waiting
    }
    if errors:
        raise PrescreeningError(errors)
    now = timezone.now()
    confirmed = []
    for key in sorted(set(keys)):
        row = waiting[key]
        row.confirmed_at, row.confirmed_by = now, user
        audited_save(row, user=user, reason="imported fact confirmed by the research nurse")
        confirmed.append(row)
    record_event(
        "cohort_facts.confirm_import",
        actor=user,
        participant=participant,
        at=now,
        details={"facts": [row.key for row in confirmed]},
    )
    return confirmed
