"""Data management's own checks: the order of the key dates across a participant's forms.

``blend check-data`` runs them over each participant's timeline
(``datamanagement.timeline``); no form holds these values, so there is no ``CHECK_SETS``
here. Every other app declares its forms' checks in its own ``editchecks.py``.
"""

from __future__ import annotations

from blend.editchecks import DateOrder, EditCheck

FORM = "Participant timeline"

TIMELINE: tuple[EditCheck, ...] = (
    DateOrder("T01", "timeline.registered_on", "timeline.consent_on"),
    DateOrder("T02", "timeline.consent_on", "timeline.randomized_on"),
    DateOrder("T03", "timeline.screened_on", "timeline.randomized_on"),
    DateOrder("T04", "timeline.randomized_on", "timeline.treatment_start"),
    DateOrder(
        "T05", "timeline.treatment_start", "timeline.death_date", blame="timeline.treatment_start"
    ),
    DateOrder("T06", "timeline.registered_on", "timeline.death_date"),
)
