"""Edit checks of the adverse-event form, run live by ``AdverseEventForm``, by the
safety services before every save, and over every saved report by ``blend check-data``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_noop

from blend.apps.safety.domain import BY_CODE
from blend.apps.safety.models import AdverseEvent, Seriousness
from blend.editchecks import CheckSet, CrossField, DateOrder, EditCheck, Range, RequiredIf

FORM = "Adverse event"


def _grade_allowed(v: Mapping[str, Any]) -> bool:
    term = BY_CODE.get(v["term"])
    return term is None or term.allows(int(v["grade"]))


ADVERSE_EVENT: tuple[EditCheck, ...] = (
    Range("AE01", "grade", 1, 5, "CTCAE grade"),
    CrossField(
        "AE02",
        "grade",
        ("term", "grade"),
        _grade_allowed,
        gettext_noop("must be a grade that CTCAE v5.0 defines for this term"),
    ),
    RequiredIf(
        "AE03",
        "seriousness",
        lambda v: bool(v.get("serious")),
        gettext_noop("the event is serious"),
    ),
    CrossField(
        "AE04",
        "outcome",
        ("grade", "outcome"),
        lambda v: int(v["grade"]) != 5 or v["outcome"] == "fatal",
        gettext_noop("must be “fatal” for a grade 5 event"),
    ),
    CrossField(
        "AE05",
        "serious",
        ("seriousness",),
        lambda v: bool(v.get("serious")),
        gettext_noop("must be ticked when a seriousness criterion is given"),
    ),
    RequiredIf(
        "AE06",
        "other_term",
        lambda v: v.get("term") == "other",
        gettext_noop("the term is “other”"),
    ),
    DateOrder("AE07", "onset_date", "resolved_on"),
    DateOrder("AE08", "timeline.registered_on", "onset_date"),
    RequiredIf(
        "AE09",
        "resolved_on",
        lambda v: v.get("outcome") in {"recovered", "sequelae"},
        gettext_noop("the outcome is recovered or recovered with sequelae"),
    ),
    DateOrder("AE10", "onset_date", "timeline.death_date", blame="onset_date"),
    CrossField(
        "AE11",
        "seriousness",
        ("grade", "seriousness"),
        lambda v: int(v["grade"]) != 5 or "death" in v["seriousness"],
        gettext_noop("must include “results in death” for a grade 5 event"),
    ),
    DateOrder("AE12", "timeline.randomized_on", "onset_date"),
)

CHECK_SETS = [
    CheckSet(FORM, ADVERSE_EVENT, model=AdverseEvent, choices={"seriousness": Seriousness.choices})
]
