"""Shared test configuration.

- Settings: blend.web.test_settings (safe defaults; the environment still wins).
- Browser tests skip without /usr/bin/chromium unless BLEND_REQUIRE_BROWSER=1 (CI),
  where a missing browser is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = ["tests.personas"]

CHROMIUM = Path("/usr/bin/chromium")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("BLEND_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError("BLEND_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing")
    skip = pytest.mark.skip(reason="/usr/bin/chromium is not installed")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)
