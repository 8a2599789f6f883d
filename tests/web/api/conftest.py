from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from blend.apps.api.tokens import issue_token


class ApiClient:
    """A test client that sends one persona's bearer token."""

    def __init__(self, token: str) -> None:
        self.client, self.headers = Client(), {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api{path}", params, headers=self.headers)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(
            f"/api{path}", body, content_type="application/json", headers=self.headers
        )


@pytest.fixture
def api_for(personas) -> Callable[[str], ApiClient]:  # type: ignore[no-untyped-def]
    tokens: dict[str, str] = {}

    def make(username: str) -> ApiClient:
        if username not in tokens:
            tokens[username] = issue_token(personas[username])
        return ApiClient(tokens[username])

    return make
