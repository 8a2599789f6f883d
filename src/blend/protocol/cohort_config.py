"""The cohort's configuration (``cohort/``): what every member shares, whatever trial
they are in. No Django.

    from blend.protocol import load_cohort
    cohort = load_cohort()
    cohort.code, cohort.site_codes, cohort.consent_codes
    cohort.schedule.codes     # the routine timepoints every member gets
    cohort.facts["age"]       # the screening facts any trial's criteria may read

Files (all required; docs/protocol-configuration.md says why each is the cohort's):
``cohort.toml`` (code, names, sites, study-ID format, routine day 0), ``consent.toml``
(the staged-consent items), ``schedule.toml`` (the routine measurements),
``messages.toml`` (the questionnaire invitations and reminders) and ``facts.toml`` (the
catalogue of screening facts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from blend.eligibility.criteria import FactSpec, fact_catalogue
from blend.eligibility.rules import RuleError
from blend.protocol.consent import ConsentItem
from blend.protocol.errors import PACKAGE_DIR, ConfigError, ProtocolError
from blend.protocol.reading import FolderFiles, Table, check_files, read_folder, wrapped
from blend.protocol.schedule import Schedule, Timepoint, parse_routine_schedule

COHORT_DIR = PACKAGE_DIR / "cohort"
COHORT_FILES = ("cohort", "consent", "facts", "messages", "schedule")
# Read by their own loaders, not by ``load_cohort``: the FHIR import's code mapping
# (``blend.protocol.fhir_mapping``) and routine-data linkage (``blend.protocol.linkage``,
# with defaults when absent).
COHORT_OPTIONAL_FILES = ("fhir_mapping", "linkage")
# Day 0 of the schedule: the earliest treatment, or the first radiotherapy or surgery.
START_RULES = ("first_treatment_day", "radiotherapy", "surgery")


@dataclass(frozen=True)
class Site:
    code: str
    name: str


@dataclass(frozen=True)
class ReturnedScale:
    """One score a member is shown of their own questionnaires, in plain words."""

    instrument: str  # an instrument code (blend.instruments), e.g. "qlq-c15-pal"
    scale: str  # one of its score keys, e.g. "PF"
    label_en: str
    label_nl: str
    higher_is_better: bool


@dataclass(frozen=True)
class Cohort:
    code: str
    name: str
    full_name: str
    registration: str
    sponsor: str
    start_of_treatment: str  # day 0 of the routine schedule for a member in no trial
    study_id_prefix: str
    study_id_digits: int
    sites: tuple[Site, ...]
    consent_items: tuple[ConsentItem, ...]
    randomization_consent_items: tuple[str, ...]
    questionnaire_consent_items: tuple[str, ...]
    randomization_question: str
    schedule: Schedule  # the routine schedule; its primary is None (each trial has its own)
    facts: Mapping[str, FactSpec]
    folder: Path
    sections: Mapping[str, Any] = field(repr=False)
    # The scores a member may see of their own questionnaires (empty: none are shown).
    returned_results: tuple[ReturnedScale, ...] = ()

    def section(self, name: str) -> dict[str, Any]:
        """The raw mapping of one file, as read."""
        try:
            return dict(self.sections[name])
        except KeyError:
            raise ProtocolError(
                f"cohort section {name!r}: expected one of {sorted(self.sections)}"
            ) from None

    @property
    def site_codes(self) -> tuple[str, ...]:
        return tuple(site.code for site in self.sites)

    def site(self, code: str) -> Site:
        for site in self.sites:
            if site.code == code:
                return site
        raise ProtocolError(f"site: expected one of {list(self.site_codes)}, got {code!r}")

    @property
    def consent_codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.consent_items)

    def timepoint(self, code: str) -> Timepoint:
        return self.schedule.timepoint(code)


def _returned_results(about: Table) -> tuple[ReturnedScale, ...]:
    """``[return_of_results]``: ``enabled`` and the ``[[return_of_results.scales]]`` shown."""
    if "return_of_results" not in about:
        return ()
    table = about.table("return_of_results")
    table.only({"enabled", "scales"})
    if not table.value("enabled", bool):
        return ()
    from blend.instruments import get_instrument, instrument_codes  # numpy: only when used

    scales = []
    for entry in table.tables("scales"):
        entry.only({"instrument", "scale", "label_en", "label_nl", "higher_is_better"})
        code = entry.choice("instrument", instrument_codes())
        scale = entry.choice("scale", get_instrument(code).score_keys)
        scales.append(
            ReturnedScale(
                code,
                scale,
                entry.text("label_en"),
                entry.text("label_nl"),
                entry.value("higher_is_better", bool),
            )
        )
    return tuple(scales)


def cohort_from_files(files: FolderFiles) -> Cohort:
    """Validate a cohort's files; every problem raises ``ConfigError`` naming file and key."""
    check_files(files, COHORT_FILES, COHORT_OPTIONAL_FILES)
    about = Table(files.raw["cohort"], files.path("cohort"))
    about.only(
        {
            "code",
            "name",
            "full_name",
            "registration",
            "sponsor",
            "start_of_treatment",
            "identifiers",
            "sites",
            "return_of_results",
        }
    )
    identifiers = about.table("identifiers")
    identifiers.only({"study_id_prefix", "study_id_digits"})
    consent = _consent(Table(files.raw["consent"], files.path("consent")))
    return Cohort(
        code=about.text("code"),
        name=about.text("name"),
        full_name=about.text("full_name", default=""),
        registration=about.text("registration", default=""),
        sponsor=about.text("sponsor", default=""),
        start_of_treatment=about.choice("start_of_treatment", START_RULES),
        study_id_prefix=identifiers.text("study_id_prefix"),
        study_id_digits=identifiers.integer("study_id_digits", minimum=1),
        sites=_sites(about),
        consent_items=consent[0],
        randomization_consent_items=consent[1],
        questionnaire_consent_items=consent[2],
        randomization_question=consent[3],
        schedule=_routine_schedule(files),
        facts=MappingProxyType(_facts(files)),
        folder=files.folder,
        sections=MappingProxyType(dict(files.raw)),
        returned_results=_returned_results(about),
    )


def _sites(about: Table) -> tuple[Site, ...]:
    sites = []
    for table in about.tables("sites"):
        table.only({"code", "name"})
        sites.append(Site(table.text("code"), table.text("name")))
    codes = [site.code for site in sites]
    if not sites or len(set(codes)) != len(codes):
        raise about.error("sites", "at least one [[sites]] table, each with its own code", codes)
    return tuple(sites)


def _consent(
    consent: Table,
) -> tuple[tuple[ConsentItem, ...], tuple[str, ...], tuple[str, ...], str]:
    items = []
    for table in consent.tables("items"):
        items.append(
            ConsentItem(
                table.text("code"),
                table.text("label_en"),
                table.text("label_nl"),
                table.text("plain_en", default=""),
                table.text("plain_nl", default=""),
            )
        )
    codes = [item.code for item in items]
    if not items or len(set(codes)) != len(codes):
        raise consent.error("items", "at least one [[items]] table, each with its own code", codes)
    consent.integer("refresh_every_days", minimum=0, default=365)  # read by consent.over_time
    randomization = consent.texts("required_for_randomization")
    questionnaires = consent.texts("required_for_questionnaires")
    question = consent.text("randomization_question")
    for key, named in (
        ("required_for_randomization", randomization),
        ("required_for_questionnaires", questionnaires),
        ("randomization_question", (question,)),
    ):
        unknown = [code for code in named if code not in codes]
        if unknown:
            raise consent.error(key, f"codes of the [[items]] ({codes})", unknown[0])
    return tuple(items), randomization, questionnaires, question


def _routine_schedule(files: FolderFiles) -> Schedule:
    from blend.instruments import instrument_codes  # numpy: only when a cohort is loaded

    try:
        return parse_routine_schedule(files.raw["schedule"], instrument_codes())
    except ProtocolError as error:
        raise wrapped(files.path("schedule"), error) from error


def _facts(files: FolderFiles) -> dict[str, FactSpec]:
    path = files.path("facts")
    facts = Table(files.raw["facts"], path)
    facts.only({"facts"})
    try:
        return fact_catalogue(facts.value("facts", dict), path.name)
    except RuleError as error:
        raise wrapped(path, error) from error


def read_cohort_folder(folder: Path) -> FolderFiles:
    files = read_folder(folder)
    if not files.raw:
        raise ConfigError(folder, "", "a cohort folder (cohort.toml, consent.toml, ...)", None)
    return files
