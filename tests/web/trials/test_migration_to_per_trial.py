"""A database built with the single-trial schema migrates to per-trial records without
loss: every row is kept, column for column, and each is assigned to BLEND; the allocation
chain still verifies and the commitment is unchanged.

The rows are written at the old schema through that schema's own (historical) models,
with a real hash chain and commitment, as the single-trial platform wrote them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from blend.apps.allocation.models import RandomizationCommitment
from blend.apps.allocation.verification import verify
from blend.apps.audit.append_only import migrating
from blend.protocol import load_trial
from blend.randomization import allocate_next, commitment, load_spec, parse_seed
from blend.randomization.chain import GENESIS_HASH, record_hash

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("screening", "0001_initial"),
    ("allocation", "0002_sequence_commitment_and_history"),
    ("offers", "0002_offer_without_history"),
    ("treatment", "0001_initial"),
]
AFTER = [
    ("screening", "0002_per_trial"),
    ("allocation", "0003_per_trial"),
    ("offers", "0003_per_trial"),
    ("treatment", "0002_per_trial"),
]
#: Every table the migration rewrites, and whether it gains the trial column.
TABLES = {
    "screening_screening": True,
    "screening_historicalscreening": True,
    "allocation_allocation": True,
    "allocation_allocationlog": True,
    "allocation_allocationsequence": False,
    "allocation_randomizationcommitment": False,
    "offers_offer": True,
    "treatment_treatmentrecord": True,
    "treatment_historicaltreatmentrecord": True,
}


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    with migrating():  # what the migrate command does around its migrations (audit chain)
        executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _dump() -> dict[str, list[dict[str, Any]]]:
    tables = {}
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f'SELECT * FROM "{table}" ORDER BY id')  # noqa: S608 (fixed names)
            names = [column[0] for column in cursor.description]
            tables[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return tables


def _write_single_trial_rows(apps: Any, participants: list[Any], users: dict[str, Any]) -> None:
    """What the single-trial platform wrote: screenings (with history), a hash-chained
    allocation per participant, its sequence row and commitment, an offer and a treatment."""
    screening_model = apps.get_model("screening", "Screening")
    history_model = apps.get_model("screening", "HistoricalScreening")
    allocation_model = apps.get_model("allocation", "Allocation")
    log_model = apps.get_model("allocation", "AllocationLog")
    sequence_model = apps.get_model("allocation", "AllocationSequence")
    commitment_model = apps.get_model("allocation", "RandomizationCommitment")
    offer_model = apps.get_model("offers", "Offer")
    treatment_model = apps.get_model("treatment", "TreatmentRecord")
    treatment_history = apps.get_model("treatment", "HistoricalTreatmentRecord")
    nurse, investigator = users["nurse_nina"], users["investigator_ivo"]
    seed, spec = parse_seed(settings.RANDOMIZATION_SEED), load_spec()
    digest = commitment(seed, spec)
    start = timezone.make_aware(datetime(2025, 3, 12, 9, 30))
    commitment_model.objects.create(
        trial_code="BLEND",
        digest=digest,
        design_json=spec.canonical_json(),
        recorded_at=start,
        recorded_by_id=investigator.pk,
    )
    head, arms, history = GENESIS_HASH, "", []
    for number, participant in enumerate(participants, start=1):
        confirmed_at = start + timedelta(hours=number)
        screening = screening_model.objects.create(
            participant_id=participant.pk,
            screened_on=date(2025, 3, 10),
            screened_by_id=nurse.pk,
            facts={"age": 60 + number, "sins_total": 9},
            status="eligible",
            reasons={},
            criteria_version="1.0",
            confirmed_at=confirmed_at,
            confirmed_by_id=investigator.pk,
        )
        history_model.objects.create(
            id=screening.pk,
            participant_id=participant.pk,
            screened_on=screening.screened_on,
            screened_by_id=nurse.pk,
            facts=screening.facts,
            status="eligible",
            reasons={},
            criteria_version="1.0",
            updated_at=confirmed_at,
            history_date=confirmed_at,
            history_type="+",
            history_user_id=nurse.pk,
        )
        arm = allocate_next(spec, seed, history, {}, [])
        history.append(arm)
        at = confirmed_at + timedelta(minutes=5)
        fields = {
            "sequence_number": number,
            "participant_id": participant.pk,
            "study_id": participant.study_id,
            "arm": arm,
            "stratum": "",
            "stratum_index": number - 1,
            "profile": {},
            "allocated_at": at,
            "allocated_by": nurse.get_username(),
        }
        previous, head = head, record_hash(head, fields)
        allocation_model.objects.create(
            participant_id=participant.pk,
            arm=arm,
            sequence_number=number,
            stratum="",
            stratum_index=number - 1,
            profile={},
            allocated_at=at,
            allocated_by_id=nurse.pk,
        )
        log_model.objects.create(
            previous_hash=previous,
            hash=head,
            **fields,
        )
        arms += "I" if arm == "intervention" else "C"
        if arm == "intervention":
            offer_model.objects.create(
                participant_id=participant.pk,
                state="accepted",
                offered_on=at.date(),
                offered_by_id=nurse.pk,
                decided_on=at.date(),
                decided_by_id=nurse.pk,
                trial_consent_version="1.0",
            )
        record = treatment_model.objects.create(
            participant_id=participant.pk,
            pathway="same_day" if arm == "intervention" else "standard",
            planned_on=at.date() + timedelta(days=5),
            recorded_by_id=nurse.pk,
            notes=f"note {number}",
        )
        treatment_history.objects.create(
            id=record.pk,
            participant_id=participant.pk,
            pathway=record.pathway,
            planned_on=record.planned_on,
            recorded_by_id=nurse.pk,
            notes=record.notes,
            updated_at=at,
            history_date=at,
            history_type="+",
            history_user_id=nurse.pk,
        )
    sequence_model.objects.create(
        trial_code="BLEND",
        last_number=len(participants),
        last_hash=head,
        commitment=digest,
        arms_by_stratum={"": arms},
    )


def _arms(tables: dict[str, list[dict[str, Any]]]) -> list[str]:
    return [row["arm"] for row in tables["allocation_allocation"]]


def test_a_single_trial_database_migrates_with_every_row_assigned_to_blend(
    make_participant: Any, personas: dict[str, Any]
) -> None:
    participants = [make_participant() for _ in range(5)]
    old_apps = _migrate(BEFORE)
    try:
        _write_single_trial_rows(old_apps, participants, personas)
        before = _dump()
        _migrate(AFTER)
        after = _dump()
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert {table: len(rows) for table, rows in before.items()} == {
        table: len(rows) for table, rows in after.items()
    }
    offers = sum(arm == "intervention" for arm in _arms(before))
    assert len(before["allocation_allocationlog"]) == 5 and len(before["offers_offer"]) == offers
    for table, gains_trial in TABLES.items():
        for old, new in zip(before[table], after[table], strict=True):
            if gains_trial:
                assert new.pop("trial") == "BLEND", table
            assert new == old, table  # every other column, unchanged

    report = verify(settings.RANDOMIZATION_SEED, trial="BLEND")
    assert report.ok, report.problems
    assert report.allocations == 5 and report.regenerated  # every arm, again from the seed
    recorded = RandomizationCommitment.objects.get(trial_code="BLEND")
    seed = parse_seed(settings.RANDOMIZATION_SEED)
    assert recorded.digest == commitment(seed, load_spec())
    # The per-trial design of BLEND is the design committed to: the commitment still holds.
    assert recorded.digest == commitment(seed, load_trial("BLEND").design)
