"""Forms run their declared edit checks live, when they are validated."""

from __future__ import annotations

from typing import Any


def check_codes(form: Any, field: str) -> list[str]:
    """The edit-check codes of a field's errors (the code is the error's code, not its text)."""
    return [e.code for e in form.errors.as_data()[field] if e.code and e.code[0].isupper()]


def test_registration_form_runs_its_check_live(client_for, site) -> None:
    form = {
        "site": site.pk,
        "registered_on": "2025-03-01",
        "full_name": "Kim Kind",
        "date_of_birth": "2012-01-01",
        "hospital_number": "H12345",
        "sex": "female",
        "primary_tumour": "breast",
        "metastases_diagnosed_on": "2025-02-01",
        "performance_status": "1",
        "preferred_language": "nl",
    }
    from blend.apps.registry.forms import RegistrationForm

    bound = RegistrationForm(form)
    assert not bound.is_valid()
    assert check_codes(bound, "date_of_birth") == ["R01"]


def test_consent_form_runs_its_check_live(consent_version) -> None:
    from blend.apps.consent.forms import ConsentDecisionForm

    bound = ConsentDecisionForm(
        {
            "effective_on": "2025-03-01",
            "form_version": consent_version.pk,
            "item_c": "no",
            "item_d": "yes",
        }
    )
    assert not bound.is_valid()
    assert check_codes(bound, "item_d") == ["C01"]


def test_participant_edit_form_reads_saved_fields(make_participant) -> None:
    from blend.apps.registry.forms import ParticipantEditForm

    p = make_participant()
    bound = ParticipantEditForm(
        {
            "sex": "female",
            "primary_tumour": "breast",
            "metastases_diagnosed_on": "2025-04-01",
            "performance_status": "1",
            "reason": "typo",
        },
        instance=p,
    )
    assert not bound.is_valid()
    assert check_codes(bound, "metastases_diagnosed_on") == ["P02"]
