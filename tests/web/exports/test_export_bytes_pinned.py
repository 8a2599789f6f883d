"""The exports' bytes, pinned on a fixed dataset: the demo cohort at a frozen instant.

The writers were rewritten for speed (streamed from the database cursor, formatted per
column); these hashes were taken from the writers before that rewrite, so any change in
what a user receives, down to one byte, fails here. They were taken again when the FHIR
import added its columns to the cohort facts (the old writers and the new gave the same
bytes on both databases), and again for the table of the trials' extra measurements
(a new, empty table in the full export, and its entries in the data dictionary and the
ODM metadata: the other files' bytes did not change), and for the full CTCAE v5.0 term
list (the term's choices in the data dictionary and the ODM code list; again nothing
else changed); a change of the data model
re-pins them the same way. The JSON text of a stored document differs between SQLite
(as written) and PostgreSQL (jsonb's own order), so each database has its own hashes. Sequences are reset so the row IDs do not depend on earlier tests.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from blend.apps.demo.services import load_demo
from blend.apps.exports.services import export_analysis, export_full

FROZEN = datetime(2026, 6, 1, 10, 30, tzinfo=UTC)

PINNED: dict[str, dict[str, str]] = {
    "sqlite": {
        "analysis-blend/adverse_events.csv": "335afd119336824f",
        "analysis-blend/assessments.csv": "d042e499b819fc43",
        "analysis-blend/costs.csv": "c86a36968966438b",
        "analysis-blend/dataset.json": "f39aeeed2d7337c3",
        "analysis-blend/participants.csv": "e247080c6cea53fb",
        "analysis-blend/screening.csv": "2d9d64d13c7480ea",
        "analysis-vertical/adverse_events.csv": "6f9f206a5d30f340",
        "analysis-vertical/assessments.csv": "9aaae2488a0c477a",
        "analysis-vertical/costs.csv": "b2a4e0f94a053029",
        "analysis-vertical/dataset.json": "b32f68978cd9e86f",
        "analysis-vertical/participants.csv": "caf4f2fa037ea70c",
        "analysis-vertical/screening.csv": "8485724c3ca2dd22",
        "full/allocation_allocation.csv": "f69112eaaa131219",
        "full/allocation_allocationlog.csv": "3deeabff9d2d0883",
        "full/blend_odm.xml": "e3e51fef5265a30a",
        "full/consent_consentrecord.csv": "410bb6fd02a87d27",
        "full/data_dictionary_redcap.csv": "e7c217b6c5c9d9a5",
        "full/datamanagement_formstatus.csv": "11f4ca8e92f2a6f8",
        "full/datamanagement_lock.csv": "28e5fca3685e6a74",
        "full/datamanagement_query.csv": "7e8b0d5a3110c941",
        "full/datamanagement_signature.csv": "d466ea8c277e9e6e",
        "full/disclosure_disclosure.csv": "121d0e8817bb0d31",
        "full/followup_assessment.csv": "d4ddcc03822a7f17",
        "full/followup_extraassessment.csv": "1035fbbb4371b07d",
        "full/followup_hospitaladmission.csv": "787f9108a93f4c8a",
        "full/followup_neuroassessment.csv": "73950bd863756851",
        "full/followup_opioiduse.csv": "61c2bb1ce82d48ce",
        "full/followup_reintervention.csv": "b5308ffae9edc5db",
        "full/followup_systemictherapy.csv": "5edc70a7906e77a5",
        "full/followup_vitalstatus.csv": "6be1c7b556c4c446",
        "full/linkage_linkageconflict.csv": "d96057f93f070b77",
        "full/offers_offer.csv": "11d086e67035d3f9",
        "full/prescreening_cohortfact.csv": "2d2e0eedbf6732b6",
        "full/prescreening_memberverdict.csv": "1f797757efa07752",
        "full/questionnaires_extraresponse.csv": "4a48a9c80339515a",
        "full/questionnaires_response.csv": "c2db28a2595a5685",
        "full/registry_participant.csv": "b421cc1a43e2f60a",
        "full/safety_adverseevent.csv": "dc0b8ed4ca89227b",
        "full/safety_deathreview.csv": "efeb2c8b09a3d5b9",
        "full/screening_screening.csv": "2c299b85a2e40d09",
        "full/treatment_treatmentrecord.csv": "bfdd407a6ed7af6b",
    },
    "postgresql": {
        "analysis-blend/adverse_events.csv": "335afd119336824f",
        "analysis-blend/assessments.csv": "d042e499b819fc43",
        "analysis-blend/costs.csv": "c86a36968966438b",
        "analysis-blend/dataset.json": "f39aeeed2d7337c3",
        "analysis-blend/participants.csv": "e247080c6cea53fb",
        "analysis-blend/screening.csv": "2d9d64d13c7480ea",
        "analysis-vertical/adverse_events.csv": "6f9f206a5d30f340",
        "analysis-vertical/assessments.csv": "9aaae2488a0c477a",
        "analysis-vertical/costs.csv": "b2a4e0f94a053029",
        "analysis-vertical/dataset.json": "b32f68978cd9e86f",
        "analysis-vertical/participants.csv": "caf4f2fa037ea70c",
        "analysis-vertical/screening.csv": "8485724c3ca2dd22",
        "full/allocation_allocation.csv": "f69112eaaa131219",
        "full/allocation_allocationlog.csv": "3deeabff9d2d0883",
        "full/blend_odm.xml": "6dcb2d7680d8b4c0",
        "full/consent_consentrecord.csv": "410bb6fd02a87d27",
        "full/data_dictionary_redcap.csv": "e7c217b6c5c9d9a5",
        "full/datamanagement_formstatus.csv": "11f4ca8e92f2a6f8",
        "full/datamanagement_lock.csv": "28e5fca3685e6a74",
        "full/datamanagement_query.csv": "7e8b0d5a3110c941",
        "full/datamanagement_signature.csv": "d466ea8c277e9e6e",
        "full/disclosure_disclosure.csv": "121d0e8817bb0d31",
        "full/followup_assessment.csv": "d4ddcc03822a7f17",
        "full/followup_extraassessment.csv": "1035fbbb4371b07d",
        "full/followup_hospitaladmission.csv": "787f9108a93f4c8a",
        "full/followup_neuroassessment.csv": "73950bd863756851",
        "full/followup_opioiduse.csv": "3605bc35fe1ffc85",
        "full/followup_reintervention.csv": "b5308ffae9edc5db",
        "full/followup_systemictherapy.csv": "5edc70a7906e77a5",
        "full/followup_vitalstatus.csv": "6be1c7b556c4c446",
        "full/linkage_linkageconflict.csv": "d96057f93f070b77",
        "full/offers_offer.csv": "11d086e67035d3f9",
        "full/prescreening_cohortfact.csv": "2d2e0eedbf6732b6",
        "full/prescreening_memberverdict.csv": "1f797757efa07752",
        "full/questionnaires_extraresponse.csv": "4a48a9c80339515a",
        "full/questionnaires_response.csv": "32ac6685c1993f98",
        "full/registry_participant.csv": "b421cc1a43e2f60a",
        "full/safety_adverseevent.csv": "dc0b8ed4ca89227b",
        "full/safety_deathreview.csv": "efeb2c8b09a3d5b9",
        "full/screening_screening.csv": "29c4ffa0066c1781",
        "full/treatment_treatmentrecord.csv": "bfdd407a6ed7af6b",
    },
}


def _hashes(folder: Path, prefix: str) -> dict[str, str]:
    return {
        f"{prefix}/{p.name}": hashlib.sha256(p.read_bytes()).hexdigest()[:16]
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_every_export_is_byte_identical_to_the_pinned_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each call of timezone.now() a microsecond later: history rows never share a time,
    # so an audit trail read in time order (a sign-off's fingerprint) has one order.
    clock = count()
    monkeypatch.setattr(timezone, "now", lambda: FROZEN + timedelta(microseconds=next(clock)))
    with time_machine.travel(FROZEN, tick=False):
        load_demo(participants=60, seed=20221015, force=True)
        export_analysis(tmp_path / "blend")
        export_analysis(tmp_path / "vertical", trial="VERTICAL")
        export_full(tmp_path / "full", ["csv", "dictionary", "odm"])
    found = {
        **_hashes(tmp_path / "blend", "analysis-blend"),
        **_hashes(tmp_path / "vertical", "analysis-vertical"),
        **_hashes(tmp_path / "full", "full"),
    }
    assert found == PINNED[connection.vendor]
