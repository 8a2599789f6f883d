"""Documentation is a tested deliverable: every command, setting and capability is documented."""

from __future__ import annotations

import re
from pathlib import Path

from django.core.management import get_commands

from blend.apps.accounts.domain import Cap
from blend.cli import MIXED_COMMANDS, PURE_COMMANDS

ROOT = Path(__file__).parents[2]
DOCS = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md")))
DOCS += (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_blend_subcommand_is_documented() -> None:
    project = [
        name.replace("_", "-") for name, app in get_commands().items() if app.startswith("blend.")
    ]
    missing = [
        name for name in [*PURE_COMMANDS, *MIXED_COMMANDS, *project] if f"blend {name}" not in DOCS
    ]
    assert missing == [], f"not mentioned as `blend <name>` in docs/ or README.md: {missing}"


def test_every_environment_variable_in_settings_is_in_the_deployment_guide() -> None:
    settings_source = (ROOT / "src" / "blend" / "web" / "settings.py").read_text(encoding="utf-8")
    deployment = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    variables = set(re.findall(r'"(BLEND_[A-Z_]+)"', settings_source))
    assert variables and sorted(v for v in variables if v not in deployment) == []


def test_every_capability_is_in_the_roles_page() -> None:
    roles = (ROOT / "docs" / "roles.md").read_text(encoding="utf-8")
    assert [cap.value for cap in Cap if f"`{cap.value}`" not in roles] == []
