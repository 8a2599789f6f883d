"""Issue 14, item 6: passwords only their owner knows, so a signature is tied to one person.

Attacks: a breached password; the reset form asked about an address with and without an
account (it must not tell them apart); a password change without the current password;
signing with a password that is no longer the owner's (docs/security.md section 6)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory

from blend.apps.accounts.models import User
from blend.apps.accounts.passwords import BreachedPasswordValidator
from blend.apps.accounts.services import (
    ReauthenticationFailed,
    StaffError,
    reauthenticate,
    set_own_password,
)
from blend.apps.audit.models import AuditEvent
from blend.apps.datamanagement import services as datamanagement
from blend.apps.datamanagement.models import Signature
from blend.apps.outbox.services import deliver_due
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db

# On the shipped list (from the breach set) and not on Django's own list of 20,000.
BREACHED_NOT_IN_DJANGO = "translator"


def test_a_breached_password_is_refused_naming_the_rule(personas: dict[str, User]) -> None:
    validator = BreachedPasswordValidator()
    assert len(validator.passwords) > 40_000
    assert BREACHED_NOT_IN_DJANGO in validator.passwords
    with pytest.raises(ValidationError) as refused:
        validate_password(BREACHED_NOT_IN_DJANGO, personas["nurse_nina"])
    assert "Breached-password rule" in " ".join(refused.value.messages)
    assert "40,101 passwords known from data breaches" in " ".join(refused.value.messages)
    with pytest.raises(StaffError, match="password: .*Breached-password rule"):
        set_own_password(personas["nurse_nina"], "Password123", how="change")
    # Length and digits-only rules stay.
    with pytest.raises(ValidationError, match="at least 10 characters"):
        validate_password("x7#Qa", personas["nurse_nina"])
    with pytest.raises(ValidationError, match="entirely numeric"):
        validate_password("8416092735512", personas["nurse_nina"])


def test_the_change_form_refuses_a_breached_password(client_for: Any) -> None:
    response = client_for("nurse_nina").post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": BREACHED_NOT_IN_DJANGO,
            "new_password2": BREACHED_NOT_IN_DJANGO,
        },
    )
    assert response.status_code == 200
    assert "Breached-password rule" in response.content.decode()
    assert User.objects.get(username="nurse_nina").check_password(PASSWORD)


def test_changing_the_password_needs_the_current_one(client_for: Any) -> None:
    client = client_for("nurse_nina")
    new = "ninas-new-Secret-31"
    wrong = client.post(
        "/accounts/password/",
        {"old_password": "guessed-it-1", "new_password1": new, "new_password2": new},
    )
    assert (
        wrong.status_code == 200
        and "old password was entered incorrectly" in wrong.content.decode()
    )
    nina = User.objects.get(username="nurse_nina")
    assert nina.check_password(PASSWORD)
    ok = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert ok.status_code == 302
    assert User.objects.get(username="nurse_nina").check_password(new)
    assert client.get("/participants/").status_code == 200  # still signed in
    assert AuditEvent.objects.filter(action="staff.password.change", actor=nina).exists()


def _reset(email: str) -> Any:
    client = Client()
    response = client.post("/accounts/password/reset/", {"email": email}, follow=True)
    return response


def test_the_reset_form_does_not_tell_whether_an_account_exists(personas: dict[str, User]) -> None:
    personas["nurse_nina"].email = "nina@example.org"
    personas["nurse_nina"].save()
    known, unknown = _reset("nina@example.org"), _reset("nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert (
        known.redirect_chain == unknown.redirect_chain == [("/accounts/password/reset/sent/", 302)]
    )

    def page(response: Any) -> str:
        return re.sub(
            r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]*"', "", response.content.decode()
        )

    assert page(known) == page(unknown)
    deliver_due()
    assert [m.to for m in mail.outbox] == [["nina@example.org"]]


def test_a_reset_link_sets_a_new_password_once(personas: dict[str, User]) -> None:
    personas["nurse_nina"].email = "nina@example.org"
    personas["nurse_nina"].save()
    _reset("NINA@example.org")
    deliver_due()
    link = re.search(r"http://\S+(/accounts/password/set/\S+/)", mail.outbox[-1].body)
    assert link is not None
    client = Client()
    step = client.get(link.group(1))
    assert step.status_code == 302
    new = "ninas-reset-Secret-8"
    done = client.post(step.url, {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    assert User.objects.get(username="nurse_nina").check_password(new)
    assert AuditEvent.objects.filter(action="staff.password.reset").exists()
    assert 'data-testid="link-invalid"' in Client().get(link.group(1)).content.decode()


def test_signatures_need_the_owners_current_password(
    make_participant: Any, personas: dict[str, User]
) -> None:
    ivo = personas["investigator_ivo"]
    participant = make_participant()
    request = RequestFactory().post("/")
    set_own_password(ivo, "ivos-own-Secret-55", how="change")
    with pytest.raises(ReauthenticationFailed):  # the password that was known before
        datamanagement.sign_off(participant, user=ivo, password=PASSWORD, request=request)
    assert not Signature.objects.exists()
    signature = datamanagement.sign_off(
        participant, user=ivo, password="ivos-own-Secret-55", request=request
    )
    assert signature.signed_by == ivo


def test_an_account_whose_owner_has_not_set_a_password_cannot_sign(
    personas: dict[str, User],
) -> None:
    ivo = personas["investigator_ivo"]
    User.objects.filter(pk=ivo.pk).update(must_set_password=True)
    ivo.refresh_from_db()
    with pytest.raises(ReauthenticationFailed):
        reauthenticate(None, ivo, PASSWORD)
