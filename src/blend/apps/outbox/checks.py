"""System checks: every participant message template is arm-blind (outbox.E001) and
the messages section is well formed (outbox.E002)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register

from blend.apps.outbox.domain import check_text
from blend.apps.outbox.message_templates import MessageTemplate, parse_templates
from blend.protocol import ProtocolError, load_protocol


def template_problems(templates: dict[str, MessageTemplate]) -> list[Error]:
    errors = []
    for template in templates.values():
        if template.audience != "participant":
            continue
        for key, text in template.texts.items():
            found = check_text(text)
            if found:
                errors.append(
                    Error(
                        f"message template {template.code} ({key}) mentions {', '.join(found)}",
                        hint="Participant messages go to every cohort member, including control participants "
                        "who must not learn of the trial (TwiCs). Reword it without these terms.",
                        id="outbox.E001",
                    )
                )
    return errors


@register()
def check_message_templates(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    try:
        templates = parse_templates(load_protocol().section("messages"))
    except ProtocolError as error:
        return [Error(str(error), id="outbox.E002")]
    return template_problems(templates)
