"""The ``blend`` console script.

Pure-core subcommands (scoring, screening, design, simulation, analysis) are
dispatched without starting Django, so they start fast and run anywhere.
Every other subcommand is a Django management command (``blend migrate``,
``blend runserver``, ``blend send-reminders`` ...); hyphens map to underscores.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Sequence

# name -> ("module:function", one-line help). Modules are imported only when used.
PURE_COMMANDS: dict[str, tuple[str, str]] = {
    "score": ("blend.instruments.cli:main", "score questionnaire answers (JSON in, JSON out)"),
    "instruments": (
        "blend.instruments.cli:main_instruments",
        "install a licensed translation; list instruments that lack one",
    ),
    "screen": ("blend.eligibility.cli:main", "assess BLEND eligibility from facts (JSON)"),
    "design": ("blend.design.cli:main_design", "analytic sample size and detectable effect"),
    "simulate": ("blend.design.cli:main_simulate", "ADEMP power simulation of a TwiCs trial"),
    "analyze": ("blend.stats.cli:main_analyze", "run the full statistical analysis"),
    "report": ("blend.stats.cli:main_report", "reports, e.g. `blend report dsmb`"),
}

# Subcommands with pure actions and Django actions: the pure core never starts Django,
# so the actions that read the database are routed here to their management command.
MIXED_COMMANDS: dict[str, tuple[str, str]] = {
    "randomization": (
        "blend.randomization.cli:main",
        "assess designs, print a sequence, verify the allocation log",
    ),
}
DJANGO_ACTIONS: dict[tuple[str, str], str] = {
    ("randomization", "verify"): "randomization_verify",
    ("design", "reestimate"): "design_reestimate",
    # `blend export analysis|full` is the exports app's command; the FHIR app adds `fhir`.
    ("export", "fhir"): "export_fhir",
}
# Django actions that stay pure when given, as this option, the data they would read from
# the database: `blend design reestimate --trial X --accepted 15 --refused 10`.
PURE_WHEN_GIVEN: dict[tuple[str, str], str] = {("design", "reestimate"): "--accepted"}


def _resolve(target: str) -> Callable[[Sequence[str]], int]:
    module_name, function_name = target.split(":")
    return getattr(importlib.import_module(module_name), function_name)


def _print_help() -> None:
    print("usage: blend <command> [options]\n")
    print("Trial commands:")
    for name, (_, text) in sorted({**PURE_COMMANDS, **MIXED_COMMANDS}.items()):
        print(f"  {name:<16} {text}")
    try:
        names = sorted(_django_command_names())
        project = _project_command_names()
    except Exception as error:  # settings may be unconfigured on a fresh machine; help still works
        print(f"\nDjango management commands: not listed ({error})")
        names, project = [], set()
    if project:
        print("\nPlatform commands (use the database):")
        for name in sorted(project):
            print(f"  {name.replace('_', '-'):<22} {_command_help(name)}")
        print("\nDjango and library commands:")
        print("  " + ", ".join(name for name in names if name not in project))
    print("\n`blend <command> --help` shows the options of one command.")


def _project_command_names() -> set[str]:
    setup_django()
    from django.core.management import get_commands

    return {name for name, app in get_commands().items() if app.startswith("blend.")}


def _command_help(name: str) -> str:
    from django.core.management import get_commands, load_command_class

    text = load_command_class(get_commands()[name], name).help or ""
    return text.strip().splitlines()[0] if text.strip() else ""


def _django_command_names() -> list[str]:
    setup_django()
    from django.core.management import get_commands

    return list(get_commands())


def setup_django() -> None:
    """Configure Django once, for subcommands that need the database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blend.web.settings")
    import django

    django.setup()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        _print_help()
        return 0
    command, rest = args[0], args[1:]
    action = (command, rest[0] if rest else "")
    django_action = DJANGO_ACTIONS.get(action)
    given = PURE_WHEN_GIVEN.get(action)
    if given and any(arg == given or arg.startswith(given + "=") for arg in rest):
        django_action = None
    if django_action:
        return _run_django(django_action, rest[1:])
    target = PURE_COMMANDS.get(command) or MIXED_COMMANDS.get(command)
    if target:
        return int(_resolve(target[0])(rest) or 0)
    return _run_django(command, rest)


def _run_django(command: str, rest: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blend.web.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018  (loads the settings: a bad value is named here)
    except ImproperlyConfigured as error:
        print(f"blend {command}: settings: {error}", file=sys.stderr)
        return 2

    from blend.apps.audit.guards import WriteRefused

    try:
        execute_from_command_line(["blend", command.replace("-", "_"), *rest])
    except WriteRefused as refused:
        # A lock (or another write guard) is an answer, not a crash: one line, exit 1.
        print(f"blend {command}: refused: {refused}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
