"""The synthetic demo cohort. Every app may add to it with a ``demo.populate(ctx)``
function; they run in the order of settings.BLEND_APPS, so the demo always shows
the whole path. Data are synthetic: names are invented, numbers are drawn from a
seeded generator."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TextIO

from django.core.management.base import OutputWrapper
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from blend.apps import discover
from blend.apps.accounts.domain import ROLE_LABELS, Cap, Role
from blend.apps.accounts.models import GrantRequest, GrantStatus, User
from blend.apps.accounts.services import apply_as_operator, approve_grant, create_staff
from blend.apps.registry.models import Participant, Site
from blend.apps.registry.services import ensure_site
from blend.protocol import load_cohort

DEMO_PASSWORD = "demo-blend-2026"


@dataclass
class DemoContext:
    """What one app's demo step hands to the next."""

    rng: random.Random
    today: date
    users: dict[str, User]
    sites: list[Site]
    participants: list[Participant] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    progress: TextIO | OutputWrapper | None = None
    password: str = DEMO_PASSWORD  # every demo login's password, for steps that re-authenticate


def demo_users() -> list[tuple[str, str]]:
    return [(role.value.replace("_", ""), ROLE_LABELS[role]) for role in Role]


def _ensure_users(sites: list[Site]) -> dict[str, User]:
    """One login per role, each with the demo password set as its own (the server
    operator creates them: docs/security.md sections 2 and 6). Their roles are grants under
    the two-person rule: on a new database they are the installation's bootstrap; where
    a grant waits, the demo administrator approves it as the second person, and one the
    demo administrator cannot approve (its own, when another administrator exists) the
    operator applies, recorded as a bootstrap grant."""
    users: dict[str, User] = {}
    # The administrator first: the second person for the others.
    for role in sorted(Role, key=lambda r: r != Role.ADMIN):
        username = role.value.replace("_", "")
        user = User.objects.filter(username=username).first() or create_staff(
            username=username,
            role=role.value,
            password=DEMO_PASSWORD,
            site=sites[0],
            first_name=ROLE_LABELS[role].split(" ")[0],
            by=None,
        )
        admin = users.get(Role.ADMIN.value)
        for grant in GrantRequest.objects.filter(
            user=user, status=GrantStatus.PENDING, requested_by=None
        ):
            if admin is not None and admin.can(Cap.USERS_MANAGE):
                approve_grant(grant, by=admin, password=DEMO_PASSWORD)
            else:
                apply_as_operator(grant, why="demo data: synthetic account")
        user.refresh_from_db()
        user.__dict__.pop("trial_roles", None)
        users[role.value] = user
    return {role.value: users[role.value] for role in Role}


def demo_steps() -> list[Any]:
    return [module.populate for module in discover("demo")]


def load_demo(
    *,
    participants: int,
    seed: int,
    force: bool = False,
    progress: TextIO | OutputWrapper | None = None,
) -> bool:
    # The cohort's recruiting centres (cohort.toml [[sites]]).
    sites = [ensure_site(site.code, site.name, user=None) for site in load_cohort().sites]
    users = _ensure_users(sites)
    if Participant.objects.exists() and not force:
        return False
    ctx = DemoContext(
        rng=random.Random(seed),
        today=timezone.localdate(),
        users=users,
        sites=sites,
        progress=progress,
    )
    ctx.extra["n_participants"] = participants
    steps = demo_steps()
    with transaction.atomic():
        for step in tqdm(
            steps, desc="demo data", unit="step", file=progress, disable=progress is None
        ):
            step(ctx)
    return True


def random_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max((end - start).days, 0)))
