"""Stored pre-screening verdicts: kept current when a member's facts, registration or
consent change, when a trial's criteria change (fingerprint) and when an age turns over,
and the worklist read from them equals a from-scratch assessment of the cohort."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from blend.apps.consent.services import record_consent
from blend.apps.prescreening import services
from blend.apps.prescreening.models import MemberVerdict, Rank, VerdictSync
from blend.apps.prescreening.services import (
    assess_members,
    recordable_keys,
    refresh_trial,
    sync_verdicts,
    worklist,
)
from blend.apps.registry.models import Participant
from blend.apps.registry.services import update_participant
from blend.apps.screening.models import Screening
from blend.apps.trials.lookup import get_trial
from blend.eligibility.cohort import potentially_eligible
from tests.web.prescreening.test_prescreening import (
    BLEND_COHORT_FACTS,
    RECORDED_ON,
    VERTICAL_COHORT_FACTS,
    record,
)
from tests.web.screening.flow import screen

pytestmark = pytest.mark.django_db

ON = date(2025, 6, 1)


def status_of(member: Participant, trial: str = "BLEND") -> str:
    return MemberVerdict.objects.get(participant=member, trial=trial).status


def full_worklist(trial: str, on: date = ON, per_page: int = 7) -> list[tuple[str, str, list]]:
    """Every page of the stored worklist, in order."""
    rows, page = [], 1
    while True:
        found = worklist(trial, on, page=page, per_page=per_page)
        rows += [(r.study_id, r.status, r.missing) for r in found.rows]
        if page >= found.pages:
            return rows
        page += 1


def from_scratch(trial: str, on: date = ON) -> list[tuple[str, str, list]]:
    """The worklist computed without stored verdicts: every member with recorded cohort
    facts and no screening for the trial, assessed now, in worklist order."""
    candidates = (
        Participant.objects.filter(cohort_facts__isnull=False)
        .exclude(screenings__trial=trial)
        .distinct()
    )
    known, verdicts = assess_members(candidates, [trial], on, {})
    labels = get_trial(trial).criteria.facts
    found = [
        (
            result.status != "eligible",
            known.participants[pid]["registered_on"],
            known.participants[pid]["study_id"],
            result.status,
            [labels[key].label for key in result.missing_facts],
        )
        for pid, result in verdicts[trial].items()
        if potentially_eligible(result)
    ]
    return [(study_id, status, missing) for *_, study_id, status, missing in sorted(found)]


def test_recording_facts_updates_the_members_verdict_on_every_trial(
    make_participant, personas
) -> None:
    nurse, member = personas["nurse_nina"], make_participant()
    record(member, nurse, {"pain_score": 6})
    assert status_of(member, "BLEND") == "pending" and status_of(member, "VERTICAL") == "pending"
    record(member, nurse, {"life_expectancy_months": 2})  # excluded from both
    assert status_of(member, "BLEND") == "ineligible"
    assert status_of(member, "VERTICAL") == "ineligible"
    record(member, nurse, {"life_expectancy_months": None, "pain_score": None}, reason="error")
    assert not MemberVerdict.objects.filter(participant=member).exists()  # nothing recorded


def test_a_consent_or_registration_change_is_picked_up_before_the_worklist_reads(
    make_participant, personas, consent_version
) -> None:
    nurse, member = personas["nurse_nina"], make_participant()
    facts = {k: v for k, v in BLEND_COHORT_FACTS.items() if k != "multiple_myeloma"}
    record(member, nurse, facts)
    assert [r.status for r in worklist("BLEND", ON).rows] == ["eligible"]
    # Consent to randomization withdrawn: the consent records, not the facts, changed.
    record_consent(member, "c", "no", on=RECORDED_ON, form_version=consent_version, user=nurse)
    assert worklist("BLEND", ON).rows == []
    assert status_of(member) == "ineligible"
    record_consent(member, "c", "yes", on=RECORDED_ON, form_version=consent_version, user=nurse)
    assert [r.status for r in worklist("BLEND", ON).rows] == ["eligible"]
    # The registration's primary tumour gives multiple myeloma, which BLEND excludes.
    update_participant(member, {"primary_tumour": "myeloma"}, user=nurse, reason="pathology")
    assert worklist("BLEND", ON).rows == [] and status_of(member) == "ineligible"


def test_screening_removes_a_member_from_the_worklist_without_a_new_verdict(
    make_participant, personas
) -> None:
    nurse, member = personas["nurse_nina"], make_participant()
    record(member, nurse, BLEND_COHORT_FACTS)
    assert [r.study_id for r in worklist("BLEND", ON).rows] == [member.study_id]
    screen(member, nurse)
    assert worklist("BLEND", ON).rows == [] and status_of(member) == "eligible"


def test_a_criteria_change_recomputes_the_whole_trial(
    make_participant, personas, monkeypatch
) -> None:
    nurse = personas["nurse_nina"]
    members = [make_participant() for _ in range(3)]
    for member in members:
        record(member, nurse, {"life_expectancy_months": 2, "pain_score": 6})
    assert worklist("VERTICAL", ON).rows == []
    before = VerdictSync.objects.get(trial="VERTICAL").fingerprint
    # The trial team drops VERTICAL's life-expectancy criterion: nobody's records change.
    original = get_trial("VERTICAL")
    criteria = original.criteria
    dropped = replace(
        criteria,
        criteria=tuple(c for c in criteria.criteria if "life_expectancy_months" not in repr(c)),
    )
    changed = replace(original, criteria=dropped)
    monkeypatch.setattr(
        services, "get_trial", lambda code: changed if code == "VERTICAL" else get_trial(code)
    )
    assert {r.status for r in worklist("VERTICAL", ON).rows} == {"pending"}
    assert len(worklist("VERTICAL", ON).rows) == 3
    assert VerdictSync.objects.get(trial="VERTICAL").fingerprint != before
    assert full_worklist("VERTICAL") == from_scratch("VERTICAL")


def test_a_verdict_on_age_expires_on_the_birthday(make_participant, personas) -> None:
    nurse = personas["nurse_nina"]
    member = make_participant(date_of_birth=date(2007, 6, 10))  # 18 on 2025-06-10
    record(member, nurse, BLEND_COHORT_FACTS)
    assert worklist("BLEND", date(2025, 6, 9)).rows == []
    verdict = MemberVerdict.objects.get(participant=member, trial="BLEND")
    assert verdict.rank == Rank.INELIGIBLE and verdict.valid_until == date(2025, 6, 10)
    assert [r.status for r in worklist("BLEND", date(2025, 6, 10)).rows] == ["eligible"]


def _random_facts(rng: random.Random) -> dict[str, Any]:
    """Facts that fit the catalogue: one of the trials' eligible sets with some facts
    dropped and some replaced by any value the catalogue allows."""
    base = dict(rng.choice([BLEND_COHORT_FACTS, VERTICAL_COHORT_FACTS]))
    specs = services.catalogue()
    for key in rng.sample(sorted(base), rng.randint(0, 5)):
        base.pop(key)
    keys = [k for k in recordable_keys() if k in specs and specs[k].type != "date"]
    for key in rng.sample(keys, rng.randint(0, 3)):
        spec = specs[key]
        if spec.type == "bool":
            base[key] = rng.random() < 0.5
        elif spec.type in {"int", "number"}:
            base[key] = rng.randint(int(spec.minimum or 0), int(spec.maximum or 100))
        elif spec.type == "choice":
            base[key] = rng.choice(list(spec.choices))
        elif spec.type == "choices":
            base[key] = rng.sample(list(spec.choices), rng.randint(1, min(3, len(spec.choices))))
    return base


def test_the_stored_worklist_equals_a_from_scratch_assessment_over_random_changes(
    make_participant, personas, consent_version
) -> None:
    rng = random.Random(20250601)
    nurse = personas["nurse_nina"]
    members = [make_participant(registered_on=date(2025, 3, 1 + i % 3)) for i in range(24)]
    for round_ in range(5):
        for member in rng.sample(members, 8):
            current = services.recorded_facts(member)
            new = _random_facts(rng)
            new.update({key: None for key in current if key not in new and rng.random() < 0.5})
            try:
                record(member, nurse, new, reason=f"round {round_}")
            except services.PrescreeningError:
                continue  # e.g. only removals of facts not recorded: nothing to write
        for member in rng.sample(members, 2):
            answer = rng.choice(["yes", "no"])
            record_consent(
                member, "c", answer, on=RECORDED_ON, form_version=consent_version, user=nurse
            )
        unscreened = [m for m in members if not Screening.objects.filter(participant=m).exists()]
        if round_ % 2 and unscreened:
            screen(rng.choice(unscreened), nurse)
        for trial in ("BLEND", "VERTICAL"):
            assert full_worklist(trial) == from_scratch(trial), (round_, trial)
    statuses = {status for trial in ("BLEND", "VERTICAL") for _, status, _ in from_scratch(trial)}
    assert statuses == {"eligible", "pending"}  # the random sets reach both
    assert MemberVerdict.objects.filter(rank=Rank.INELIGIBLE).exists()


def test_prescreen_refresh_recomputes_with_progress_and_names_an_unknown_trial(
    make_participant, personas
) -> None:
    nurse = personas["nurse_nina"]
    members = [make_participant() for _ in range(3)]
    for member in members:
        record(member, nurse, BLEND_COHORT_FACTS)
    MemberVerdict.objects.filter(trial="BLEND").update(rank=Rank.INELIGIBLE)  # a stale table
    out = StringIO()
    call_command("prescreen_refresh", trial="BLEND", stdout=out)
    text = out.getvalue()
    assert "BLEND" in text and "3/3" in text and "3 verdict(s)" in text
    assert set(MemberVerdict.objects.filter(trial="BLEND").values_list("rank", flat=True)) == {
        Rank.ELIGIBLE
    }
    out = StringIO()
    call_command("prescreen_refresh", stdout=out)  # every trial
    assert "VERTICAL" in out.getvalue()
    with pytest.raises(CommandError, match="expected one of .*BLEND.*got 'NOPE'"):
        call_command("prescreen_refresh", trial="NOPE")


def test_sync_reads_only_the_changed_members(make_participant, personas, monkeypatch) -> None:
    nurse = personas["nurse_nina"]
    monkeypatch.setattr(services, "SYNC_MARGIN", services.timedelta(0))
    members = [make_participant() for _ in range(4)]
    for member in members:
        record(member, nurse, BLEND_COHORT_FACTS)
    refresh_trial("BLEND", ON)
    assert sync_verdicts("BLEND", ON) == 0
    update_participant(members[0], {"performance_status": 2}, user=nurse, reason="re-assessed")
    assert sync_verdicts("BLEND", ON) == 1
    assert sync_verdicts("BLEND", ON) == 0
