"""The single-trial layout: today's ``Protocol`` sections from the cohort and the BLEND
trial folder, and ``BLEND_PROTOCOL_DIR`` overrides written in that layout (no Django).

Before the cohort and its trials were separate folders, one folder held one protocol:
``trial.toml``, ``consent.toml``, ``eligibility.toml`` (with its own ``[facts]``),
``schedule.toml`` (with the trial's ``primary``), ``treatment.toml`` (BLEND's
parameters by name), ... Every caller of ``load_protocol()`` still reads those
sections, and a trial team's override folder still holds such files. This module maps
between the two layouts, both ways:

- ``legacy_sections``: the twelve sections as they were, assembled from ``cohort/`` and
  ``trials/BLEND/``; an override file then replaces its section whole, as it always did
  (one filled gap: a ``schedule.toml`` without ``primary`` takes BLEND's).
- ``overlaid``: the same override files laid over the two folders, so that
  ``load_cohort()`` and ``load_trial("BLEND")`` see what ``load_protocol()`` sees.

docs/protocol-configuration.md has the table of where each old file now lives.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from blend.protocol.reading import FolderFiles, read_toml

LEGACY_TRIAL = "BLEND"  # the trial load_protocol() and BLEND_PROTOCOL_DIR are about
COHORT_SECTIONS = ("cohort", "consent", "facts", "messages", "schedule")
LEGACY_SECTIONS = (
    "allocation",
    "consent",
    "datamanagement",
    "eligibility",
    "exports",
    "messages",
    "offers",
    "randomization",
    "safety",
    "schedule",
    "treatment",
    "trial",
)
NEW_TRIAL_KEYS = (
    "status",
    "primary_outcome",
    "sample_size",
)  # trial.toml keys the single-trial layout lacked


def read_override(folder: Path) -> dict[str, tuple[dict[str, Any], Path]]:
    """The override files, by section name, with their paths (sorted, as they were read)."""
    return {path.stem: (read_toml(path), path) for path in sorted(folder.glob("*.toml"))}


# ------------------------------------------------------------- new layout → single trial


def legacy_sections(
    cohort: FolderFiles,
    trial: FolderFiles,
    override: Mapping[str, tuple[dict[str, Any], Path]] | None = None,
) -> dict[str, Any]:
    """Today's protocol sections. ``cohort`` and ``trial`` are the folders with the override
    already laid over (``overlaid``); each override file also replaces its section whole."""
    sections = {
        name: _legacy_form(name, raw, cohort, trial)
        for name in LEGACY_SECTIONS
        if (raw := _home(name, cohort, trial).get(name)) is not None
    }
    for name, (raw, _path) in (override or {}).items():
        sections[name] = _legacy_form(name, raw, cohort, trial)
    return sections


def _home(name: str, cohort: FolderFiles, trial: FolderFiles) -> FolderFiles:
    return cohort if name in COHORT_SECTIONS else trial


def _legacy_form(name: str, raw: dict[str, Any], cohort: FolderFiles, trial: FolderFiles) -> Any:
    if name == "trial":
        return {key: value for key, value in raw.items() if key not in NEW_TRIAL_KEYS}
    if name == "consent":
        return legacy_consent(raw)
    if name == "schedule":
        primary = primary_timepoint(trial.raw.get("trial", {}))
        return raw if "primary" in raw or primary is None else {"primary": primary, **raw}
    if name == "eligibility":
        return legacy_eligibility(raw, cohort.raw.get("facts", {}).get("facts", {}))
    if name == "treatment":
        return legacy_treatment(raw)
    return raw


# consent.toml keys the single-trial layout lacked (consent over time, issue 16).
NEW_CONSENT_KEYS = ("refresh_every_days",)
NEW_CONSENT_ITEM_KEYS = ("plain_en", "plain_nl")


def legacy_consent(raw: dict[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in raw.items() if key not in NEW_CONSENT_KEYS}
    if isinstance(kept.get("items"), list):
        kept["items"] = [
            {k: v for k, v in item.items() if k not in NEW_CONSENT_ITEM_KEYS}
            if isinstance(item, dict)
            else item
            for item in kept["items"]
        ]
    return kept


def primary_timepoint(trial: Mapping[str, Any]) -> str | None:
    primary = trial.get("primary_outcome")
    timepoint = primary.get("timepoint") if isinstance(primary, Mapping) else None
    return timepoint if isinstance(timepoint, str) else None


def legacy_eligibility(raw: dict[str, Any], catalogue: Mapping[str, Any]) -> dict[str, Any]:
    """A trial's list of fact keys replaced by the cohort's definitions, in its order (a
    key the cohort lacks is left out: the engine then names the criterion reading it)."""
    asked = raw.get("facts")
    if not isinstance(asked, list):
        return raw  # already the single-trial layout, with its own [facts] tables
    return {**raw, "facts": {key: catalogue[key] for key in asked if key in catalogue}}


def legacy_treatment(raw: dict[str, Any]) -> dict[str, Any]:
    """BLEND's arms as today's treatment form reads them: the SBRT prescription and the
    same-day limit of the intervention arm, the wound-healing interval and radiotherapy
    schedules of the control arm. A section of another shape is returned as it is."""
    arms = raw.get("arms")
    if not isinstance(arms, Mapping):
        return raw
    parts = _blend_parts(arms)
    if parts is None:
        return raw
    sbrt, same_day, radiotherapy, wound = parts
    legacy: dict[str, Any] = {}
    if "start_of_treatment" in raw:
        legacy["start_of_treatment"] = raw["start_of_treatment"]
    legacy["intervention"] = {
        "max_hours_between": same_day["within_hours"],
        "sbrt_dose_gy": sbrt["dose_gy"],
        "sbrt_fractions": sbrt["fractions"],
        "surgical_site_dose_gy": sbrt["constraints"]["surgical_site_dose_gy"],
    }
    legacy["control"] = {
        "min_days_surgery_to_radiotherapy": wound["at_least_days"],
        "radiotherapy_types": radiotherapy["schedules"],
    }
    return legacy


def _blend_parts(arms: Mapping[str, Any]) -> tuple[dict[str, Any], ...] | None:
    """The four tables of BLEND's arms that hold today's treatment parameters, or None
    when the arms are not shaped like BLEND's."""
    try:
        intervention, control = arms["intervention"], arms["control"]
        parts = (
            _first(intervention["procedures"], "kind", "radiotherapy"),
            _first(intervention["timing"], "within_hours"),
            _first(control["procedures"], "kind", "radiotherapy"),
            _first(control["timing"], "at_least_days"),
        )
    except (KeyError, TypeError, StopIteration):
        return None
    sbrt, _same_day, radiotherapy, _wound = parts
    constraints = sbrt.get("constraints")
    complete = (
        {"dose_gy", "fractions"} <= sbrt.keys()
        and "schedules" in radiotherapy
        and isinstance(constraints, Mapping)
        and "surgical_site_dose_gy" in constraints
    )
    return parts if complete else None


def _first(tables: Any, key: str, value: Any = None) -> dict[str, Any]:
    """The first table holding ``key`` (equal to ``value`` when given)."""
    return next(
        t for t in tables if isinstance(t, dict) and key in t and (value is None or t[key] == value)
    )


# ------------------------------------------------------------- single trial → new layout


def overlaid(
    cohort: FolderFiles, trial: FolderFiles, override: Mapping[str, tuple[dict[str, Any], Path]]
) -> tuple[FolderFiles, FolderFiles]:
    """The cohort's and BLEND's files with the override's laid over them, each old file
    going where its content now lives. ``trial.toml`` comes first, so that the ``primary``
    of an old-layout ``schedule.toml`` lands on top of it."""
    for name in sorted(override, key=lambda n: (n != "trial", n)):
        raw, path = override[name]
        if name == "trial":  # whole, as ever; what the old layout could not say stays BLEND's
            shipped = trial.raw.get("trial", {})
            kept = {
                key: shipped[key] for key in NEW_TRIAL_KEYS if key in shipped and key not in raw
            }
            trial = trial.replaced("trial", {**raw, **kept}, path)
        elif name == "schedule":
            cohort, trial = _schedule_overlaid(cohort, trial, raw, path)
        elif name == "eligibility":
            cohort, trial = _eligibility_overlaid(cohort, trial, raw, path)
        elif name == "treatment":
            shipped = trial.raw.get("treatment", {})
            trial = trial.replaced(
                "treatment", raw if "arms" in raw else treatment_from_legacy(raw, shipped), path
            )
        elif name in COHORT_SECTIONS:
            cohort = cohort.replaced(name, raw, path)
        else:
            trial = trial.replaced(name, raw, path)
    return cohort, trial


def _schedule_overlaid(
    cohort: FolderFiles, trial: FolderFiles, raw: dict[str, Any], path: Path
) -> tuple[FolderFiles, FolderFiles]:
    routine = {key: value for key, value in raw.items() if key != "primary"}
    cohort = cohort.replaced("schedule", routine, path)
    if "primary" in raw:
        about = copy.deepcopy(trial.raw.get("trial", {}))
        primary = about.get("primary_outcome")
        about["primary_outcome"] = {
            **(primary if isinstance(primary, dict) else {}),
            "timepoint": raw["primary"],
        }
        trial = trial.replaced("trial", about)
    return cohort, trial


def _eligibility_overlaid(
    cohort: FolderFiles, trial: FolderFiles, raw: dict[str, Any], path: Path
) -> tuple[FolderFiles, FolderFiles]:
    facts = raw.get("facts")
    if isinstance(facts, Mapping):  # the old layout: its fact tables are the cohort's catalogue
        catalogue = {**cohort.raw.get("facts", {}).get("facts", {}), **facts}
        cohort = cohort.replaced("facts", {"facts": catalogue}, path)
        raw = {**raw, "facts": list(facts)}
    return cohort, trial.replaced("eligibility", raw, path)


def treatment_from_legacy(old: Mapping[str, Any], shipped: dict[str, Any]) -> dict[str, Any]:
    """An old-layout ``treatment.toml`` (BLEND's parameters by name) laid onto the shipped
    arms; a parameter whose place the shipped arms lack is left out."""
    new = copy.deepcopy(shipped)
    if "start_of_treatment" in old:
        new["start_of_treatment"] = old["start_of_treatment"]
    parts = _blend_parts(new.get("arms", {}))
    if parts is None:
        return new
    sbrt, same_day, radiotherapy, wound = parts
    places = {
        "intervention": {
            "max_hours_between": (same_day, "within_hours"),
            "sbrt_dose_gy": (sbrt, "dose_gy"),
            "sbrt_fractions": (sbrt, "fractions"),
            "surgical_site_dose_gy": (sbrt["constraints"], "surgical_site_dose_gy"),
        },
        "control": {
            "min_days_surgery_to_radiotherapy": (wound, "at_least_days"),
            "radiotherapy_types": (radiotherapy, "schedules"),
        },
    }
    for arm, names in places.items():
        given = old.get(arm, {})
        for name, (table, key) in names.items():
            if isinstance(given, Mapping) and name in given:
                table[key] = given[name]
    return new
