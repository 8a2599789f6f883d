from __future__ import annotations

from pathlib import Path

from blend.apps.accounts.domain import Cap, Role, permission_matrix_markdown

ROLES_DOC = Path(__file__).parents[3] / "docs" / "roles.md"


def test_docs_roles_md_holds_exactly_the_matrix_the_code_enforces() -> None:
    text = ROLES_DOC.read_text(encoding="utf-8")
    documented = text.split("<!-- matrix:start -->")[1].split("<!-- matrix:end -->")[0].strip()
    assert documented == permission_matrix_markdown(), "regenerate the matrix in docs/roles.md"


def test_no_role_but_the_clinical_ones_and_the_monitor_sees_identifiers() -> None:
    from blend.apps.accounts.domain import ROLE_CAPABILITIES

    holders = {role for role in Role if Cap.IDENTIFIERS_VIEW in ROLE_CAPABILITIES[role]}
    assert holders == {Role.NURSE, Role.INVESTIGATOR, Role.MONITOR}


def test_the_monitor_holds_no_capability_that_writes() -> None:
    from blend.apps.accounts.domain import ROLE_CAPABILITIES

    read_only = {Cap.PARTICIPANT_VIEW, Cap.IDENTIFIERS_VIEW, Cap.AUDIT_VIEW, Cap.ALLOCATION_VIEW}
    assert ROLE_CAPABILITIES[Role.MONITOR] <= read_only
