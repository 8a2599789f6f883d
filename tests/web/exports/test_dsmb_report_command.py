"""`blend dsmb-report --trial CODE OUT`: one trial's DSMB reports from the database."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from blend.apps.accounts.services import grant_trial_role
from blend.apps.allocation.models import Allocation
from blend.apps.demo.services import load_demo

pytestmark = pytest.mark.django_db


@pytest.mark.slow
def test_each_trial_gets_its_own_dsmb_reports(tmp_path: Path, personas) -> None:
    load_demo(participants=80, seed=20221015, force=True)
    for trial in ("VERTICAL", "BLEND"):
        out = tmp_path / trial
        text = StringIO()
        call_command("dsmb_report", str(out), trial=trial, user="statistician_stan", stdout=text)
        assert f"{trial}: wrote" in text.getvalue()
        summary = json.loads((out / "dsmb.json").read_text())
        assert summary["trial"] == trial
        assert summary["consort"]["randomized"] == Allocation.objects.filter(trial=trial).count()
        assert (out / "dsmb_report.html").exists() and (out / "dsmb_open.html").exists()
        assert json.loads((out / "dataset" / "dataset.json").read_text())["trial"] == trial
    # A statistician working in BLEND alone may not see VERTICAL's arms.
    stan = personas["statistician_stan"]
    grant_trial_role(stan, "BLEND", "statistician", by=personas["admin_ada"])
    with pytest.raises(CommandError, match="allocation.view"):
        call_command("dsmb_report", str(tmp_path / "no"), trial="VERTICAL", user=stan.username)
    with pytest.raises(CommandError, match="NOPE"):
        call_command("dsmb_report", str(tmp_path / "no"), trial="NOPE")
