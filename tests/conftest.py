"""Shared test configuration.

- Playwright's sync API runs an event loop in the test thread; Django would then
  refuse ORM calls from that thread, so browser tests allow it explicitly.
- Browser tests skip without /usr/bin/chromium unless BLEND_REQUIRE_BROWSER=1 (CI),
  where a missing browser is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
os.environ.setdefault("BLEND_DEBUG", "1")
os.environ.setdefault("BLEND_SECURE", "0")
# Every test run gets a fixed randomization seed; production reads it from a secret.
os.environ.setdefault("BLEND_RANDOMIZATION_SEED", "5eed" * 16)

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
