"""The API's own endpoint (who am I) and the mounting of every app's endpoints.

Each app may define an ``api`` module with a ``router`` (a ninja ``Router``) and the
schemas it uses; :func:`mount_app_routers` adds them in settings.BLEND_APPS order, the
way each app's ``urls`` is mounted. Every endpoint checks the capability its web page
checks, then calls the owning app's service; no rule is re-implemented in the API."""

from __future__ import annotations

from typing import Any

from ninja import Router, Schema

from blend.apps import discover
from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.api.core import api, responses
from blend.apps.trials.lookup import known_trial_codes, trial_code_or_default

router = Router(tags=["trial"])


class MeOut(Schema):
    username: str
    role: str
    trial: str
    capabilities: list[str]
    trials: dict[str, str]


@router.get("/me", response=responses(MeOut), summary="Who am I, and what may I do")
def me(request: AuthenticatedHttpRequest, trial: str | None = None) -> dict[str, Any]:
    """``capabilities`` in ``?trial=`` (the default trial when absent): the per-trial
    ones follow the role there; ``trials``: each trial the user works in, with that role."""
    user = request.user
    code = trial_code_or_default(trial)
    return {
        "username": user.get_username(),
        "role": user.role,
        "trial": code,
        "capabilities": sorted(c.value for c in Cap if user.can(c, trial=code)),
        "trials": {
            t: role for t in known_trial_codes() if user.works_in(t) and (role := user.role_in(t))
        },
    }


def mount_app_routers() -> None:
    api.add_router("", router)
    for module in discover("api"):
        if hasattr(module, "router"):
            api.add_router("", module.router)


mount_app_routers()
