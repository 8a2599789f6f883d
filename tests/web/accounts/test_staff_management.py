from __future__ import annotations

import io

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import CommandError, call_command

from blend.apps.accounts.models import GrantRequest, GrantStatus, User
from blend.apps.audit.models import AuditEvent
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db

NEW = {"username": "new.nurse", "role": "nurse", "email": "n@example.org"}


def test_the_administrator_creates_an_account_with_one_role(client_for) -> None:
    """The role waits for a second person and the owner sets the password (issue 14,
    item 2: tests/web/accounts/test_two_person_rule.py)."""
    response = client_for("admin_ada").post("/accounts/staff/", NEW)
    assert response.status_code == 302
    user = User.objects.get(username="new.nurse")
    assert user.role == "" and user.must_set_password and not user.has_usable_password()
    grant = GrantRequest.objects.get(user=user)
    assert grant.changes == {"role": "nurse"} and grant.status == GrantStatus.PENDING
    assert AuditEvent.objects.filter(action="staff.create", actor__username="admin_ada").exists()
    page = client_for("admin_ada").get("/accounts/staff/").content.decode()
    assert 'data-testid="pending-new.nurse"' in page and 'data-testid="must-set-new.nurse"' in page


@pytest.mark.parametrize(
    "username",
    ["nurse_nina", "investigator_ivo", "datamanager_dirk", "statistician_stan", "monitor_mo"],
)
def test_nobody_else_manages_staff(client_for, personas, username) -> None:
    client = client_for(username)
    assert client.get("/accounts/staff/").status_code == 403
    assert client.post("/accounts/staff/", NEW).status_code == 403
    target = personas["nurse_nina"]
    assert (
        client.post(f"/accounts/staff/{target.pk}/deactivate/", {"reason": "x"}).status_code == 403
    )
    assert not User.objects.filter(username="new.nurse").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("username", "Bad Name", "Expected 3–40 lower-case"),
        ("role", "superuser", "Select a valid choice"),
        ("email", "", "This field is required"),
        ("username", "nurse_nina", "already taken"),
    ],
)
def test_bad_account_input_names_the_field_and_creates_nothing(
    client_for, field, value, message
) -> None:
    before = User.objects.count()
    response = client_for("admin_ada").post("/accounts/staff/", NEW | {field: value})
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert User.objects.count() == before


def test_deactivation_needs_a_reason_and_never_applies_to_oneself(client_for, personas) -> None:
    client = client_for("admin_ada")
    nurse = personas["nurse_nina"]
    client.post(f"/accounts/staff/{nurse.pk}/deactivate/", {"reason": ""})
    nurse.refresh_from_db()
    assert nurse.is_active
    client.post(f"/accounts/staff/{nurse.pk}/deactivate/", {"reason": "left the hospital"})
    nurse.refresh_from_db()
    assert not nurse.is_active
    admin = personas["admin_ada"]
    client.post(f"/accounts/staff/{admin.pk}/deactivate/", {"reason": "oops"})
    admin.refresh_from_db()
    assert admin.is_active


def test_unlock_lifts_a_lockout(client, client_for, personas) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "nurse_nina", "password": "wrong"})
    assert AccessAttempt.objects.filter(username="nurse_nina").exists()
    client_for("admin_ada").post(f"/accounts/staff/{personas['nurse_nina'].pk}/unlock/")
    assert not AccessAttempt.objects.filter(username="nurse_nina").exists()
    assert (
        client.post(
            "/accounts/login/", {"username": "nurse_nina", "password": PASSWORD}
        ).status_code
        == 302
    )


def test_createstaff_bootstraps_the_first_administrator(monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-Passphrase-42\n"))
    call_command(
        "createstaff",
        "--username",
        "first.admin",
        "--role",
        "admin",
        "--password-stdin",
        stdout=io.StringIO(),
    )
    assert User.objects.get(username="first.admin").role == "admin"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(CommandError, match="password:"):
        call_command("createstaff", "--username", "second", "--role", "admin", "--password-stdin")


def test_the_staff_page_offers_unlock_only_for_a_locked_account(
    client, client_for, personas
) -> None:
    def unlock_offered(username: str) -> bool:
        page = client_for("admin_ada").get("/accounts/staff/").content.decode()
        return f"/accounts/staff/{personas[username].pk}/unlock/" in page

    assert not any(unlock_offered(name) for name in ("nurse_nina", "monitor_mo", "admin_ada"))
    client.post("/accounts/login/", {"username": "nurse_nina", "password": "wrong"})
    assert not unlock_offered("nurse_nina")  # one typo is not a lockout
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "nurse_nina", "password": "wrong"})
    assert unlock_offered("nurse_nina") and not unlock_offered("monitor_mo")
    client_for("admin_ada").post(f"/accounts/staff/{personas['nurse_nina'].pk}/unlock/")
    assert not unlock_offered("nurse_nina")
