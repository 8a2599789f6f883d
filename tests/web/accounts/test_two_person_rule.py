"""Issue 14, item 2: role administration kept apart from blinded data.

Attacks: an administrator creates an investigator and tries to use it (log in with a
password they chose, open the set-password page without the link, read the link from the
outbox); an administrator grants ``allocation.view`` alone; the grantee and the requester
approve their own grant. Each must fail, and each attempt is in the audit trail
(docs/security.md section 2)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import GrantRequest, GrantStatus, User
from blend.apps.accounts.services import (
    StaffError,
    apply_as_operator,
    approve_grant,
    change_role,
    create_staff,
    grant_trial_role,
    refuse_grant,
    set_active,
)
from blend.apps.audit.models import AuditEvent
from blend.apps.outbox.models import LINK_MARK, Message
from blend.apps.outbox.services import deliver_due
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db

CHOSEN = "admin-knows-this-1"


@pytest.fixture
def second_admin(personas: dict[str, User]) -> User:
    """A second administrator (a second person who may approve)."""
    abe = User.objects.create_user(username="admin_abe", password=PASSWORD, role="admin")
    personas["admin_abe"] = abe
    return abe


def _create_ivy(client_for: Any) -> User:
    """admin_ada creates investigator ivy on the staff page, trying to slip in a password."""
    response = client_for("admin_ada").post(
        "/accounts/staff/",
        {
            "username": "ivy",
            "role": "investigator",
            "email": "ivy@example.org",
            "password": CHOSEN,
        },
    )
    assert response.status_code == 302
    return User.objects.get(username="ivy")


def _link_from_mail(to: str) -> str:
    deliver_due()
    sent = [m for m in mail.outbox if to in m.to]
    assert sent, [m.to for m in mail.outbox]
    found = re.search(r"http://\S+/accounts/password/set/\S+/", sent[-1].body)
    assert found is not None, sent[-1].body
    return found.group(0)


def _set_password(client: Client, link: str, password: str) -> Any:
    path = link.split("://", 1)[1].split("/", 1)[1]
    first = client.get("/" + path)
    if first.status_code != 302:  # an invalid link renders the page at once
        return first
    return client.post(first.url, {"new_password1": password, "new_password2": password})


# --- an administrator cannot use an account they created ------------------------------


def test_the_administrator_cannot_log_in_as_the_investigator_they_created(
    client_for: Any, personas: dict[str, User]
) -> None:
    ivy = _create_ivy(client_for)
    assert ivy.must_set_password and not ivy.has_usable_password()
    assert not ivy.check_password(CHOSEN)  # the posted password was never used
    client = Client()
    login = client.post("/accounts/login/", {"username": "ivy", "password": CHOSEN})
    assert login.status_code == 200 and "_auth_user_id" not in client.session
    # Without the one-time token the set-password page sets nothing.
    for token in ("set-password", "abc-123", "x"):
        page = client.get(f"/accounts/password/set/aXZ5/{token}/")
        assert 'data-testid="link-invalid"' in page.content.decode()
    # A session forced for the account still holds no capability before its owner sets a password.
    client.force_login(ivy)
    assert client.get("/participants/").status_code == 403
    assert not any(ivy.can(cap) for cap in Cap)


def test_the_link_is_never_stored_where_the_administrator_can_read_it(
    client_for: Any, personas: dict[str, User]
) -> None:
    _create_ivy(client_for)
    ada = client_for("admin_ada")
    ada.post("/accounts/password/reset/", {"email": "ivy@example.org"})
    messages = list(Message.objects.filter(to_address="ivy@example.org"))
    # The reset the administrator asked for joins the invitation: one e-mail per 15 minutes.
    assert len(messages) == 1
    assert all(LINK_MARK in m.body and "/password/set/" not in m.body for m in messages)
    link = _link_from_mail("ivy@example.org")
    assert link.split("/password/set/")[1] not in ada.get("/outbox/").content.decode()
    assert all("/password/set/" not in m.body for m in Message.objects.all())


def test_the_owner_sets_their_password_once_with_the_link(
    client_for: Any, personas: dict[str, User]
) -> None:
    ivy = _create_ivy(client_for)
    link = _link_from_mail("ivy@example.org")
    owner = Client()
    done = _set_password(owner, link, "ivys-own-Secret-77")
    assert done.status_code == 302 and "_auth_user_id" in owner.session
    assert done.url == "/accounts/roles/"  # signed in; her role waits for a second person
    ivy.refresh_from_db()
    assert not ivy.must_set_password and ivy.check_password("ivys-own-Secret-77")
    assert AuditEvent.objects.filter(action="staff.password.first", actor=ivy).exists()
    # The link worked once: the administrator who saw it later cannot use it.
    again = _set_password(Client(), link, "admin-takes-over-9")
    assert 'data-testid="link-invalid"' in again.content.decode()
    ivy.refresh_from_db()
    assert ivy.check_password("ivys-own-Secret-77")


def test_an_administrator_cannot_choose_a_password_for_someone(personas: dict[str, User]) -> None:
    with pytest.raises(StaffError, match="password: an administrator cannot choose"):
        create_staff(
            username="pat", role="admin", password=CHOSEN, by=personas["admin_ada"], email="p@x.org"
        )
    with pytest.raises(StaffError, match="email: expected the address"):
        create_staff(username="pat", role="admin", by=personas["admin_ada"])
    assert not User.objects.filter(username="pat").exists()


# --- the two-person rule --------------------------------------------------------------


def test_a_grant_by_one_administrator_alone_is_not_effective(
    client_for: Any, personas: dict[str, User], second_admin: User
) -> None:
    ivy = _create_ivy(client_for)
    _set_password(Client(), _link_from_mail("ivy@example.org"), "ivys-own-Secret-77")
    ivy = User.objects.get(pk=ivy.pk)
    grant = GrantRequest.objects.get(user=ivy)
    assert grant.status == GrantStatus.PENDING and grant.requested_by == personas["admin_ada"]
    assert grant.gains_text == (
        "allocation.view in BLEND, allocation.view in VERTICAL, identifiers.view"
    )
    assert ivy.role == "" and not ivy.can(Cap.ALLOCATION_VIEW) and not ivy.can(Cap.IDENTIFIERS_VIEW)
    assert AuditEvent.objects.filter(action="staff.grant.request", actor__username="admin_ada")
    # The requester approving her own request is refused, and the attempt is audited.
    refused = client_for("admin_ada").post(
        f"/accounts/grants/{grant.pk}/approve/", {"password": PASSWORD}
    )
    assert refused.status_code == 400
    assert "the person who asked for a grant cannot approve it" in refused.content.decode()
    assert User.objects.get(pk=ivy.pk).role == ""
    assert AuditEvent.objects.filter(
        action="staff.grant.decision_refused", actor__username="admin_ada"
    ).exists()
    # The second person, with their own password, makes it effective.
    wrong = client_for("admin_abe").post(
        f"/accounts/grants/{grant.pk}/approve/", {"password": "not-mine"}
    )
    assert wrong.status_code == 400 and User.objects.get(pk=ivy.pk).role == ""
    ok = client_for("admin_abe").post(
        f"/accounts/grants/{grant.pk}/approve/", {"password": PASSWORD}
    )
    assert ok.status_code == 302
    ivy = User.objects.get(pk=ivy.pk)
    assert ivy.role == "investigator" and ivy.can(Cap.ALLOCATION_VIEW, "VERTICAL")
    approval = AuditEvent.objects.get(action="staff.grant.approve")
    assert approval.actor == second_admin and approval.details["requested_by"] == "admin_ada"


def test_the_grantee_cannot_approve_their_own_grant(
    personas: dict[str, User], second_admin: User
) -> None:
    # abe, an administrator, would see BLEND's arms as its monitor: ada asks for it.
    change = grant_trial_role(second_admin, "BLEND", "monitor", by=personas["admin_ada"])
    assert change.pending and change.request is not None
    assert not second_admin.can(Cap.ALLOCATION_VIEW, "BLEND")
    with pytest.raises(StaffError, match="the person a grant is for cannot decide it"):
        approve_grant(change.request, by=second_admin, password=PASSWORD)
    with pytest.raises(StaffError, match="the person a grant is for cannot decide it"):
        refuse_grant(change.request, by=second_admin, reason="no thanks")
    assert (
        AuditEvent.objects.filter(action="staff.grant.decision_refused", actor=second_admin).count()
        == 2
    )
    # Nobody without users.manage decides it either.
    with pytest.raises(StaffError, match="needs the capability 'users.manage'"):
        approve_grant(change.request, by=personas["investigator_ivo"], password=PASSWORD)
    assert GrantRequest.objects.get(pk=change.request.pk).status == GrantStatus.PENDING


def test_changing_a_role_or_reactivating_an_account_is_a_grant_too(
    personas: dict[str, User], second_admin: User
) -> None:
    ada, stan = personas["admin_ada"], personas["statistician_stan"]
    change = change_role(stan, "monitor", by=ada, reason="monitoring now")
    assert change.pending and change.request is not None  # monitor sees identifiers
    assert User.objects.get(pk=stan.pk).role == "statistician"
    refuse_grant(change.request, by=second_admin, reason="not agreed with the PI")
    assert AuditEvent.objects.filter(action="staff.grant.refuse", reason__contains="PI").exists()
    # Losing the arms applies at once; getting them back is a grant.
    assert change_role(stan, "admin", by=ada).pending  # users.manage is guarded as well
    nina = personas["nurse_nina"]
    assert set_active(nina, False, by=ada, reason="left").applied
    back = set_active(nina, True, by=ada, reason="back")
    assert back.pending and not User.objects.get(pk=nina.pk).is_active
    approve_grant(back.request, by=second_admin, password=PASSWORD)  # type: ignore[arg-type]
    assert User.objects.get(pk=nina.pk).is_active


def test_a_request_decided_once_cannot_be_decided_again(
    personas: dict[str, User], second_admin: User
) -> None:
    change = change_role(personas["statistician_stan"], "monitor", by=personas["admin_ada"])
    assert change.request is not None
    approve_grant(change.request, by=second_admin, password=PASSWORD)
    with pytest.raises(StaffError, match="is approved already"):
        refuse_grant(change.request, by=second_admin, reason="changed my mind")


# --- the command line -----------------------------------------------------------------


def test_the_command_line_needs_a_second_person_once_someone_can_approve(
    personas: dict[str, User],
) -> None:
    out = io.StringIO()
    call_command("createstaff", "--username", "ines", "--role", "investigator", stdout=out)
    text = out.getvalue()
    found = re.search(r"Grant request #(\d+) \(allocation.view in BLEND", text)
    assert found is not None, text
    assert re.search(r"http://\S+/accounts/password/set/\S+/", text)  # printed once, for the owner
    ines = User.objects.get(username="ines")
    assert ines.role == "" and ines.must_set_password
    number = found.group(1)
    with pytest.raises(CommandError, match="password: The password is not correct"):
        call_command(
            "staff_grants",
            *("--approve", number, "--user", "admin_ada", "--password-stdin"),
            stdin=io.StringIO("wrong\n"),
        )
    with pytest.raises(CommandError, match="needs the capability 'users.manage'"):
        call_command(
            "staff_grants",
            *("--approve", number, "--user", "nurse_nina", "--password-stdin"),
            stdin=io.StringIO(PASSWORD + "\n"),
        )
    listing = io.StringIO()
    call_command("staff_grants", stdout=listing)
    assert f"#{number} ines:" in listing.getvalue() and "server operator" in listing.getvalue()
    call_command(
        "staff_grants",
        *("--approve", number, "--user", "admin_ada", "--password-stdin"),
        stdin=io.StringIO(PASSWORD + "\n"),
        stdout=io.StringIO(),
    )
    assert User.objects.get(username="ines").role == "investigator"


def test_a_new_installation_is_bootstrapped_by_the_operator_and_shown(
    monkeypatch: Any, personas: dict[str, User]
) -> None:
    User.objects.filter(role="admin").delete()
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-Passphrase-42\n"))
    call_command(
        "createstaff",
        *("--username", "first", "--role", "admin", "--password-stdin"),
        stdout=io.StringIO(),
    )
    first = User.objects.get(username="first")
    assert first.role == "admin" and first.can(Cap.USERS_MANAGE)
    grant = GrantRequest.objects.get(user=first)
    assert grant.status == GrantStatus.BOOTSTRAP and grant.requested_by is None
    assert AuditEvent.objects.filter(action="staff.grant.bootstrap").exists()
    # From now on the operator needs the first administrator's approval.
    call_command("createstaff", "--username", "second", "--role", "admin", stdout=io.StringIO())
    assert User.objects.get(username="second").role == ""


def test_the_dashboard_shows_pending_and_recent_grants(
    client_for: Any, personas: dict[str, User], second_admin: User
) -> None:
    change = change_role(personas["statistician_stan"], "monitor", by=personas["admin_ada"])
    assert change.request is not None
    page = client_for("admin_ada").get("/").content.decode()
    assert re.search(
        r'<div class="n">1</div><a href="/accounts/grants/">grant requests waiting', page
    )
    grants = client_for("admin_ada").get("/accounts/grants/").content.decode()
    assert f'data-testid="grant-{change.request.pk}"' in grants and "statistician_stan" in grants
    approve_grant(change.request, by=second_admin, password=PASSWORD)
    page = client_for("admin_ada").get("/").content.decode()
    assert re.search(
        r'<div class="n">0</div><a href="/accounts/grants/">grant requests waiting', page
    )
    assert re.search(r'<div class="n">1</div><a href="/accounts/grants/">grants applied', page)
    # Only staff managers see them.
    assert "grant requests waiting" not in client_for("nurse_nina").get("/").content.decode()


def test_the_demo_logins_work_beside_another_administrator(
    personas: dict[str, User], site: Any
) -> None:
    """The demo loader asks as the server operator; its administrator approves the
    others as the second person, and its own grant (ada could approve it, but the demo
    cannot know her password) is applied by the operator as a bootstrap grant."""
    from blend.apps.demo.services import DEMO_PASSWORD, _ensure_users

    users = _ensure_users([site])
    assert users["nurse"].can(Cap.ALLOCATION_VIEW) and users["admin"].can(Cap.USERS_MANAGE)
    assert users["nurse"].check_password(DEMO_PASSWORD) and not users["nurse"].must_set_password
    assert GrantRequest.objects.get(user=users["admin"]).status == GrantStatus.BOOTSTRAP
    nurse_grant = GrantRequest.objects.get(user=users["nurse"])
    assert nurse_grant.status == GrantStatus.APPROVED and nurse_grant.decided_by == users["admin"]
    # The operator's shortcut is only for grants the operator asked for.
    change = change_role(personas["statistician_stan"], "monitor", by=personas["admin_ada"])
    assert change.request is not None
    with pytest.raises(StaffError, match="only a grant the server operator asked for"):
        apply_as_operator(change.request, why="demo")


def test_what_counts_as_a_guarded_gain() -> None:
    """The rule ``change_access`` applies, on plain values (``domain.guarded_holdings``)."""
    from blend.apps.accounts.domain import guarded_holdings

    trials = ("BLEND", "VERTICAL")
    nurse = guarded_holdings("nurse", {}, trials, True)
    assert nurse == {
        ("allocation.view", "BLEND"),
        ("allocation.view", "VERTICAL"),
        ("identifiers.view", ""),
    }
    # Limited to BLEND: VERTICAL's arms are gone, identifiers (cohort) stay.
    assert guarded_holdings("nurse", {"BLEND": "nurse"}, trials, True) == nurse - {
        ("allocation.view", "VERTICAL")
    }
    assert guarded_holdings("admin", {}, trials, True) == {("users.manage", "")}
    assert guarded_holdings("admin", {"BLEND": "monitor"}, trials, True) == {
        ("users.manage", ""),
        ("allocation.view", "BLEND"),
    }
    assert guarded_holdings("monitor", {}, trials, False) == frozenset()  # deactivated
