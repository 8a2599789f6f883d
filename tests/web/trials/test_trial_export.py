"""`blend export analysis --trial CODE` writes that trial's contract dataset (contract 1.1,
with its primary outcome), and the analysis loader reads it."""

from __future__ import annotations

import csv
import json
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from blend.apps.allocation.services import randomize
from blend.apps.offers import services as offers
from blend.apps.registry.models import Participant
from blend.apps.treatment.services import record_treatment
from blend.stats.dataset import load_dataset
from tests.web.screening.flow import screen_and_confirm
from tests.web.trials.flow import confirm_for_vertical

pytestmark = pytest.mark.django_db


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_each_trial_exports_its_own_participants_and_primary_outcome(
    make_participant: Any, personas: dict[str, Any], tmp_path: Path
) -> None:
    nurse = personas["nurse_nina"]
    in_blend = make_participant()
    screen_and_confirm(in_blend, personas)
    randomize(in_blend, user=nurse)
    vertical = []
    for _ in range(4):
        member = make_participant()
        confirm_for_vertical(member, personas)
        allocation = randomize(member, user=nurse, trial="VERTICAL")
        code, dose = (
            ("sbrt", 18.0) if allocation.arm == "intervention" else ("conventional_rt", 8.0)
        )
        day = timezone.localdate(allocation.allocated_at)
        if allocation.arm == "intervention":  # offered and accepted, as TwiCs has it
            offers.make_offer(member, on=day, user=nurse, trial="VERTICAL")
            version = offers.trial_consent_versions("VERTICAL")[0]
            offers.record_acceptance(
                member, on=day, consent_version=version, user=nurse, trial="VERTICAL"
            )
        record_treatment(
            member,
            {
                "planned_on": day,
                "arm_given": allocation.arm,
                "procedures": {code: {"on": day.isoformat(), "dose_gy": dose, "fractions": 1}},
            },
            user=nurse,
            trial="VERTICAL",
        )
        vertical.append((member, allocation.arm))

    # VERTICAL recruited 2015-2019 (its exports.toml): its members entered the cohort then.
    # (Set afterwards: the test consent form version is valid only from 2020.)
    Participant.objects.filter(pk__in=[m.pk for m, _ in vertical]).update(
        registered_on=date(2018, 6, 1)
    )
    out = StringIO()
    call_command("export", "analysis", str(tmp_path), "--trial", "VERTICAL", stdout=out)
    meta = json.loads((tmp_path / "dataset.json").read_text())
    assert meta["contract_version"] == "1.1" and meta["trial"] == "VERTICAL"
    assert meta["primary_outcome"] == {
        "measure": "pain_response",
        "timepoint": "w12",
        "analysis": "risk_difference",
        "estimands": ["itt", "iv"],
    }
    assert meta["cohort_participants"] == 4  # those registered in VERTICAL's period
    assert meta["arm_labels"]["intervention"] == "SBRT, a single fraction of 18 Gy"
    participants = {r["study_id"]: r for r in _rows(tmp_path, "participants.csv")}
    assert set(participants) == {m.study_id for m, _ in vertical}  # not the BLEND member
    for member, arm in vertical:
        row = participants[member.study_id]
        assert row["arm"] == arm
        assert row["received_intervention"] == ("true" if arm == "intervention" else "false")
        assert row["treatment_start"]
    assert len(_rows(tmp_path, "screening.csv")) == 4
    dataset = load_dataset(tmp_path)
    assert len(dataset.participants) == 4

    blend = tmp_path / "blend"
    call_command("export", "analysis", str(blend), stdout=StringIO())
    blend_meta = json.loads((blend / "dataset.json").read_text())
    assert blend_meta["trial"] == "BLEND" and blend_meta["primary_outcome"]["measure"] == "pf"
    assert [r["study_id"] for r in _rows(blend, "participants.csv")] == [in_blend.study_id]
    assert len(load_dataset(blend).participants) == 1


def test_an_unknown_trial_is_refused_by_the_export_command(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="trial: expected one of BLEND, VERTICAL, got 'X'"):
        call_command("export", "analysis", str(tmp_path), "--trial", "X", stdout=StringIO())
    assert not (tmp_path / "dataset.json").exists()
