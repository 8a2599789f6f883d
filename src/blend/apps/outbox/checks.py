"""System checks: every participant message template is arm-blind (outbox.E001) and
the messages section is well formed (outbox.E002). Deploy checks (``blend check
--deploy``): e-mail goes to a real mail server (outbox.W001), and the task backend
holds retries for the background worker (outbox.W002)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register
from django_tasks import default_task_backend

from blend.apps.outbox.domain import check_text
from blend.apps.outbox.message_templates import MessageTemplate, parse_templates
from blend.protocol import ProtocolError, load_cohort, load_protocol


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


def consent_wording_problems(items: Any) -> list[Error]:
    """The plain wording of each consent item is what a member reads of their own choices
    (consent.over_time): it is a patient text like any message, so it is arm-blind too."""
    errors = []
    for item in items:
        for language in ("en", "nl"):
            found = check_text(item.plain(language))
            if found:
                errors.append(
                    Error(
                        f"consent item {item.code} (plain_{language}) mentions {', '.join(found)}",
                        hint="A member's page of their own consent choices goes to control "
                        "participants too. Give the item a plain_en / plain_nl wording in "
                        "consent.toml without these terms.",
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
    return template_problems(templates) + consent_wording_problems(load_cohort().consent_items)


UNDELIVERING_EMAIL_BACKENDS = (
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
)


@register(deploy=True)
def check_delivery(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    problems = []
    if settings.EMAIL_BACKEND in UNDELIVERING_EMAIL_BACKENDS:
        problems.append(
            Warning(
                f"EMAIL_BACKEND: expected a mail server, got {settings.EMAIL_BACKEND}: no "
                "e-mail leaves this server, SAE notifications included",
                hint="Set BLEND_EMAIL_HOST (and BLEND_EMAIL_PORT, _USER, _PASSWORD) as in "
                "docs/deployment.md.",
                id="outbox.W001",
            )
        )
    if not default_task_backend.supports_defer:
        problems.append(
            Warning(
                f"BLEND_TASK_BACKEND: expected a backend that keeps tasks for a worker, got "
                f"{type(default_task_backend).__name__}: a failed SAE notification is "
                "then retried only by the next cron run of blend send-reminders",
                hint="Leave BLEND_TASK_BACKEND unset (django_tasks_db.DatabaseBackend) and run "
                "`blend db-worker` as a service (docs/deployment.md).",
                id="outbox.W002",
            )
        )
    return problems
