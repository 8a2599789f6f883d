"""The participant list: roles that may see identifiers see name and hospital number and
find a member by them; the others see neither and cannot search by them."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def members(make_participant):  # type: ignore[no-untyped-def]
    return make_participant(full_name="Willemijn de Vries", hospital_number="H7770001"), (
        make_participant(full_name="Pieter Jansen", hospital_number="H7770002")
    )


@pytest.mark.parametrize("username", ["nurse_nina", "investigator_ivo", "monitor_mo"])
def test_roles_with_identifiers_view_see_name_and_hospital_number(  # type: ignore[no-untyped-def]
    client_for, members, username
) -> None:
    page = client_for(username).get("/participants/").content.decode()
    for name, number in (("Willemijn de Vries", "H7770001"), ("Pieter Jansen", "H7770002")):
        assert name in page and number in page
    assert "Hospital number" in page


@pytest.mark.parametrize(
    ("query", "found", "missed"),
    [
        ("Willemijn", "H7770001", "H7770002"),
        ("jansen", "H7770002", "H7770001"),
        ("H7770001", "Willemijn de Vries", "Pieter Jansen"),
    ],
)
def test_searching_by_name_or_hospital_number_finds_the_member(  # type: ignore[no-untyped-def]
    client_for, members, query, found, missed
) -> None:
    client = client_for("nurse_nina")
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        page = client.get("/participants/", {"q": query}, **headers).content.decode()
        assert found in page and missed not in page


@pytest.mark.parametrize("username", ["datamanager_dirk", "statistician_stan"])
def test_roles_without_identifiers_view_see_and_find_no_identifier(  # type: ignore[no-untyped-def]
    client_for, members, username
) -> None:
    client = client_for(username)
    page = client.get("/participants/").content.decode()
    assert members[0].study_id in page
    assert "Willemijn" not in page and "H7770001" not in page and "Hospital number" not in page
    assert (
        members[0].study_id not in client.get("/participants/", {"q": "Willemijn"}).content.decode()
    )
