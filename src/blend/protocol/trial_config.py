"""Trials as folders of configuration (``trials/<code>/``), found, validated and loaded
(no Django).

    from blend.protocol import load_cohort, load_trial, load_trials, trial_codes
    trial_codes()                       # ('BLEND', 'VERTICAL')
    vertical = load_trial("VERTICAL")
    vertical.status, vertical.primary_outcome.timepoint     # 'completed', 'w12'
    vertical.criteria, vertical.design, vertical.treatment  # typed, validated sections

A trial folder holds one TOML file per section (``REQUIRED_FILES``, plus the optional
``messages.toml`` and ``overlap.toml``). Besides the shipped ``trials/`` folder, trial
folders are found in the folders listed in ``BLEND_TRIALS_DIRS`` (separated like PATH)
and in those passed as ``trial_dirs``: each is a trial folder (it holds ``trial.toml``)
or a folder of trial folders. So a trial team adds a trial with no code change.

``validate_trial_folder`` is the one gate: it returns a ``Trial`` or raises
``ConfigError`` naming the file, the key, what was expected and what was found. It is
pure, so nothing is registered half-way: the caller records the folder only once it
returned.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from blend.eligibility.criteria import Criteria, criteria_from_section, operand_problems
from blend.eligibility.rules import RuleError
from blend.protocol.arms import TreatmentPlan, parse_treatment_plan
from blend.protocol.cohort_config import Cohort
from blend.protocol.errors import PACKAGE_DIR, ConfigError, ProtocolError, Said, shown
from blend.protocol.outcomes import TrialSchedule, parse_trial_schedule
from blend.protocol.overlap import Membership, OverlapRule, Refusal, parse_overlap, refusals
from blend.protocol.reading import FolderFiles, Table, check_files, read_folder, read_toml, wrapped
from blend.protocol.sample_size import SampleSizePlan, parse_sample_size
from blend.protocol.schedule import Schedule, with_primary
from blend.randomization.designs import ARMS
from blend.randomization.spec import DesignSpec, SpecError, spec_from_section

TRIALS_DIR = PACKAGE_DIR / "trials"
TRIALS_DIRS_ENV = "BLEND_TRIALS_DIRS"
# The longest trial consent form version an offer can record (offers.Offer).
CONSENT_VERSION_LENGTH = 40
REQUIRED_FILES = (
    "trial",
    "eligibility",
    "randomization",
    "allocation",
    "offers",
    "treatment",
    "schedule",
    "exports",
    "safety",
    "datamanagement",
)
OPTIONAL_FILES = ("messages", "overlap")
STATUSES = ("planned", "recruiting", "follow-up", "completed")
ANALYSES = ("ancova", "risk_difference")
ESTIMANDS = ("itt", "cace", "iv", "per_protocol")
# At most 20 characters: the length every per-trial record stores.
TRIAL_CODE = re.compile(r"[A-Z][A-Z0-9-]{1,19}")
TRIAL_KEYS = (
    "code",
    "title",
    "registration",
    "protocol_version",
    "cohort",
    "sponsor",
    "target_sample_size",
    "arms",
    "status",
    "primary_outcome",
    "sample_size",
)
SITE_FACTOR = "site"  # a stratum or minimisation factor whose levels are the cohort's sites
TRIAL_AUDIENCES = ("staff", "acceptor")
MESSAGE_PARTS = tuple(
    f"{part}_{lang}" for part in ("subject", "body", "sms") for lang in ("en", "nl")
)


@dataclass(frozen=True)
class PrimaryOutcome:
    measure: str  # an outcome of the trial's schedule.toml
    timepoint: str  # a timepoint of the cohort's schedule
    analysis: str  # one of ANALYSES
    estimands: tuple[str, ...]  # some of ESTIMANDS


@dataclass(frozen=True)
class Trial:
    code: str
    title: str
    registration: str
    protocol_version: str
    cohort: str
    sponsor: str
    status: str
    target_sample_size: int
    arms: tuple[str, ...]
    primary_outcome: PrimaryOutcome
    sample_size: SampleSizePlan | None  # [sample_size]: what a re-estimation starts from
    criteria: Criteria
    design: DesignSpec
    treatment: TreatmentPlan
    outcomes: TrialSchedule
    overlap_rules: tuple[OverlapRule, ...]
    folder: Path
    sections: Mapping[str, Any] = field(repr=False)

    def section(self, name: str) -> dict[str, Any]:
        """The raw mapping of one file, as read (e.g. ``offers``, ``exports``, ``safety``)."""
        try:
            return dict(self.sections[name])
        except KeyError:
            raise ProtocolError(
                f"trial {self.code} section {name!r}: expected a file {name}.toml in "
                f"{shown(self.folder)}, found only {sorted(self.sections)}"
            ) from None

    @property
    def recruiting(self) -> bool:
        return self.status == "recruiting"

    def assessment_schedule(self, cohort: Cohort) -> Schedule:
        """The cohort's routine schedule as this trial reads it: with its primary timepoint."""
        return with_primary(cohort.schedule, self.primary_outcome.timepoint)

    def primary_window(self, cohort: Cohort) -> tuple[int, int]:
        """First and last day of the primary timepoint's window, in days after the start
        of treatment (what ``not_during_primary_window`` reads)."""
        timepoint = cohort.timepoint(self.primary_outcome.timepoint)
        return timepoint.day - timepoint.before, timepoint.day + timepoint.after

    def overlap_refusals(
        self,
        memberships: Iterable[Membership],
        trials: Mapping[str, Trial],
        cohort: Cohort,
        *,
        on: date,
        episode: str = "",
    ) -> list[Refusal]:
        """The overlap rules that keep a member with these randomizations in other trials
        out of this one on ``on``."""
        others = [m for m in memberships if m.trial != self.code]
        ends = {code: trial.primary_window(cohort)[1] for code, trial in trials.items()}
        return refusals(
            self.overlap_rules, others, on=on, episode=episode, primary_window_ends=ends
        )


def validate_trial_folder(
    path: Path | str, cohort: Cohort, known_trials: Collection[str] = ()
) -> Trial:
    """Read and validate one trial folder against the cohort and the other trials' codes.

    Returns the ``Trial`` or raises ``ConfigError`` (file, key, expected, found). Nothing
    is written anywhere: a caller that registers folders records this one only after it
    returned, so a refused folder is never registered half-way.
    """
    return trial_from_files(read_folder(Path(path)), cohort, known_trials)


def trial_from_files(
    files: FolderFiles, cohort: Cohort, known_trials: Collection[str] = ()
) -> Trial:
    """``validate_trial_folder`` on files already read (and, for BLEND, laid over by a
    ``BLEND_PROTOCOL_DIR`` override)."""
    check_files(files, REQUIRED_FILES, OPTIONAL_FILES)
    about = Table(files.raw["trial"], files.path("trial"))
    about.only(TRIAL_KEYS)
    code = _code(about, known_trials)
    arms = _arms(about)
    design = _design(files, cohort)
    treatment = parse_treatment_plan(Table(files.raw["treatment"], files.path("treatment")), arms)
    outcomes = _outcomes(files, cohort)
    primary = _primary_outcome(about.table("primary_outcome"), outcomes)
    _check_sections(files, cohort)
    return Trial(
        code=code,
        title=about.text("title"),
        registration=about.text("registration"),
        protocol_version=str(about.value("protocol_version", (str, int, float))),
        cohort=_cohort(about, cohort),
        sponsor=about.text("sponsor"),
        status=about.choice("status", STATUSES),
        target_sample_size=about.integer("target_sample_size", minimum=2),
        arms=arms,
        primary_outcome=primary,
        sample_size=_sample_size(about, primary.analysis),
        criteria=_criteria(files, cohort),
        design=design,
        treatment=treatment,
        outcomes=outcomes,
        overlap_rules=_overlap(files, code, known_trials),
        folder=files.folder,
        sections=MappingProxyType(dict(files.raw)),
    )


def _code(about: Table, known_trials: Collection[str]) -> str:
    code = about.text("code")
    if not TRIAL_CODE.fullmatch(code):
        raise about.error(
            "code",
            "2 to 20 capitals, digits and '-', starting with a capital (e.g. 'VERTICAL')",
            code,
        )
    if code in known_trials:
        raise about.error(
            "code",
            "a code no other trial of the cohort has",
            Said(f"{code!r}, which is already registered"),
        )
    return code


def _cohort(about: Table, cohort: Cohort) -> str:
    named = about.text("cohort")
    if named != cohort.code:
        raise about.error(
            "cohort", f"{cohort.code!r}, the cohort it is registered in (cohort.toml code)", named
        )
    return named


def _arms(about: Table) -> tuple[str, ...]:
    arms = about.texts("arms")
    if sorted(arms) != sorted(ARMS):
        raise about.error(
            "arms",
            f"the arms the randomization design allocates: {list(ARMS)} (a "
            "TwiCs trial randomizes to being offered the intervention or not; "
            "treatment.toml labels what each arm receives)",
            list(arms),
        )
    return arms


def _design(files: FolderFiles, cohort: Cohort) -> DesignSpec:
    path = files.path("randomization")
    try:
        design = spec_from_section(files.raw["randomization"])
    except SpecError as error:
        raise wrapped(path, error) from error
    for where, factors in (("strata", design.strata), ("minimisation.factors", design.factors)):
        for name, levels in factors:
            unknown = [level for level in levels if level not in cohort.site_codes]
            if name == SITE_FACTOR and unknown:
                raise ConfigError(
                    path,
                    f"{where}.{name}",
                    f"site codes of the cohort ({', '.join(cohort.site_codes)})",
                    unknown[0],
                )
    return design


def _criteria(files: FolderFiles, cohort: Cohort) -> Criteria:
    path = files.path("eligibility")
    section = expanded_eligibility(Table(files.raw["eligibility"], path), cohort)
    try:
        criteria = criteria_from_section(section)
    except RuleError as error:
        raise wrapped(path, error) from error
    problems = operand_problems(criteria)
    if problems:
        raise ConfigError(path, "", detail=problems[0])
    return criteria


def expanded_eligibility(eligibility: Table, cohort: Cohort) -> dict[str, Any]:
    """The section in the eligibility engine's layout: the trial's fact keys replaced by
    the cohort's definitions. An unknown fact key is refused here, naming the criterion."""
    eligibility.only({"version", "facts", "criteria"})
    asked = eligibility.texts("facts")
    for key in asked:
        if key not in cohort.facts:
            raise eligibility.error(
                "facts",
                f"fact keys of the cohort (cohort/facts.toml: {', '.join(cohort.facts)})",
                key,
            )
    for criterion in eligibility.tables("criteria"):
        where = f"{criterion.prefix} ({criterion.raw.get('code', '?')}).rule.fact"
        for key in _rule_facts(criterion.raw.get("rule")):
            if key not in cohort.facts:
                raise ConfigError(
                    criterion.file, where, "a fact key of the cohort (cohort/facts.toml)", key
                )
            if key not in asked:
                raise ConfigError(
                    criterion.file,
                    where,
                    f"a fact listed in facts ({', '.join(asked)})",
                    Said(f"{key!r}, which is not listed"),
                )
    raw = dict(eligibility.raw)
    raw["facts"] = {key: _fact_table(cohort, key) for key in asked}
    return raw


def _rule_facts(rule: Any) -> list[str]:
    """The fact keys a rule (as written in TOML) reads, without judging the rest of it."""
    if isinstance(rule, Mapping):
        own = [rule["fact"]] if isinstance(rule.get("fact"), str) else []
        children = [
            *rule.get("all", []),
            *rule.get("any", []),
            *([rule["not"]] if "not" in rule else []),
        ]
        return own + [key for child in children for key in _rule_facts(child)]
    return []


def _fact_table(cohort: Cohort, key: str) -> dict[str, Any]:
    """The cohort's definition of a fact as written in cohort/facts.toml."""
    return dict(cohort.section("facts")["facts"][key])


def _outcomes(files: FolderFiles, cohort: Cohort) -> TrialSchedule:
    from blend.instruments import get_instrument, instrument_codes  # numpy: only when loading

    codes = instrument_codes()
    scales = {code: {scale.key for scale in get_instrument(code).scales} for code in codes}
    table = Table(files.raw["schedule"], files.path("schedule"))
    return parse_trial_schedule(table, cohort.schedule, codes, scales)


def _sample_size(about: Table, analysis: str) -> SampleSizePlan | None:
    """``[sample_size]``, optional: a trial without it cannot be re-estimated."""
    if "sample_size" not in about:
        return None
    target = about.integer("target_sample_size", minimum=2)
    return parse_sample_size(about.table("sample_size"), analysis, target)


def _primary_outcome(table: Table, outcomes: TrialSchedule) -> PrimaryOutcome:
    table.only({"measure", "timepoint", "analysis", "estimands"})
    measure = table.text("measure")
    if measure not in outcomes.measures:
        extra = [e.code for e in outcomes.extra]
        why = (
            " (an extra measurement reaches acceptors only, so it cannot be primary)"
            if measure in extra
            else ""
        )
        raise table.error(
            "measure",
            f"a measure of schedule.toml [[outcomes]] ({', '.join(outcomes.measures)}){why}",
            measure,
        )
    timepoint = table.text("timepoint")
    read_at = outcomes.outcome(measure).timepoints
    if timepoint not in read_at:
        raise table.error(
            "timepoint",
            f"a timepoint schedule.toml reads {measure} at ({', '.join(read_at)})",
            timepoint,
        )
    estimands = table.texts("estimands")
    for estimand in estimands:
        if estimand not in ESTIMANDS:
            raise table.error("estimands", f"some of {list(ESTIMANDS)}", estimand)
    if "itt" not in estimands:
        raise table.error(
            "estimands",
            "'itt' among them (intention to treat is the primary estimand)",
            list(estimands),
        )
    return PrimaryOutcome(measure, timepoint, table.choice("analysis", ANALYSES), estimands)


def _overlap(
    files: FolderFiles, code: str, known_trials: Collection[str]
) -> tuple[OverlapRule, ...]:
    raw = files.get("overlap")
    return (
        () if raw is None else parse_overlap(Table(raw, files.path("overlap")), code, known_trials)
    )


def _check_sections(files: FolderFiles, cohort: Cohort) -> None:
    """The sections the apps parse themselves: their keys and kinds, so that a bad folder
    is refused when it is registered, not when a page first reads it."""
    allocation = Table(files.raw["allocation"], files.path("allocation"))
    allocation.only({"overview_delay_days"})
    allocation.integer("overview_delay_days", minimum=0)
    offers = Table(files.raw["offers"], files.path("offers"))
    offers.only({"trial_consent_versions", "refusal_reasons", "not_offered_reasons"})
    for key in ("trial_consent_versions", "refusal_reasons", "not_offered_reasons"):
        offers.texts(key)
    for version in offers.texts("trial_consent_versions"):
        if len(version) > CONSENT_VERSION_LENGTH:  # what the offer record stores
            raise offers.error(
                "trial_consent_versions",
                f"versions of at most {CONSENT_VERSION_LENGTH} characters",
                version,
            )
    _check_exports(Table(files.raw["exports"], files.path("exports")))
    _check_safety(Table(files.raw["safety"], files.path("safety")))
    datamanagement = Table(files.raw["datamanagement"], files.path("datamanagement"))
    datamanagement.only({"signature_meaning", "check_data_assigned_role"})
    datamanagement.text("signature_meaning")
    datamanagement.text("check_data_assigned_role")
    if "messages" in files.raw:
        _check_messages(Table(files.raw["messages"], files.path("messages")), cohort)


def _check_exports(exports: Table) -> None:
    exports.only({"period_start", "period_end", "horizon_days", "unit_costs"})
    for key in ("period_start", "period_end"):
        value = exports.value(key, str)
        if key == "period_end" and value == "":
            continue  # empty: the export date
        try:
            date.fromisoformat(value)
        except ValueError:
            raise exports.error(
                key, "a date as YYYY-MM-DD" + (" or ''" if key == "period_end" else ""), value
            ) from None
    exports.integer("horizon_days", minimum=1)
    costs = exports.table("unit_costs")
    for name in costs.names():
        costs.number(name, minimum=0)


def _check_safety(safety: Table) -> None:
    safety.only({"sae_report_hours", "notify"})
    safety.integer("sae_report_hours", minimum=1)
    for table in safety.tables("notify"):
        table.only({"role", "email"})
        table.text("role")
        if "@" not in table.text("email"):
            raise table.error("email", "an e-mail address", table.raw["email"])


def _check_messages(messages: Table, cohort: Cohort) -> None:
    """A trial's own messages reach staff, or those who accepted its offer: never every
    participant, who would include controls (the cohort's messages are for them)."""
    for name in messages.names():
        if name in cohort.sections["messages"]:
            raise messages.error(
                name, "a template name the cohort does not use (cohort/messages.toml)", name
            )
        template = messages.table(name)
        template.only({"audience", *MESSAGE_PARTS})
        template.choice("audience", TRIAL_AUDIENCES)
        for part in MESSAGE_PARTS:
            template.text(part)


# ------------------------------------------------------------------ finding trial folders


def trial_dirs_from_env() -> tuple[str, ...]:
    value = os.environ.get(TRIALS_DIRS_ENV, "")
    return tuple(part for part in value.split(os.pathsep) if part.strip())


def trial_folders(trial_dirs: Iterable[Path | str] = ()) -> dict[str, Path]:
    """Trial code → folder: the shipped ones, then ``BLEND_TRIALS_DIRS``, then ``trial_dirs``.
    Two folders with one code are refused (which would win is not obvious)."""
    return dict(find_trial_folders(all_trial_dirs(trial_dirs)))


def all_trial_dirs(trial_dirs: Iterable[Path | str]) -> tuple[str, ...]:
    return (*trial_dirs_from_env(), *(str(d) for d in trial_dirs))


@cache
def find_trial_folders(extra: tuple[str, ...]) -> tuple[tuple[str, Path], ...]:
    found: dict[str, Path] = {}
    for folder in [
        *_candidates(TRIALS_DIR, required=True),
        *(f for d in extra for f in _candidates(Path(d))),
    ]:
        code = read_toml(folder / "trial.toml").get("code")
        if not isinstance(code, str):
            raise ConfigError(folder / "trial.toml", "code", "the trial's code", code)
        if code in found:
            raise ConfigError(
                folder / "trial.toml",
                "code",
                "a code no other trial folder has",
                Said(f"{code!r}, also the code of {shown(found[code])}"),
            )
        found[code] = folder
    return tuple(found.items())


def _candidates(path: Path, required: bool = False) -> list[Path]:
    """A trial folder itself, or the trial folders inside a folder of them."""
    if not path.is_dir():
        raise ProtocolError(f"{TRIALS_DIRS_ENV}: expected a folder, got {str(path)!r}")
    if (path / "trial.toml").is_file():
        return [path]
    folders = sorted(p for p in path.iterdir() if (p / "trial.toml").is_file())
    if not folders and not required:
        raise ProtocolError(
            f"{shown(path)}: expected a trial folder (with trial.toml) or a folder of them, found neither"
        )
    return folders


def trial_codes(trial_dirs: Iterable[Path | str] = ()) -> tuple[str, ...]:
    """The codes of every trial folder found, sorted."""
    return tuple(sorted(trial_folders(trial_dirs)))
