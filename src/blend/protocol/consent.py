"""The cohort's staged-consent items (``cohort/consent.toml``; no Django)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConsentItem:
    code: str
    label_en: str
    label_nl: str
    # What the member reads on their own page of choices: plain words that name no trial,
    # no randomization and no control group (the arm-blind rule of patient texts).
    plain_en: str = ""
    plain_nl: str = ""

    def plain(self, language: str) -> str:
        if language == "nl":
            return self.plain_nl or self.label_nl
        return self.plain_en or self.label_en
