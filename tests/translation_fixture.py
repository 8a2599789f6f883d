"""A complete, made-up Dutch translation of any instrument, in the install format of
docs/instruments.md. The licensed wording cannot ship with the repository, so tests
install this stand-in: every text is present and none is a placeholder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from blend.instruments.api import untranslated


def complete_translation(code: str) -> dict[str, Any]:
    instrument = untranslated(code)
    headers = {
        h: f"Testkop {i}:"
        for i, h in enumerate(dict.fromkeys(i.header_en for i in instrument.items))
    }
    spec: dict[str, Any] = {
        "language": "nl",
        "version": instrument.version,
        "source": f"test stand-in for {code} (not the licensed text)",
        "title_nl": f"Testvragenlijst {code}",
        "items": {},
        "item_options": {},
    }
    if instrument.instructions_en:
        spec["instructions_nl"] = "Tik op het antwoord dat het best bij u past."
    for item in instrument.items:
        text: dict[str, str] = {"text_nl": f"Testvraag {item.key}?"}
        if item.header_en:
            text["header_nl"] = headers[item.header_en]
        spec["items"][item.key] = text
        labels = {str(o.value): f"Testantwoord {o.value}" for o in item.options}
        if labels:
            spec["item_options"][item.key] = labels
    return spec


def write_translation(path: Path, *codes: str) -> Path:
    path.write_text(
        json.dumps({code: complete_translation(code) for code in codes}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path
