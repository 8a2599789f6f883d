"""System checks. questionnaires.E001: the patient pages are arm-blind too (every cohort
member opens them, including control participants who must not learn of the trial).
questionnaires.E002 (``check --deploy``): every questionnaire a patient fills in has
its licensed wording installed in every language a patient may choose."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from blend.apps.outbox.domain import check_text
from blend.instruments import instrument_codes
from blend.instruments.translations import LANGUAGES as TRANSLATABLE
from blend.instruments.translations import coverage
from blend.protocol.schedule import load_schedule

PATIENT_TEMPLATES = Path(__file__).parent / "templates" / "questionnaires" / "patient"


def patient_template_problems(folder: Path = PATIENT_TEMPLATES) -> list[Error]:
    errors = []
    for path in sorted(folder.glob("*.html")):
        found = check_text(path.read_text(encoding="utf-8"))
        if found:
            errors.append(
                Error(
                    f"patient template {path.name} mentions {', '.join(found)}",
                    hint="Patient pages may not mention the trial, arms or randomization (TwiCs).",
                    id="questionnaires.E001",
                )
            )
    return errors


@register()
def check_patient_templates(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    return patient_template_problems()


def patient_instruments() -> tuple[str, ...]:
    """The instruments of the schedule that patients fill in themselves."""
    known = set(instrument_codes())
    return tuple(code for code in load_schedule().instruments if code in known)


def enabled_languages() -> list[str]:
    """The languages a patient may choose, besides English (the definitions' own)."""
    return [code for code, _name in settings.LANGUAGES if code != "en"]


def translation_problems(codes: tuple[str, ...], languages: list[str]) -> list[Error]:
    errors = []
    for language in languages:
        if language not in TRANSLATABLE:
            errors.append(
                Error(
                    f"patient questionnaires: no wording at all for language {language!r}",
                    hint=f"Patient languages with wording: en, {', '.join(TRANSLATABLE)}.",
                    id="questionnaires.E002",
                )
            )
            continue
        for row in coverage(codes):
            if row["language"] == language and not row["complete"]:
                errors.append(
                    Error(
                        f"patient questionnaire {row['code']} ({language}) still shows "
                        f"placeholder text in {len(row['pending'])} of {row['items']} items",
                        hint="Install the licensed translation: `blend instruments "
                        "install-translation FILE` (docs/instruments.md); "
                        "`blend instruments status` lists what is missing.",
                        id="questionnaires.E002",
                    )
                )
    return errors


@register(deploy=True)
def check_patient_translations(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """``blend check --deploy``: no patient sees placeholder wording in production."""
    return translation_problems(patient_instruments(), enabled_languages())
