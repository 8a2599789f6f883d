"""The audit trail reads as the forms do: field labels, choice labels, rounded scores and
dates in the reader's language, never Python reprs."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from blend.apps.audit.services import shown_value
from blend.apps.registry.services import update_participant

pytestmark = pytest.mark.django_db


def test_a_change_shows_labels_and_readable_values(client_for, make_participant, personas) -> None:
    participant = make_participant(consent={})
    update_participant(
        participant,
        {"primary_tumour": "lung", "metastases_diagnosed_on": date(2025, 1, 15)},
        user=personas["investigator_ivo"],
        reason="Pathology report",
    )
    url = reverse("participant-detail", args=[participant.study_id])
    english = client_for("monitor_mo").get(url).content.decode()
    trail = english.split('data-testid="audit-trail"')[1]
    assert "Primary tumour: Breast → Lung" in trail or "Primary tumour: breast → lung" in trail
    assert "Jan. 15, 2025" in trail or "January 15, 2025" in trail
    assert "primary_tumour" not in trail and "datetime.date" not in trail
    dutch = client_for("monitor_mo").get(url, HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "15 januari 2025" in dutch.split('data-testid="audit-trail"')[1]


def test_scores_are_rounded_and_no_repr_is_shown() -> None:
    with translation.override("en"):
        shown = shown_value({"PF": 46.666666666666664, "QL": 50.0, "done": True})
        assert shown == "PF: 46.7, QL: 50.0, done: yes"
        assert shown_value("2025-03-03") == "March 3, 2025"
        assert shown_value(None) == "–"
    with translation.override("nl"):
        assert shown_value(46.666666666666664) == "46,7"
        assert shown_value("2025-03-03") == "3 maart 2025"
