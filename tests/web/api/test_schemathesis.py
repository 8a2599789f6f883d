"""Property-based run of schemathesis over the whole OpenAPI schema: no 5xx, every
status code documented, and every response body matching its schema."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from blend.apps.api.tokens import issue_token

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# The schema is read through the WSGI app (no database needed for /api/openapi.json).
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def keep_the_test_connection() -> Any:
    """Schemathesis calls the WSGI app directly, which closes 'old' connections at the end
    of each request; on PostgreSQL that closes the test transaction's connection. Django's
    own test client disconnects the same handlers, for the same reason."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(make_participant: Any, personas: Any, settings: Any) -> str:
    settings.API_RATE_LIMIT_PER_MINUTE = 100_000  # the rate limit has its own test
    make_participant()
    make_participant(consent={"a": "yes", "c": "no"})
    return issue_token(personas["nurse_nina"])


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_honours_its_schema(case: Any, token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
