"""`blend export analysis DIR` writes the contract dataset, and `blend analyze`'s validator accepts it."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from blend.apps.exports.analysis import FILES
from blend.apps.exports.models import ExportLog
from blend.stats.dataset import load_dataset


def read(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_analysis_export_follows_the_contract(trial_cohort, tmp_path: Path) -> None:
    out = StringIO()
    call_command("export", "analysis", str(tmp_path), stdout=out)
    for name, columns in FILES.items():
        with (tmp_path / name).open(encoding="utf-8") as handle:
            assert next(csv.reader(handle)) == columns, name
    meta = json.loads((tmp_path / "dataset.json").read_text())
    assert meta["trial"] == "BLEND" and meta["cohort_participants"] == 6
    dataset = load_dataset(
        tmp_path
    )  # helper 3's contract validator (raises ContractError on any breach)
    assert len(dataset.participants) == 4


def test_screening_rows(trial_cohort, tmp_path: Path) -> None:
    call_command("export", "analysis", str(tmp_path), stdout=StringIO())
    rows = {r["study_id"]: r for r in read(tmp_path, "screening.csv")}
    ineligible = rows[trial_cohort["ineligible"].study_id]
    assert (
        ineligible["eligibility"],
        ineligible["ineligibility_reasons"],
        ineligible["randomized"],
    ) == ("ineligible", "I1_INSTABILITY", "false")
    declined = rows[trial_cohort["declined"].study_id]
    assert (declined["randomization_consent"], declined["randomized"]) == ("no", "false")
    assert rows[trial_cohort["accepted"].study_id]["randomized"] == "true"


def test_participant_rows(trial_cohort, tmp_path: Path) -> None:
    call_command("export", "analysis", str(tmp_path), stdout=StringIO())
    rows = {r["study_id"]: r for r in read(tmp_path, "participants.csv")}
    accepted = rows[trial_cohort["accepted"].study_id]
    assert accepted == {
        "study_id": trial_cohort["accepted"].study_id,
        "randomized_on": "2025-03-07",
        "arm": "intervention",
        "stratum": "",
        "offered": "true",
        "accepted": "true",
        "refusal_reason": "",
        "received_intervention": "true",
        "treatment_start": "2025-03-14",
        "death_date": "",
        "last_contact": "2025-06-12",
        "withdrawn_on": "",
        "age": "64",
        "sex": "female",
        "primary_tumour": "breast",
        "sins_total": "9",
        "performance_status": "1",
        "systemic_restart_date": "2025-04-23",
        "hospital_days": "4",
        "neuro_deterioration": "false",
    }
    refused = rows[trial_cohort["refused"].study_id]
    assert (
        refused["offered"],
        refused["accepted"],
        refused["refusal_reason"],
        refused["received_intervention"],
    ) == ("true", "false", "prefers standard care", "false")
    control = rows[trial_cohort["control"].study_id]
    assert (control["offered"], control["accepted"], control["neuro_deterioration"]) == (
        "",
        "",
        "true",
    )
    assert control["treatment_start"] == "2025-03-14"  # standard care: surgery first
    died = rows[trial_cohort["died"].study_id]
    assert died["death_date"] == died["last_contact"] == "2025-04-03"


def test_assessment_ae_and_cost_rows(trial_cohort, tmp_path: Path) -> None:
    call_command("export", "analysis", str(tmp_path), stdout=StringIO())
    sid = trial_cohort["accepted"].study_id
    assessments = [r for r in read(tmp_path, "assessments.csv") if r["study_id"] == sid]
    pf = {r["timepoint"]: r["value"] for r in assessments if r["scale"] == "PF"}
    assert pf == {"baseline": "41", "w4": "56"}
    assert {(r["instrument"], r["scale"]) for r in assessments} >= {
        ("pain", "worst_pain"),
        ("pain", "omed"),
        ("eq5d5l-nl", "index"),
    }
    aes = read(tmp_path, "adverse_events.csv")
    assert {
        "study_id": sid,
        "term": "Wound infection",
        "grade": "3",
        "serious": "true",
        "onset_date": "2025-03-24",
        "related": "true",
    } in aes
    costs = {
        (r["study_id"], r["category"]): float(r["amount_eur"]) for r in read(tmp_path, "costs.csv")
    }
    assert costs[(sid, "surgery")] == 15000.0 and costs[(sid, "radiotherapy")] == 6000.0
    assert costs[(sid, "hospital_stay")] == 4 * 549.0
    assert costs[(sid, "outpatient")] == 2 * 2 * 39.0  # two questionnaires, two GP visits each


def test_every_export_is_logged(trial_cohort, tmp_path: Path, personas) -> None:
    call_command(
        "export", "analysis", str(tmp_path), "--user", "statistician_stan", stdout=StringIO()
    )
    entry = ExportLog.objects.get()
    assert (
        entry.user == personas["statistician_stan"]
        and entry.kind == "analysis"
        and entry.via == "cli"
    )
    assert entry.rows["participants.csv"] == 4 and set(entry.files) >= {
        "dataset.json",
        "participants.csv",
    }


def test_an_offer_awaiting_the_decision_is_not_accepted(trial_cohort, tmp_path: Path) -> None:
    from blend.apps.offers.models import Offer

    Offer.objects.filter(participant=trial_cohort["refused"]).update(
        state="offered", decided_on=None, reason=""
    )
    call_command("export", "analysis", str(tmp_path), stdout=StringIO())
    row = {r["study_id"]: r for r in read(tmp_path, "participants.csv")}[
        trial_cohort["refused"].study_id
    ]
    assert (row["offered"], row["accepted"], row["refusal_reason"]) == ("true", "false", "")
    load_dataset(tmp_path)


def test_withdrawal_dates(trial_cohort, tmp_path: Path, personas) -> None:
    from datetime import date

    from blend.apps.consent.models import ConsentFormVersion
    from blend.apps.consent.services import record_consent, withdraw_consent

    nurse, version = personas["nurse_nina"], ConsentFormVersion.objects.get()
    early, late = trial_cohort["control"], trial_cohort["accepted"]
    withdraw_consent(
        early, "b", on=date(2025, 3, 2), reason="too many forms", user=nurse
    )  # before randomization
    withdraw_consent(late, "b", on=date(2025, 5, 2), reason="too many forms", user=nurse)
    again = trial_cohort["refused"]
    withdraw_consent(again, "b", on=date(2025, 4, 2), reason="moving", user=nurse)
    record_consent(
        again, "b", "yes", on=date(2025, 4, 20), form_version=version, user=nurse
    )  # consented again
    call_command("export", "analysis", str(tmp_path), stdout=StringIO())
    rows = {r["study_id"]: r for r in read(tmp_path, "participants.csv")}
    assert (
        rows[early.study_id]["withdrawn_on"]
        == rows[early.study_id]["randomized_on"]
        == "2025-03-07"
    )
    assert rows[late.study_id]["withdrawn_on"] == "2025-05-02"
    assert rows[again.study_id]["withdrawn_on"] == ""
    load_dataset(tmp_path)
