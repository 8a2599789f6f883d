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
from blend.apps.accounts.domain import ROLE_LABELS, Role
from blend.apps.accounts.models import User
from blend.apps.accounts.services import create_staff
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
    users = {}
    for role in Role:
        username = role.value.replace("_", "")
        user = User.objects.filter(username=username).first() or create_staff(
            username=username,
            role=role.value,
            password=DEMO_PASSWORD,
            site=sites[0],
            first_name=ROLE_LABELS[role].split(" ")[0],
            by=None,
        )
        users[role.value] = user
    return users


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
