"""On PostgreSQL the application's own role cannot obscure the trail (issue 14, item 3).

The tests connect as the owner (a superuser) and act as the application's role with
``SET ROLE``, which gives the session exactly that role's privileges: what a server whose
application logs in as that role could do.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from blend.apps.audit.integrity import check_audit
from blend.apps.audit.models import AuditChainLink, AuditEvent
from blend.apps.audit.services import record_event
from blend.apps.consent.services import record_consent, withdraw_consent
from tests.databases import require_postgres

pytestmark = pytest.mark.django_db

AUDIT_TABLES = ["audit_auditevent", "registry_historicalidentity", "exports_exportlog"]


@pytest.fixture
def app_role(db) -> str:
    """A fresh role set up by the command; created inside the test's transaction, so the
    rollback at the end of the test removes it again."""
    require_postgres()
    role = f"blend_app_{uuid.uuid4().hex[:12]}"
    out = StringIO()
    call_command("db_grant_app_role", role, "--create", stdout=out)
    assert out.getvalue().startswith(f"created role {role}:")
    return role


@contextmanager
def acting_as(role: str) -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute(f'SET ROLE "{role}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def attempt(role: str, statement: str) -> None:
    """Run one statement as ``role`` in a savepoint (undone, whatever happens)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{role}"')
        cursor.execute(statement)


@pytest.mark.parametrize("table", AUDIT_TABLES)
def test_the_app_role_cannot_truncate_an_audit_table(app_role, make_participant, table) -> None:
    make_participant()
    with pytest.raises(DatabaseError, match="permission denied"):
        attempt(app_role, f"TRUNCATE {table}")


@pytest.mark.parametrize(
    "statement",
    [
        'ALTER TABLE audit_auditevent DISABLE TRIGGER "audit_auditevent_append_only"',
        "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
        'DROP TRIGGER "audit_auditevent_append_only" ON audit_auditevent',
        'DROP TRIGGER "audit_auditevent_chain" ON audit_auditevent',
        "ALTER TABLE audit_auditevent OWNER TO CURRENT_USER",
    ],
)
def test_the_app_role_has_no_control_over_the_triggers(app_role, statement) -> None:
    with pytest.raises(DatabaseError, match="must be owner"):
        attempt(app_role, statement)


def test_the_app_role_cannot_switch_triggers_off_for_its_session(app_role) -> None:
    with pytest.raises(DatabaseError, match="permission denied to set parameter"):
        attempt(app_role, "SET session_replication_role = replica")


def test_the_app_role_cannot_replace_the_trigger_function(app_role) -> None:
    with pytest.raises(
        DatabaseError, match="permission denied for schema|must be owner of function"
    ):
        attempt(
            app_role,
            "CREATE OR REPLACE FUNCTION blend_append_only() RETURNS trigger AS "
            "$$ BEGIN RETURN OLD; END; $$ LANGUAGE plpgsql",
        )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET reason = 'rewritten'",
        "DELETE FROM audit_auditevent",
        "UPDATE registry_historicalparticipant SET performance_status = 0",
        "DELETE FROM registry_historicalidentity",
        "DELETE FROM audit_auditchainlink",
    ],
)
def test_the_app_role_cannot_rewrite_or_delete_audit_rows(
    app_role, make_participant, statement
) -> None:
    make_participant()
    with pytest.raises(DatabaseError, match="permission denied"):
        attempt(app_role, statement)


def test_the_application_works_as_its_role_and_its_trail_verifies(
    app_role, make_participant, personas, consent_version
) -> None:
    with acting_as(app_role):
        participant = make_participant(consent={"a": "yes", "b": "postponed"})
        record_consent(
            participant,
            "b",
            "yes",
            on=date(2025, 3, 8),
            form_version=consent_version,
            user=personas["nurse_nina"],
        )
        withdraw_consent(
            participant,
            "a",
            on=date(2025, 4, 1),
            reason="Changed mind",
            user=personas["nurse_nina"],
        )
        record_event("test.role", actor=None, participant=participant)
        connection.check_constraints()  # commit time: the chain triggers run as the app role
        report = check_audit()
    assert report.ok, report.problems
    assert AuditChainLink.objects.filter(table_name="audit_auditevent").count() == (
        AuditEvent.objects.count()
    )


def test_the_command_refuses_an_owner_a_superuser_and_sqlite_is_named(app_role) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
    with pytest.raises(CommandError, match="expected a role other than the one running this"):
        call_command("db_grant_app_role", owner)
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{app_role}_su" SUPERUSER')  # undone with the test
    with pytest.raises(CommandError, match="is a superuser"):
        call_command("db_grant_app_role", f"{app_role}_su")
    with pytest.raises(CommandError, match="does not exist; add --create"):
        call_command("db_grant_app_role", f"{app_role}_nobody")
    with pytest.raises(CommandError, match="role: expected a PostgreSQL role name"):
        call_command("db_grant_app_role", 'x"; DROP TABLE audit_auditevent; --')


def test_on_sqlite_the_command_says_there_are_no_roles() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite answer")
    with pytest.raises(CommandError, match="database: expected PostgreSQL"):
        call_command("db_grant_app_role", "blend_app")


def test_the_deploy_check_refuses_the_owner_and_passes_the_app_role(app_role) -> None:
    from django.core.checks import run_checks

    def audit_errors() -> list[str]:
        found = run_checks(include_deployment_checks=True, databases=["default"])
        return [e.id for e in found if e.id and e.id.startswith("audit.")]

    assert audit_errors() == ["audit.E001"]  # the tests connect as a superuser, the owner
    with acting_as(app_role):
        assert audit_errors() == []
    with connection.cursor() as cursor:  # one grant too many is named
        cursor.execute(f'GRANT TRUNCATE ON audit_auditevent TO "{app_role}"')
    with acting_as(app_role):
        assert audit_errors() == ["audit.E002"]
