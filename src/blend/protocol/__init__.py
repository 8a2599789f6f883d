"""The protocol configuration: what a trial team can change without touching code.

The defaults ship as one TOML file per section in ``defaults/`` (``trial.toml``,
``consent.toml``, ``eligibility.toml``, ``randomization.toml``, ``schedule.toml`` ...).
A trial team overrides any of them by pointing ``BLEND_PROTOCOL_DIR`` at a folder
holding files of the same names: a file there replaces the default section whole.

Each pure package parses and validates its own section (``protocol.section(name)``),
so the rules about a section live beside the code that uses it. This module has no
Django imports.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

DEFAULTS_DIR = Path(__file__).with_name("defaults")


class ProtocolError(ValueError):
    """The protocol configuration is inconsistent or malformed."""


@dataclass(frozen=True)
class ConsentItem:
    code: str
    label_en: str
    label_nl: str


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
    randomization_question: str  # the item asking consent to randomization: the screening fact's source
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
        ConsentItem(code=i["code"], label_en=i["label_en"], label_nl=i["label_nl"])
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
        randomization_consent_items=tuple(_require(consent, "required_for_randomization", "consent.toml")),
        questionnaire_consent_items=tuple(_require(consent, "required_for_questionnaires", "consent.toml")),
        randomization_question=_require(consent, "randomization_question", "consent.toml"),
        sections=MappingProxyType(sections),
    )
    for code in (*protocol.randomization_consent_items, *protocol.questionnaire_consent_items,
                 protocol.randomization_question):
        if code not in codes:
            raise ProtocolError(f"consent.toml: required item {code!r} is not one of {sorted(codes)}")
    return protocol


@cache
def load_protocol(override_dir: str | None = None) -> Protocol:
    """Load the defaults, then the trial team's overrides (``BLEND_PROTOCOL_DIR``)."""
    folders = [DEFAULTS_DIR]
    override = override_dir or os.environ.get("BLEND_PROTOCOL_DIR")
    if override:
        if not Path(override).is_dir():
            raise ProtocolError(f"BLEND_PROTOCOL_DIR: expected a folder, got {override!r}")
        folders.append(Path(override))
    return build_protocol(_read_sections(folders))
