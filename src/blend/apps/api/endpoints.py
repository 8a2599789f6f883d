"""The API's own endpoint (who am I) and the mounting of every app's endpoints.

Each app may define an ``api`` module with a ``router`` (a ninja ``Router``) and the
schemas it uses; :func:`mount_app_routers` adds them in settings.BLEND_APPS order, the
way each app's ``urls`` is mounted. Every endpoint checks the capability its web page
checks, then calls the owning app's service; no rule is re-implemented in the API."""

from __future__ import annotations

from typing import Any

from ninja import Router, Schema

from blend.apps import discover
from blend.apps.accounts.domain import capabilities_of
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.api.core import api, responses

router = Router(tags=["trial"])


class MeOut(Schema):
    username: str
    role: str
    capabilities: list[str]


@router.get("/me", response=responses(MeOut), summary="Who am I, and what may I do")
def me(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "username": user.get_username(),
        "role": user.role,
        "capabilities": sorted(c.value for c in capabilities_of(user.role)),
    }


def mount_app_routers() -> None:
    api.add_router("", router)
    for module in discover("api"):
        if hasattr(module, "router"):
            api.add_router("", module.router)


mount_app_routers()
