"""System check questionnaires.E001: the patient pages are arm-blind too (every cohort
member opens them, including control participants who must not learn of the trial)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.checks import Error, register

from blend.apps.outbox.domain import check_text

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
