"""Definitions of instruments: items, wording (English and Dutch), options and scales.

These are plain frozen dataclasses so that web forms, exports and the CLI can
render and check questions without importing any scoring code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

import numpy as np

# Marks Dutch text that still has to be replaced by the licensed translation.
PLACEHOLDER_PREFIX = "[NL placeholder: official translation required]"

ScoreValue = float | str | bool | None
ArrayScorer = Callable[[np.ndarray, Mapping[str, Any]], dict[str, np.ndarray]]


def placeholder_nl(text_en: str) -> str:
    """Dutch placeholder text: clearly marked and carrying the English wording."""
    return f"{PLACEHOLDER_PREFIX} {text_en}"


@dataclass(frozen=True)
class Option:
    """One response option. ``value`` is what answers carry (int or str code)."""

    value: int | str
    label_en: str
    label_nl: str


@dataclass(frozen=True)
class Item:
    """One question or field.

    ``kind`` is ``choice`` (the answer must be one of ``options``) or ``number``
    (a number within ``minimum``..``maximum``; ``integer`` demands whole numbers).
    ``placeholder`` is True while the Dutch text or labels are placeholders.
    """

    key: str
    text_en: str
    text_nl: str
    options: tuple[Option, ...] = ()
    placeholder: bool = False
    kind: Literal["choice", "number"] = "choice"
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    unit: str = ""
    header_en: str = ""
    header_nl: str = ""

    # Derived tuples are cached: definitions are immutable and validation reads them per answer.
    @cached_property
    def values(self) -> tuple[int | str, ...]:
        return tuple(option.value for option in self.options)

    @cached_property
    def coded(self) -> bool:
        """True when answers are string codes (encoded as option positions for scoring)."""
        return any(isinstance(v, str) for v in self.values)


@dataclass(frozen=True)
class Scale:
    """A score the instrument produces, with its range and direction.

    ``kind``: ``functional`` and ``global`` (higher is better), ``symptom``
    (higher is worse), or ``other`` (totals, categories, grades).
    """

    key: str
    label_en: str
    items: tuple[str, ...] = ()
    kind: Literal["functional", "symptom", "global", "other"] = "other"
    minimum: float | None = None
    maximum: float | None = None
    categorical: bool = False


@dataclass(frozen=True)
class OptionSpec:
    """A scoring option (keyword argument of ``score``), with allowed values and default."""

    name: str
    default: Any
    choices: tuple[Any, ...] | None = None
    help: str = ""


@dataclass(frozen=True)
class Instrument:
    """A questionnaire or clinical score: its definition and its scorer."""

    code: str
    title_en: str
    title_nl: str
    source: str
    items: tuple[Item, ...]
    scales: tuple[Scale, ...]
    missing_rule: str
    options: tuple[OptionSpec, ...] = ()
    instructions_en: str = ""
    instructions_nl: str = ""
    licensed: bool = False
    scorer: ArrayScorer | None = field(default=None, repr=False, compare=False)
    #: The edition whose items and answer options this definition holds; a licensed
    #: translation names the edition it translates and must match it (``translations``).
    version: str = "1"
    #: Where the Dutch wording came from (the licence), once a translation is applied.
    translation_source: str = ""

    @cached_property
    def item_keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.items)

    @cached_property
    def score_keys(self) -> tuple[str, ...]:
        return tuple(scale.key for scale in self.scales)

    @property
    def placeholder(self) -> bool:
        """True while any Dutch wording is still a placeholder."""
        return any(item.placeholder for item in self.items)

    def item(self, key: str) -> Item:
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(key)

    def with_items(self, items: tuple[Item, ...], **changes: Any) -> Instrument:
        return replace(self, items=items, **changes)


def choice_options(
    values: range | tuple[int, ...], labels_en: Mapping[int, str], labels_nl: Mapping[int, str]
) -> tuple[Option, ...]:
    """Integer options, labelled where a label exists (e.g. only the NRS anchors)."""
    return tuple(Option(v, labels_en.get(v, str(v)), labels_nl.get(v, str(v))) for v in values)
