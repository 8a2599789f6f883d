"""Load licensed translations over the placeholder Dutch text, without editing code.

A translation file is JSON::

    {
      "qlq-c15-pal": {
        "language": "nl",
        "version": "2006",
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

Files come from a function argument, from the environment variable
``BLEND_INSTRUMENT_TRANSLATIONS`` (one path, or several separated by ``os.pathsep``),
and from the *installed* folder (``installed_dir``), where
``blend instruments install-translation FILE`` puts a file once ``check_translation``
found it complete: the language, the edition (``version``), every item, every header,
every answer option, the title, the instructions, the licence (``source``), no
placeholder left and no paper-only wording ("circle"). Unknown instruments, items or
option values are errors everywhere, so a typo cannot leave a placeholder in place
unnoticed.
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
DIR_ENV_VAR = "BLEND_INSTRUMENT_TRANSLATIONS_DIR"
#: The languages a translation file may provide (the definitions hold English and Dutch).
LANGUAGES = ("nl",)
#: Paper-only wording that a screen version must not keep ("circle the number").
PAPER_WORDS = ("circl", "omcirkel")


class TranslationRefused(InstrumentError):
    """A translation file that cannot be installed; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def installed_dir() -> Path | None:
    """Where installed translation files live: ``BLEND_INSTRUMENT_TRANSLATIONS_DIR``, or
    ``var/translations`` under ``BLEND_BASE_DIR`` (the working directory by default),
    beside the database; an empty variable means none."""
    value = os.environ.get(DIR_ENV_VAR)
    if value is not None:
        return Path(value) if value else None
    return Path(os.environ.get("BLEND_BASE_DIR") or Path.cwd()) / "var" / "translations"


def translation_paths(path: str | os.PathLike[str] | None = None) -> list[Path]:
    """The translation files to apply: ``path`` if given, else those in the env var
    followed by the installed ones."""
    if path is not None:
        return [Path(path)]
    value = os.environ.get(ENV_VAR, "")
    folder = installed_dir()
    installed = sorted(folder.glob("*.json")) if folder is not None and folder.is_dir() else []
    return [Path(p) for p in value.split(os.pathsep) if p] + installed


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
    if data.get("source"):
        changes["translation_source"] = str(data["source"])
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


def _texts(instrument: Instrument, data: Mapping[str, Any]) -> dict[str, Any]:
    """Every Dutch text the file gives, by where it goes (for the completeness checks)."""
    texts: dict[str, Any] = {"title_nl": data.get("title_nl")}
    if instrument.instructions_en:
        texts["instructions_nl"] = data.get("instructions_nl")
    items = data.get("items", {})
    shared = {str(k): v for k, v in data.get("options", {}).items()}
    own = data.get("item_options", {})
    for item in instrument.items:
        if item.key not in items:
            continue  # reported once, by the item count
        spec = items[item.key]
        spec = {"text_nl": spec} if isinstance(spec, str) else dict(spec)
        texts[f"item {item.key}"] = spec.get("text_nl")
        if item.header_en:
            texts[f"item {item.key} header"] = spec.get("header_nl")
        labels = {str(k): v for k, v in own.get(item.key, {}).items()}
        for option in item.options:
            value = str(option.value)
            if option.label_en != value:  # a bare number (an NRS point) needs no words
                texts[f"item {item.key} option {value}"] = labels.get(value, shared.get(value))
    return texts


def check_translation(instrument: Instrument, data: Mapping[str, Any]) -> list[str]:
    """Every reason ``data`` cannot be installed as ``instrument``'s translation.

    An installed translation replaces every Dutch text of the instrument, so a file
    that would leave one placeholder, or fit another edition, is refused whole."""
    where = instrument.code
    problems = []
    if not isinstance(data, Mapping):
        return [f"{where}: expected a JSON object"]
    if data.get("language") not in LANGUAGES:
        problems.append(
            f"{where}: language: expected one of {list(LANGUAGES)}; got {data.get('language')!r}"
        )
    if str(data.get("version", "")) != instrument.version:
        problems.append(
            f"{where}: version: this platform scores edition {instrument.version!r}; the file "
            f"translates {data.get('version')!r}"
        )
    if not str(data.get("source", "")).strip():
        problems.append(f"{where}: source: expected the licence or origin of the translation")
    try:
        apply_translation(instrument, data)
    except InstrumentError as error:
        problems.append(str(error))
        return problems
    problems += _count_problems(instrument, data)
    for place, text in _texts(instrument, data).items():
        problems += _text_problems(f"{where}: {place}", text)
    return problems


def _count_problems(instrument: Instrument, data: Mapping[str, Any]) -> list[str]:
    given = data.get("items", {})
    missing = [key for key in instrument.item_keys if key not in given]
    if not missing:
        return []
    return [
        f"{instrument.code}: items: expected all {len(instrument.items)} items; got "
        f"{len(instrument.items) - len(missing)}, missing {', '.join(missing)}"
    ]


def _text_problems(where: str, text: Any) -> list[str]:
    if not isinstance(text, str) or not text.strip():
        return [f"{where}: expected Dutch text; got {text!r}"]
    if text.startswith(PLACEHOLDER_PREFIX):
        return [f"{where}: still the placeholder"]
    lowered = text.lower()
    if any(word in lowered for word in PAPER_WORDS):
        return [
            f"{where}: says to circle an answer; install the screen (electronic) version, "
            "which says to tap"
        ]
    return []


def check_translation_file(data: Any) -> list[str]:
    """The problems of a whole file (one or more instruments)."""
    from blend.instruments.api import instrument_codes, untranslated

    if not isinstance(data, dict) or not data:
        return ["file: expected a JSON object with one entry per instrument code"]
    problems = []
    for code, spec in data.items():
        if code not in instrument_codes():
            problems.append(
                f"{code}: unknown instrument; expected one of {', '.join(instrument_codes())}"
            )
            continue
        problems += check_translation(untranslated(code), spec)
    return problems


def install_translation(source: Path, folder: Path | None = None) -> list[Path]:
    """Check ``source`` and copy each instrument's part into the installed folder as
    ``<code>.<language>.json``; nothing is written when any part has a problem.
    Raises ``TranslationRefused`` listing every problem."""
    data = load_translation_file(source)
    problems = check_translation_file(data)
    if problems:
        raise TranslationRefused(problems)
    folder = folder or installed_dir()
    if folder is None:
        raise InstrumentError(f"{DIR_ENV_VAR}: expected a folder to install into; got ''")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for code, spec in data.items():
        target = folder / f"{code}.{spec['language']}.json"
        temporary = target.with_suffix(".json.tmp")
        temporary.write_text(
            json.dumps({code: spec}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        temporary.replace(target)  # atomic: a reader sees the old file or the new one
        written.append(target)
    return written


def coverage(codes: tuple[str, ...]) -> list[dict[str, Any]]:
    """For each instrument in ``codes`` and each translatable language: whether its
    wording is complete, how many items still carry a placeholder, and its source."""
    from blend.instruments.api import get_instrument

    rows = []
    for code in codes:
        instrument = get_instrument(code)
        for language in LANGUAGES:
            pending = [item.key for item in instrument.items if item.placeholder]
            title_pending = instrument.title_nl.startswith(PLACEHOLDER_PREFIX)
            rows.append(
                {
                    "code": code,
                    "title": instrument.title_en,
                    "version": instrument.version,
                    "language": language,
                    "licensed": instrument.licensed,
                    "complete": not pending and not title_pending,
                    "items": len(instrument.items),
                    "pending": pending,
                    "source": instrument.translation_source,
                }
            )
    return rows
