"""The protocol configuration: what a trial team can change without touching code.

One cohort hosts several trials (Trials within Cohorts), and each is configuration:

- ``cohort/``: the cohort's own files (``cohort.toml``, ``consent.toml``,
  ``schedule.toml``, ``messages.toml``, ``facts.toml``): what every member shares,
  whatever trial they are in. ``load_cohort()`` gives a validated ``Cohort``.
- ``trials/<code>/``: one folder per trial (``trial.toml``, ``eligibility.toml``,
  ``randomization.toml``, ``treatment.toml``, ``schedule.toml``, ``overlap.toml`` ...),
  more of them registered at run time (``BLEND_TRIALS_DIRS``). ``trial_codes()``,
  ``load_trial(code)``, ``load_trials()`` and ``validate_trial_folder(path, cohort,
  known_trials)`` give validated ``Trial`` objects or refuse with the file, the key,
  what was expected and what was found (``ConfigError``).

``load_protocol()`` is the single-trial view every caller used before there were several
trials: BLEND's sections assembled from the cohort and the BLEND folder, exactly as they
were (``blend.protocol.legacy``). ``BLEND_PROTOCOL_DIR`` still points at a folder of
override files in that layout: a file there replaces its section whole, and the cohort
and BLEND as ``load_cohort()``/``load_trial("BLEND")`` see them follow it too
(docs/protocol-configuration.md has the table). ``defaults/`` holds that layout's file
names, each a link to the file's new home, for the readers of the old paths.

Each pure package parses and validates its own section (``protocol.section(name)``),
so the rules about a section live beside the code that uses it. No Django imports.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from blend.protocol.consent import ConsentItem
from blend.protocol.errors import ConfigError, ProtocolError

# The single-trial layout: links to cohort/ and trials/BLEND/ (read by older tests and
# benchmarks that copy a default file into an override folder).
DEFAULTS_DIR = Path(__file__).with_name("defaults")


@dataclass(frozen=True)
class Protocol:
    trial_code: str
    trial_title: str
    registration: str
    version: str
    cohort_name: str
    consent_items: tuple[ConsentItem, ...]
    randomization_consent_items: tuple[str, ...]
    questionnaire_consent_items: tuple[str, ...]
    randomization_question: (
        str  # the item asking consent to randomization: the screening fact's source
    )
    sections: MappingProxyType[str, Any] = field(repr=False)

    def section(self, name: str) -> dict[str, Any]:
        """The raw mapping of one section; the owning package validates it."""
        try:
            return dict(self.sections[name])
        except KeyError:
            raise ProtocolError(
                f"protocol section {name!r}: expected a file {name}.toml in the protocol "
                f"folder, found only {sorted(self.sections)}"
            ) from None

    def consent_item(self, code: str) -> ConsentItem:
        for item in self.consent_items:
            if item.code == code:
                return item
        raise ProtocolError(f"consent item: expected one of {self.consent_codes}, got {code!r}")

    @property
    def consent_codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.consent_items)


def _read_sections(folders: list[Path]) -> dict[str, Any]:
    """Every TOML file of the folders by name, later folders replacing earlier ones."""
    sections: dict[str, Any] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.toml")):
            try:
                sections[path.stem] = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as error:
                raise ProtocolError(f"{path}: not valid TOML ({error})") from error
    return sections


def _require(mapping: dict[str, Any], key: str, where: str) -> Any:
    if key not in mapping:
        raise ProtocolError(f"{where}: expected key {key!r}, found {sorted(mapping)}")
    return mapping[key]


def build_protocol(sections: dict[str, Any]) -> Protocol:
    trial = _require(sections, "trial", "protocol")
    consent = _require(sections, "consent", "protocol")
    items = tuple(
        ConsentItem(
            code=i["code"],
            label_en=i["label_en"],
            label_nl=i["label_nl"],
            plain_en=i.get("plain_en", ""),
            plain_nl=i.get("plain_nl", ""),
        )
        for i in _require(consent, "items", "consent.toml")
    )
    codes = {item.code for item in items}
    protocol = Protocol(
        trial_code=_require(trial, "code", "trial.toml"),
        trial_title=_require(trial, "title", "trial.toml"),
        registration=_require(trial, "registration", "trial.toml"),
        version=str(_require(trial, "protocol_version", "trial.toml")),
        cohort_name=_require(trial, "cohort", "trial.toml"),
        consent_items=items,
        randomization_consent_items=tuple(
            _require(consent, "required_for_randomization", "consent.toml")
        ),
        questionnaire_consent_items=tuple(
            _require(consent, "required_for_questionnaires", "consent.toml")
        ),
        randomization_question=_require(consent, "randomization_question", "consent.toml"),
        sections=MappingProxyType(sections),
    )
    for code in (
        *protocol.randomization_consent_items,
        *protocol.questionnaire_consent_items,
        protocol.randomization_question,
    ):
        if code not in codes:
            raise ProtocolError(
                f"consent.toml: required item {code!r} is not one of {sorted(codes)}"
            )
    return protocol


@cache
def load_protocol(override_dir: str | None = None) -> Protocol:
    """BLEND's protocol in the single-trial layout (cohort + ``trials/BLEND/``), then the
    trial team's overrides (``BLEND_PROTOCOL_DIR``), each replacing its section whole."""
    return build_protocol(single_trial_sections(override_folder(override_dir)))


# The cohort-and-trials API. Imported last: its modules read the schedule module, which
# imports load_protocol from this package.
from blend.protocol.arms import Arm, Procedure, TimingRule, TreatmentPlan  # noqa: E402
from blend.protocol.cohort_config import COHORT_DIR, Cohort, Site  # noqa: E402
from blend.protocol.loaders import (  # noqa: E402
    clear_caches,
    load_cohort,
    load_trial,
    load_trials,
    override_folder,
    single_trial_sections,
)
from blend.protocol.outcomes import ExtraMeasurement, Outcome, TrialSchedule  # noqa: E402
from blend.protocol.overlap import Membership, OverlapRule, Refusal  # noqa: E402
from blend.protocol.trial_config import (  # noqa: E402
    TRIALS_DIR,
    TRIALS_DIRS_ENV,
    PrimaryOutcome,
    Trial,
    trial_codes,
    trial_folders,
    validate_trial_folder,
)

__all__ = [
    "COHORT_DIR",
    "DEFAULTS_DIR",
    "TRIALS_DIR",
    "TRIALS_DIRS_ENV",
    "Arm",
    "Cohort",
    "ConfigError",
    "ConsentItem",
    "ExtraMeasurement",
    "Membership",
    "Outcome",
    "OverlapRule",
    "PrimaryOutcome",
    "Procedure",
    "Protocol",
    "ProtocolError",
    "Refusal",
    "Site",
    "TimingRule",
    "TreatmentPlan",
    "Trial",
    "TrialSchedule",
    "build_protocol",
    "clear_caches",
    "load_cohort",
    "load_protocol",
    "load_trial",
    "load_trials",
    "trial_codes",
    "trial_folders",
    "validate_trial_folder",
]
