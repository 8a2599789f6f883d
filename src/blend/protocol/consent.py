"""The cohort's staged-consent items (``cohort/consent.toml``; no Django)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConsentItem:
    code: str
    label_en: str
    label_nl: str
