"""Locks and sign-offs written before trials had codes migrate without loss: every row is
kept column for column; sign-offs become BLEND's (what they covered: the cohort's data
and BLEND's, so they stay current), locks stay the cohort's (they froze everything, and
still do: no data is unlocked by a migration)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone, translation

from blend.apps.audit.append_only import migrating
from blend.apps.datamanagement import services
from blend.apps.datamanagement.locks import Locked, is_locked
from blend.apps.datamanagement.models import Signature
from blend.apps.registry.services import update_participant
from tests.web.screening.flow import screen
from tests.web.trials.flow import screen_for_vertical

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _english() -> Any:
    """The refusals are matched in English, whatever language an earlier test left active."""
    with translation.override("en"):
        yield


BEFORE = [("datamanagement", "0001_initial")]
AFTER = [("datamanagement", "0002_locks_and_signoffs_per_trial")]
TABLES = {
    "datamanagement_lock": True,
    "datamanagement_historicallock": True,
    "datamanagement_signature": True,
    "datamanagement_historicalsignature": True,
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
            key = "history_id" if "historical" in table else "id"
            cursor.execute(f'SELECT * FROM "{table}" ORDER BY {key}')  # noqa: S608 (fixed names)
            names = [column[0] for column in cursor.description]
            tables[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return tables


def test_locks_stay_the_cohorts_and_sign_offs_become_blends(
    make_participant: Any, personas: dict[str, Any]
) -> None:
    nurse, dirk = personas["nurse_nina"], personas["datamanager_dirk"]
    ivo = personas["investigator_ivo"]
    signed, locked = make_participant(), make_participant()
    screen(signed, nurse)
    screen_for_vertical(locked, nurse)
    fingerprint = services.data_fingerprint(signed, "BLEND")
    old_apps = _migrate(BEFORE)
    try:
        lock_model = old_apps.get_model("datamanagement", "Lock")
        lock_history = old_apps.get_model("datamanagement", "HistoricalLock")
        signature_model = old_apps.get_model("datamanagement", "Signature")
        signature_history = old_apps.get_model("datamanagement", "HistoricalSignature")
        now = timezone.now()
        for values in (
            {"scope": "participant", "participant_id": locked.pk, "reason": "casebook done"},
            {"scope": "database", "participant_id": None, "reason": "interim"},
        ):
            lock = lock_model.objects.create(locked_by_id=dirk.pk, **values)
            lock_history.objects.create(
                id=lock.pk,
                locked_at=lock.locked_at,
                locked_by_id=dirk.pk,
                history_date=now,
                history_type="+",
                **values,
            )
        signature = signature_model.objects.create(
            participant_id=signed.pk,
            signed_by_id=ivo.pk,
            signer_name="Ivo",
            meaning="I reviewed the case report forms",
            data_fingerprint=fingerprint,
        )
        signature_history.objects.create(
            id=signature.pk,
            participant_id=signed.pk,
            signed_by_id=ivo.pk,
            signer_name="Ivo",
            signed_at=signature.signed_at,
            meaning=signature.meaning,
            data_fingerprint=fingerprint,
            history_date=now,
            history_type="+",
        )
        before = _dump()
        _migrate(AFTER)
        after = _dump()
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert {t: len(rows) for t, rows in before.items()} == {t: len(r) for t, r in after.items()}
    for table in TABLES:
        expected = "BLEND" if "signature" in table else ""
        for old, new in zip(before[table], after[table], strict=True):
            assert new.pop("trial") == expected, table
            assert new == old, table  # every other column, unchanged

    # The sign-off is BLEND's and still current: it covered what BLEND's covers.
    migrated = Signature.objects.get()
    assert migrated.trial == "BLEND" and services.signature_is_current(migrated)
    # The locks still freeze everything: the participant's VERTICAL data, the database.
    assert is_locked(locked, "VERTICAL") and is_locked(signed)
    with pytest.raises(Locked, match="the database is locked"):
        update_participant(signed, {"performance_status": 2}, user=nurse, reason="letter")
