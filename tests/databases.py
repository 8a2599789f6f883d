"""Helpers for tests that need a particular database."""

from __future__ import annotations

import os

import pytest
from django.db import connection


def require_postgres() -> None:
    """Skip unless the test database is PostgreSQL; in the PostgreSQL CI pass
    (BLEND_REQUIRE_POSTGRES=1) running on anything else is a failure, not a skip."""
    if connection.vendor == "postgresql":
        return
    message = f"needs PostgreSQL (BLEND_DATABASE_URL), running on {connection.vendor}"
    if os.environ.get("BLEND_REQUIRE_POSTGRES") == "1":
        pytest.fail(message)
    pytest.skip(message)
