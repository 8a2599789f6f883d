"""Load licensed translations over the placeholder Dutch text, without editing code.

A translation file is JSON::

    {
      "qlq-c15-pal": {
        "source": "EORTC QLQ-C15-PAL, Dutch, licence ...",
        "title_nl": "...",
        "instructions_nl": "...",
        "items": {"q1": "Heeft u moeite ...", "q4": {"text_nl": "...", "header_nl": "..."}},
        "options": {"1": "Helemaal niet", "2": "..."},
        "item_options": {"q15": {"1": "...", "7": "..."}}
      }
    }

``options`` relabels an option value in every item that has it; ``item_options``
relabels one item's options. An item counts as translated (``placeholder=False``)
when neither its text, its header nor any option label is still a placeholder.

The file comes from a function argument or from the environment variable
``BLEND_INSTRUMENT_TRANSLATIONS`` (one path, or several separated by ``os.pathsep``).
Unknown instruments, items or option values are errors, so a typo cannot leave a
placeholder in place unnoticed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from blend.instruments.errors import InstrumentError
from blend.instruments.model import PLACEHOLDER_PREFIX, Instrument, Item, Option

ENV_VAR = "BLEND_INSTRUMENT_TRANSLATIONS"


def translation_paths(path: str | os.PathLike[str] | None = None) -> list[Path]:
    """The translation files to apply: ``path`` if given, else those in the env var."""
    if path is not None:
        return [Path(path)]
    value = os.environ.get(ENV_VAR, "")
    return [Path(p) for p in value.split(os.pathsep) if p]


def load_translation_file(path: Path) -> dict[str, Any]:
    """The parsed file; re-read only when it changes (forms ask for definitions often)."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise InstrumentError(f"translation file {str(path)!r}: cannot be read: {exc}") from exc
    return _parse(str(path.resolve()), stamp)


@lru_cache(maxsize=16)
def _parse(path: str, stamp: int) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InstrumentError(f"translation file {path!r}: cannot be read: {exc}") from exc
    if not isinstance(data, dict):
        raise InstrumentError(f"translation file {path!r}: expected a JSON object")
    return data


def apply_translation(instrument: Instrument, data: Mapping[str, Any]) -> Instrument:
    """Return ``instrument`` with the Dutch wording in ``data`` applied."""
    where = f"translation for {instrument.code}"
    item_texts = data.get("items", {})
    _check_known(where, "item", item_texts, instrument.item_keys)
    item_options = data.get("item_options", {})
    _check_known(where, "item", item_options, instrument.item_keys)
    shared = {str(k): v for k, v in data.get("options", {}).items()}
    items = tuple(
        _translate_item(
            where, item, item_texts.get(item.key), shared, item_options.get(item.key, {})
        )
        for item in instrument.items
    )
    changes = {k: data[k] for k in ("title_nl", "instructions_nl") if k in data}
    return instrument.with_items(items, **changes)


def _check_known(where: str, what: str, given: Mapping[str, Any], known: tuple[str, ...]) -> None:
    unknown = [k for k in given if k not in known]
    if unknown:
        raise InstrumentError(f"{where}: unknown {what} {unknown[0]!r}; expected one of {known}")


def _translate_item(
    where: str, item: Item, text: Any, shared: Mapping[str, str], own: Mapping[str, str]
) -> Item:
    spec = {"text_nl": text} if isinstance(text, str) else dict(text or {})
    own = {str(k): v for k, v in own.items()}
    _check_known(f"{where}, item {item.key}", "option", own, tuple(str(v) for v in item.values))
    options = tuple(
        Option(o.value, o.label_en, own.get(str(o.value), shared.get(str(o.value), o.label_nl)))
        for o in item.options
    )
    updated = replace(
        item,
        text_nl=spec.get("text_nl", item.text_nl),
        header_nl=spec.get("header_nl", item.header_nl),
        options=options,
    )
    texts = [updated.text_nl, updated.header_nl, *(o.label_nl for o in options)]
    return replace(updated, placeholder=any(t.startswith(PLACEHOLDER_PREFIX) for t in texts))


def translate(instrument: Instrument, path: str | os.PathLike[str] | None = None) -> Instrument:
    """Apply every configured translation file that covers ``instrument``."""
    for file in translation_paths(path):
        data = load_translation_file(file)
        if instrument.code in data:
            instrument = apply_translation(instrument, data[instrument.code])
    return instrument
