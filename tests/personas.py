"""Named personas, one per role, and small builders for Django tests.

Every permission boundary is tested with these personas, so the names say who
is acting: ``nurse_nina`` registers participants, ``statistician_stan`` must never
see a name, ``monitor_mo`` must never write.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client

from blend.apps.accounts.domain import Role
from blend.apps.accounts.models import User
from blend.apps.consent.models import ConsentFormVersion
from blend.apps.consent.services import record_consent
from blend.apps.registry.models import Participant, Site
from blend.apps.registry.services import Registration, register_participant

PASSWORD = "correct-horse-battery-9"

PERSONAS = {
    "nurse_nina": Role.NURSE,
    "investigator_ivo": Role.INVESTIGATOR,
    "datamanager_dirk": Role.DATA_MANAGER,
    "statistician_stan": Role.STATISTICIAN,
    "monitor_mo": Role.MONITOR,
    "admin_ada": Role.ADMIN,
}

#: Staff with roles per trial (``accounts.TrialRole``): each works only in the trials
#: named, with the role given there. ``nurse_bea`` works in BLEND and not in VERTICAL;
#: ``monitor_vic`` monitors VERTICAL only, so sees VERTICAL's arms and never BLEND's.
TRIAL_PERSONAS: dict[str, tuple[Role, dict[str, Role]]] = {
    "nurse_bea": (Role.NURSE, {"BLEND": Role.NURSE}),
    "monitor_vic": (Role.MONITOR, {"VERTICAL": Role.MONITOR}),
}


@pytest.fixture
def site(db: Any) -> Site:
    return Site.objects.get_or_create(code="umcu", defaults={"name": "UMC Utrecht"})[0]


@pytest.fixture
def personas(db: Any, site: Site) -> dict[str, User]:
    users = {}
    for username, role in PERSONAS.items():
        user = User.objects.create_user(
            username=username, password=PASSWORD, role=role.value, site=site
        )
        users[username] = user
    return users


@pytest.fixture
def trial_personas(personas: dict[str, User], site: Site) -> dict[str, User]:
    """Add the ``TRIAL_PERSONAS`` to ``personas`` (so ``client_for`` knows them)."""
    from blend.apps.accounts.services import grant_trial_role

    for username, (role, trials) in TRIAL_PERSONAS.items():
        user = User.objects.create_user(
            username=username, password=PASSWORD, role=role.value, site=site
        )
        for code, trial_role in trials.items():
            grant_trial_role(user, code, trial_role.value, by=personas["admin_ada"])
        personas[username] = user
    return personas


def grant_in_trial(
    personas: dict[str, User], user: User, trial: str, role: str, approver: str = "admin_ada"
) -> None:
    """Give ``user`` ``role`` in ``trial`` as the server operator asks it and ``approver``
    approves it when it gives arms (the two-person rule, docs/security.md section 2)."""
    from blend.apps.accounts.services import approve_grant, grant_trial_role

    change = grant_trial_role(user, trial, role, by=None)
    if change.request is not None and change.pending:
        approve_grant(change.request, by=personas[approver], password=PASSWORD)
    user.__dict__.pop("trial_roles", None)


@pytest.fixture
def client_for(personas: dict[str, User]) -> Callable[[str], Client]:
    """A logged-in test client for a persona (force_login: the login page has its own tests)."""

    def make(username: str) -> Client:
        client = Client()
        client.force_login(personas[username])
        return client

    return make


@pytest.fixture
def consent_version(db: Any) -> ConsentFormVersion:
    return ConsentFormVersion.objects.create(version="PRESENT v3.0", valid_from=date(2020, 1, 1))


@pytest.fixture
def make_participant(
    personas: dict[str, User], site: Site, consent_version: ConsentFormVersion
) -> Callable[..., Participant]:
    """Register a participant; ``consent`` maps item → answer (default: all yes)."""
    counter = {"n": 0}

    def make(
        consent: dict[str, str] | None = None,
        registered_on: date = date(2025, 3, 1),
        **overrides: Any,
    ) -> Participant:
        counter["n"] += 1
        fields: dict[str, Any] = {
            "site": site,
            "registered_on": registered_on,
            "sex": "female",
            "primary_tumour": "breast",
            # never after cohort entry: registration refuses that (registry.validation)
            "metastases_diagnosed_on": min(date(2025, 2, 1), registered_on),
            "performance_status": 1,
            "full_name": f"Test Person {counter['n']}",
            "date_of_birth": date(1960, 5, 17),
            "hospital_number": f"T{100000 + counter['n']}",
            "email": f"p{counter['n']}@example.org",
            "phone": "+31 612345678",
            "preferred_language": "nl",
        }
        fields.update(overrides)
        nurse = personas["nurse_nina"]
        participant = register_participant(Registration(**fields), user=nurse)
        answers = {code: "yes" for code in "abcde"} if consent is None else consent
        for item, answer in answers.items():
            record_consent(
                participant,
                item,
                answer,
                on=registered_on,
                form_version=consent_version,
                user=nurse,
            )
        return participant

    return make
