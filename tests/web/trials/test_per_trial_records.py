"""One cohort member, two trials: a screening, an allocation sequence, a commitment, a
chain, an offer and a treatment record per trial, and the overlap rules between them
decided under the allocation lock."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone

from blend.apps.allocation.models import (
    Allocation,
    AllocationLog,
    AllocationSequence,
    RandomizationCommitment,
)
from blend.apps.allocation.services import NotEligible, overlap_refusals, randomize
from blend.apps.allocation.verification import verify
from blend.apps.offers import services as offers
from blend.apps.screening.models import Screening
from blend.apps.screening.services import latest_screening, save_screening
from blend.apps.treatment.services import record_treatment, treatment_of
from blend.apps.trials.lookup import UnknownTrial
from blend.protocol import load_trial
from blend.randomization import commitment, parse_seed
from blend.web.env import trial_secrets
from tests.web.screening.flow import ELIGIBLE_FORM_FACTS, SCREENED_ON, screen_and_confirm
from tests.web.trials.flow import confirm_for_vertical, screen_for_vertical

pytestmark = pytest.mark.django_db


def test_a_member_is_screened_for_each_trial_on_that_trials_criteria(
    make_participant: Any, personas: dict[str, Any]
) -> None:
    member = make_participant()
    nurse = personas["nurse_nina"]
    blend = save_screening(member, ELIGIBLE_FORM_FACTS, on=SCREENED_ON, user=nurse)
    vertical = screen_for_vertical(member, nurse, unstable_spine_needs_stabilization=True)
    assert (blend.trial, blend.status) == ("BLEND", "eligible")
    # VERTICAL excludes the unstable spine that BLEND requires.
    assert (vertical.trial, vertical.status) == ("VERTICAL", "ineligible")
    assert set(vertical.reasons) == {"E8_UNSTABLE_SPINE"}
    assert vertical.facts["consent_questionnaires"] is True  # read from the consent records
    assert latest_screening(member, "VERTICAL") == vertical
    assert latest_screening(member) == blend  # no trial named: the default trial, BLEND
    assert Screening.objects.filter(participant=member).count() == 2


def test_an_unknown_trial_is_refused_with_the_known_ones(
    make_participant: Any, personas: dict[str, Any]
) -> None:
    with pytest.raises(UnknownTrial, match="expected one of BLEND, VERTICAL, got 'NOPE'"):
        save_screening(
            make_participant(), {}, on=SCREENED_ON, user=personas["nurse_nina"], trial="NOPE"
        )


def test_each_trial_has_its_own_sequence_seed_commitment_and_chain(
    make_participant: Any, personas: dict[str, Any]
) -> None:
    nurse = personas["nurse_nina"]
    in_blend, in_vertical = make_participant(), make_participant()
    screen_and_confirm(in_blend, personas)
    confirm_for_vertical(in_vertical, personas)
    first_blend = randomize(in_blend, user=nurse)
    first_vertical = randomize(in_vertical, user=nurse, trial="VERTICAL")

    assert (first_blend.trial, first_blend.sequence_number) == ("BLEND", 1)
    assert (first_vertical.trial, first_vertical.sequence_number) == ("VERTICAL", 1)
    assert dict(AllocationSequence.objects.values_list("trial_code", "last_number")) == {
        "BLEND": 1,
        "VERTICAL": 1,
    }
    vertical_seed = parse_seed(settings.RANDOMIZATION_SEEDS["VERTICAL"])
    recorded = RandomizationCommitment.objects.get(trial_code="VERTICAL")
    assert recorded.digest == commitment(vertical_seed, load_trial("VERTICAL").design)
    assert recorded.digest != RandomizationCommitment.objects.get(trial_code="BLEND").digest
    assert set(AllocationLog.objects.values_list("trial", "sequence_number")) == {
        ("BLEND", 1),
        ("VERTICAL", 1),
    }
    vertical = verify(settings.RANDOMIZATION_SEEDS["VERTICAL"], trial="VERTICAL")
    assert vertical.ok and vertical.regenerated and vertical.allocations == 1
    # BLEND's seed does not regenerate VERTICAL's arms: the commitment says so.
    wrong = verify(settings.RANDOMIZATION_SEED, trial="VERTICAL")
    assert not wrong.ok and "commitment" in wrong.problems[0]
    assert verify(settings.RANDOMIZATION_SEED, trial="BLEND").ok


def test_verify_trial_on_the_command_line(make_participant: Any, personas: dict[str, Any]) -> None:
    member = make_participant()
    confirm_for_vertical(member, personas)
    randomize(member, user=personas["nurse_nina"], trial="VERTICAL")
    out = _call("randomization_verify", "--trial", "VERTICAL")
    assert "VERTICAL: 1 allocations" in out and "OK: the allocation log of VERTICAL" in out
    assert "BLEND: 0 allocations" in _call("randomization_verify", "--trial", "BLEND")
    with pytest.raises(CommandError, match="expected one of BLEND, VERTICAL"):
        _call("randomization_verify", "--trial", "VERTICALL")


def _call(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_a_missing_trial_seed_names_its_variable(
    make_participant: Any, personas: dict[str, Any], settings: Any
) -> None:
    settings.RANDOMIZATION_SEEDS = {}
    member = make_participant()
    confirm_for_vertical(member, personas)
    with pytest.raises(Exception, match="BLEND_RANDOMIZATION_SEED_VERTICAL: expected"):
        randomize(member, user=personas["nurse_nina"], trial="VERTICAL")
    assert not Allocation.objects.exists()


def test_the_database_refuses_a_second_allocation_in_one_trial_but_not_in_another(
    make_participant: Any, personas: dict[str, Any]
) -> None:
    member = make_participant()
    screen_and_confirm(member, personas)
    first = randomize(member, user=personas["nurse_nina"])
    fields = {
        "participant": member,
        "arm": "control",
        "sequence_number": 99,
        "stratum": "x",
        "stratum_index": 0,
        "allocated_at": first.allocated_at,
        "allocated_by": personas["nurse_nina"],
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation.objects.create(trial="BLEND", **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation.objects.create(trial="", **fields)  # a record must name its trial
    Allocation.objects.create(trial="VERTICAL", **fields)  # the constraint is per trial


def test_an_overlap_rule_refuses_under_the_lock_and_says_until_when(
    make_participant: Any, personas: dict[str, Any]
) -> None:
    nurse = personas["nurse_nina"]
    member = make_participant()
    confirm_for_vertical(member, personas)
    screen_and_confirm(member, personas)
    vertical = randomize(member, user=nurse, trial="VERTICAL")
    today = timezone.localdate()

    # Before VERTICAL's treatment starts, its primary-outcome window has no end yet.
    found = overlap_refusals(member, "BLEND", today)
    assert [r.rule.kind for r in found] == ["not_during_primary_window"]
    assert found[0].lifts_on is None
    with pytest.raises(NotEligible, match="not while in the primary-outcome window of"):
        randomize(member, user=nurse)

    started = timezone.localdate(vertical.allocated_at) + timedelta(days=2)
    procedure, dose = ("sbrt", 18.0) if vertical.arm == "intervention" else ("conventional_rt", 8.0)
    record_treatment(
        member,
        {
            "planned_on": started,
            "arm_given": vertical.arm,
            "procedures": {procedure: {"on": started.isoformat(), "dose_gy": dose, "fractions": 1}},
        },
        user=nurse,
        trial="VERTICAL",
    )
    assert treatment_of(member, "VERTICAL") is not None and treatment_of(member) is None
    (refusal,) = overlap_refusals(member, "BLEND", today)
    # VERTICAL's primary outcome is at week 12 (day 84, window to day 91).
    assert refusal.lifts_on == started + timedelta(days=92)
    assert "until" in str(_refusal(member, nurse))
    assert not Allocation.objects.filter(participant=member, trial="BLEND").exists()

    later = timezone.make_aware(
        timezone.datetime.combine(refusal.lifts_on, timezone.datetime.min.time())
    ) + timedelta(hours=12)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: later)
        assert overlap_refusals(member, "BLEND", refusal.lifts_on) == []
        allocation = randomize(member, user=nurse, now=later)
    assert allocation.trial == "BLEND"


def _refusal(member: Any, nurse: Any) -> NotEligible:
    try:
        randomize(member, user=nurse)
    except NotEligible as error:
        return error
    raise AssertionError("expected the overlap rule to refuse")


def test_offers_and_treatments_are_per_trial(
    make_participant: Any, personas: dict[str, Any]
) -> None:
    nurse = personas["nurse_nina"]
    member = None
    for _ in range(30):  # a member allocated to VERTICAL's intervention
        candidate = make_participant()
        confirm_for_vertical(candidate, personas)
        if randomize(candidate, user=nurse, trial="VERTICAL").arm == "intervention":
            member = candidate
            break
    assert member is not None
    on = timezone.localdate()
    offers.make_offer(member, on=on, user=nurse, trial="VERTICAL")
    assert offers.offer_state(member, "VERTICAL") == "offered"
    assert offers.offer_state(member) is None  # nothing in BLEND
    assert offers.may_mention_trial(member, "VERTICAL")
    assert not offers.may_mention_trial(member, "BLEND")
    with pytest.raises(offers.OfferError, match="intervention arm"):
        offers.make_offer(member, on=on, user=nurse)  # not allocated in BLEND
    assert [a.participant for a in offers.offer_worklist("VERTICAL")] == [member]
    assert list(offers.offer_worklist("BLEND")) == []


def test_the_allocation_service_checks_the_capability_in_the_trial(
    make_participant: Any, trial_personas: dict[str, Any]
) -> None:
    personas = trial_personas
    member = make_participant()
    confirm_for_vertical(member, personas)
    with pytest.raises(PermissionDenied, match="randomize"):
        randomize(member, user=personas["statistician_stan"], trial="VERTICAL")
    with pytest.raises(PermissionDenied, match="in trial VERTICAL"):
        randomize(member, user=personas["nurse_bea"], trial="VERTICAL")  # a BLEND-only nurse
    assert not Allocation.objects.exists() and not AllocationLog.objects.exists()


def test_trial_seeds_are_read_per_trial_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    seed_file = tmp_path / "seed"
    seed_file.write_text("ab" * 32 + "\n")
    monkeypatch.setenv("BLEND_RANDOMIZATION_SEED_VERTICAL", "cd" * 32)
    monkeypatch.setenv("BLEND_RANDOMIZATION_SEED_NEW_TRIAL_FILE", str(seed_file))
    monkeypatch.setenv("BLEND_RANDOMIZATION_SEED_FILE", "/the/default/trials/file")
    found = trial_secrets("BLEND_RANDOMIZATION_SEED")
    assert found["VERTICAL"] == "cd" * 32
    assert found["NEW-TRIAL"] == "ab" * 32  # a code's '-' is '_' in the variable's name
    assert "FILE" not in found
