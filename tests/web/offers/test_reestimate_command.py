"""`blend design reestimate --trial CODE` on the offer records, and its decision record."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.utils import timezone

from blend.apps.audit.models import AuditEvent
from blend.apps.offers.acceptance import REESTIMATION_EVENT, offer_counts, record_reestimation
from blend.apps.trials.lookup import get_trial
from blend.design.reestimate import reestimate
from tests.web.offers.offer_flow import make_offers
from tests.web.screening.flow import randomized

pytestmark = pytest.mark.django_db
VERSION = "BLEND ICF v2.0 (2022-09-09)"


def today() -> date:
    return timezone.localdate()


@pytest.fixture
def offers_made(make_participant, personas):
    """Offers in the intervention arm; a control adds nothing."""
    make_offers(make_participant, personas, accepted=1, refused=1, pending=1)
    randomized(make_participant, personas, "control")  # a control adds nothing


def test_the_counts_come_from_the_trials_offers(offers_made, personas) -> None:
    counts = offer_counts("BLEND", user=personas["statistician_stan"])
    assert (counts.accepted, counts.refused, counts.pending) == (1, 1, 1)
    assert offer_counts("VERTICAL", user=personas["statistician_stan"]).decided == 0


def test_the_counts_need_allocation_view_in_the_trial(offers_made, personas) -> None:
    with pytest.raises(PermissionDenied, match="allocation.view"):
        offer_counts("BLEND", user=personas["admin_ada"])


def test_the_command_prints_the_reestimation(offers_made, capsys) -> None:
    call_command("design_reestimate", "--trial", "BLEND", "--user", "statistician_stan")
    out = capsys.readouterr().out
    assert "Offers: 2 decided (1 accepted, 1 refused), 1 pending" in out
    assert "observed                    50.0%" in out
    assert "Only 2 of the 25 decisions the rule waits for" in out
    assert not AuditEvent.objects.filter(action=REESTIMATION_EVENT).exists()


def test_the_command_refuses_a_user_without_allocation_view_and_a_decision_too_early(
    offers_made,
) -> None:
    with pytest.raises(CommandError, match="allocation.view"):
        call_command("design_reestimate", "--trial", "BLEND", "--user", "admin_ada")
    with pytest.raises(CommandError, match="re-estimates after 25 decided offers; BLEND has 2"):
        call_command(
            "design_reestimate", "--trial", "BLEND", "--user", "statistician_stan",
            "--record", "--reason", "DSMB 2026-11",
        )  # fmt: skip
    with pytest.raises(CommandError, match="--user: expected an existing username"):
        call_command("design_reestimate", "--trial", "BLEND", "--user", "nobody")
    assert not AuditEvent.objects.filter(action=REESTIMATION_EVENT).exists()


def test_a_decision_is_recorded_with_who_why_and_every_row(offers_made, personas) -> None:
    stan = personas["statistician_stan"]
    shipped = get_trial("BLEND").sample_size
    assert shipped is not None
    plan = replace(shipped, interim_decisions=2)
    result = reestimate(plan, offer_counts("BLEND", user=stan), planned_total=100)
    with pytest.raises(ValueError, match="reason: expected why"):
        record_reestimation("BLEND", result, user=stan, reason="  ")
    record_reestimation("BLEND", result, user=stan, reason="DSMB minute 2026-11-30")
    event = AuditEvent.objects.get(action=REESTIMATION_EVENT)
    assert (event.actor, event.reason) == (stan, "DSMB minute 2026-11-30")
    assert event.details["trial"] == "BLEND"
    assert event.details["decision_total"] == result.decision_total
    assert [row["label"] for row in event.details["rows"]][1] == "observed"


def test_blend_design_reestimate_without_counts_reads_the_database(offers_made, capsys) -> None:
    from blend.cli import main as blend

    assert blend(["design", "reestimate", "--trial", "BLEND", "--user", "statistician_stan"]) == 0
    assert "Offers: 2 decided (1 accepted, 1 refused), 1 pending" in capsys.readouterr().out
