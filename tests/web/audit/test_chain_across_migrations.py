"""Migrations that drop and add columns of chained tables keep every chain valid: the
chain triggers are dropped while migrations run, rows written meanwhile are chained
afterwards, and each link recomputes over the columns it hashed."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from blend.apps.audit.append_only import migrating
from blend.apps.audit.integrity import check_audit
from blend.apps.audit.models import AuditChainLink
from tests.web.screening.flow import screen_and_confirm
from tests.web.trials.test_migration_to_per_trial import BEFORE

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(targets: Any) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    with migrating():
        executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_chains_hold_when_a_migration_drops_a_column_and_another_adds_it_back(
    make_participant, personas
) -> None:
    for _ in range(2):
        screen_and_confirm(make_participant(), personas)
    before = AuditChainLink.objects.filter(table_name="screening_historicalscreening").count()
    assert before >= 4
    try:
        old_apps = _migrate(BEFORE)  # drops the trial column of the screening tables
        history = old_apps.get_model("screening", "HistoricalScreening")
        row = history.objects.order_by("history_id").values().first()
        row.pop("history_id")
        history.objects.create(**row)  # a row written at the old schema, chained there
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    chains = [p for t in check_audit().tables if t.kind == "chain" for p in t.problems]
    assert chains == []
    links = AuditChainLink.objects.filter(table_name="screening_historicalscreening")
    assert links.count() == before + 1
    assert len({link.columns for link in links}) == 2  # hashed with and without `trial`
