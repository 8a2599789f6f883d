"""Message templates from the protocol section ``messages.toml`` (a trial team can
override the wording), rendered with Django's template language as plain text."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.template import Context, Engine

from blend.protocol import ProtocolError, load_protocol

LANGUAGES = ("en", "nl")
PARTS = ("subject", "body", "sms")


@dataclass(frozen=True)
class MessageTemplate:
    code: str
    audience: str
    texts: dict[str, str]  # "<part>_<language>" -> template source

    def source(self, part: str, language: str) -> str:
        return self.texts[f"{part}_{language if language in LANGUAGES else 'en'}"]


def parse_templates(section: dict[str, Any]) -> dict[str, MessageTemplate]:
    templates = {}
    for code, raw in section.items():
        if not isinstance(raw, dict):
            raise ProtocolError(f"messages.toml [{code}]: expected a table, got {raw!r}")
        audience = raw.get("audience")
        if audience not in {"participant", "staff"}:
            raise ProtocolError(
                f"messages.toml [{code}]: audience expected participant or staff, got {audience!r}"
            )
        texts = {}
        for part in PARTS:
            for language in LANGUAGES:
                key = f"{part}_{language}"
                if not isinstance(raw.get(key), str):
                    raise ProtocolError(
                        f"messages.toml [{code}]: expected text {key!r}, got {raw.get(key)!r}"
                    )
                texts[key] = raw[key]
        templates[code] = MessageTemplate(code, audience, texts)
    return templates


@cache
def load_templates() -> dict[str, MessageTemplate]:
    return parse_templates(load_protocol().section("messages"))


@cache
def _engine() -> Engine:
    return Engine(autoescape=False)


def render(source: str, context: dict[str, Any]) -> str:
    return _engine().from_string(source).render(Context(context, autoescape=False)).strip()
