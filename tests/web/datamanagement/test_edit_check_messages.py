"""Edit-check messages are sentences in the reader's language, not code: the field's label,
what was expected (with the date it is compared with) and what was entered.

One view-level test per kind of form that runs edit checks (registration, participant
edit, consent, adverse event), in English and in Dutch. The check code is kept for the
roles that manage data: a nurse entering data reads words only (the code rides along
as the error's ``data-check`` attribute, never as visible text); the data manager
sees the code, muted, on the queries ``blend check-data`` opens and on any form.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from blend.apps.consent.editchecks import CONSENT_RECORD
from blend.apps.consent.models import ConsentRecord
from blend.apps.datamanagement.editchecks import TIMELINE
from blend.apps.datamanagement.models import Query
from blend.apps.datamanagement.runner import check_data
from blend.apps.followup.models import Assessment
from blend.apps.registry.editchecks import PARTICIPANT
from blend.apps.registry.forms import ParticipantEditForm
from blend.apps.registry.models import Participant
from blend.apps.safety.editchecks import ADVERSE_EVENT
from blend.apps.safety.models import AdverseEvent, Seriousness
from blend.editchecks import out_of_order, run_checks
from blend.web.findings import describe, model_displayer, model_labeller
from tests.core.editchecks.test_edit_checks import CASES

LANGUAGES = ["en", "nl"]


def _client(client_for, who: str, language: str):  # type: ignore[no-untyped-def]
    client = client_for(who)
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    return client


def _errors(body: str) -> list[str]:
    """The visible text of every error on the page."""
    items = re.findall(r'<ul class="errorlist"[^>]*>(.*?)</ul>', body, re.S)
    return [
        re.sub(r"<[^>]+>", "", li).strip()
        for ul in items
        for li in re.findall(r"<li[^>]*>(.*?)</li>", ul, re.S)
    ]


def _assert_plain(body: str, code: str) -> None:
    assert f'data-check="{code}"' in body  # the code travels with the error…
    assert not any(code in error for error in _errors(body))  # …but the nurse does not read it
    assert "expected" not in " ".join(_errors(body)).lower()
    assert "[" + code not in body


AE_POST = {
    "term": "wound_infection",
    "grade": "2",
    "onset_date": "2025-02-01",  # before cohort entry (1 March 2025): AE08
    "related_sbrt": "possible",
    "related_surgery": "possible",
    "action_taken": "none",
    "outcome": "recovering",
    "aware_at": "2025-04-02T09:00",
}
AE08 = {
    "en": "Onset date: must be on or after the registration date (1 March 2025); "
    "you entered 1 February 2025.",
    "nl": "Begindatum: moet op of na de registratiedatum (1 maart 2025) liggen; "
    "u vulde 1 februari 2025 in.",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_adverse_event_form_says_a_date_order_in_words(
    make_participant, client_for, language
) -> None:
    p = make_participant()
    body = (
        _client(client_for, "nurse_nina", language)
        .post(f"/safety/{p.study_id}/new/", AE_POST)
        .content.decode()
    )
    assert AE08[language] in _errors(body)
    _assert_plain(body, "AE08")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_adverse_event_live_check_says_it_in_words_too(
    make_participant, client_for, language
) -> None:
    p = make_participant()
    body = (
        _client(client_for, "nurse_nina", language)
        .post(f"/safety/{p.study_id}/new/check/", AE_POST)
        .content.decode()
    )
    assert AE08[language] in _errors(body)
    _assert_plain(body, "AE08")


P02 = {
    "en": "Date spinal metastases diagnosed: must be on or before cohort entry date "
    "(1 March 2025); you entered 1 April 2025.",
    "nl": "Datum diagnose wervelmetastasen: moet op of vóór datum cohortinclusie "
    "(1 maart 2025) liggen; u vulde 1 april 2025 in.",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_participant_edit_form_names_both_dates(make_participant, client_for, language) -> None:
    p = make_participant()
    body = (
        _client(client_for, "nurse_nina", language)
        .post(
            f"/participants/{p.study_id}/edit/",
            {
                "sex": "female",
                "primary_tumour": "breast",
                "metastases_diagnosed_on": "2025-04-01",
                "performance_status": "1",
                "reason": "typo",
            },
        )
        .content.decode()
    )
    assert P02[language] in _errors(body)
    _assert_plain(body, "P02")


R01 = {
    "en": "Date of birth: must give an age of 18–110 years at cohort entry; you entered "
    "date of birth: 1 January 2012, cohort entry date: 1 March 2025.",
    "nl": "Geboortedatum: moet een leeftijd van 18–110 jaar bij cohortinclusie geven; u vulde in: "
    "geboortedatum: 1 januari 2012, datum cohortinclusie: 1 maart 2025.",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_registration_form_names_the_fields_and_both_dates(site, client_for, language) -> None:
    body = (
        _client(client_for, "nurse_nina", language)
        .post(
            "/participants/new/",
            {
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
            },
        )
        .content.decode()
    )
    assert R01[language] in _errors(body)
    _assert_plain(body, "R01")


C01 = {
    "en": ": must be “no” or “postponed” (not informed when allocated to control) unless "
    "item c (randomization) is “yes”; you entered (c) Being randomized into future trials",
    "nl": ": moet “nee” of “uitgesteld” zijn (niet geïnformeerd bij toewijzing aan de "
    "controlegroep), tenzij item c (randomisatie) “ja” is; u vulde in: (c) Being randomized",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_consent_form_says_the_rule_and_the_answers_in_words(
    make_participant, client_for, consent_version, language
) -> None:
    p = make_participant(consent={})
    body = (
        _client(client_for, "nurse_nina", language)
        .post(
            f"/consent/{p.study_id}/record/",
            {
                "effective_on": "2025-03-01",
                "form_version": consent_version.pk,
                "item_c": "no",
                "item_d": "yes",
            },
        )
        .content.decode()
    )
    [error] = [e for e in _errors(body) if e.startswith("(d)")]
    assert C01[language] in error
    no, yes = {"en": ("no", "yes"), "nl": ("nee", "ja")}[language]
    assert f"future trials / Gerandomiseerd worden voor toekomstige studies: {no}, (d) " in error
    assert error.endswith(f": {yes}.")
    _assert_plain(body, "C01")


def test_a_data_manager_sees_the_check_code_beside_the_words(make_participant) -> None:
    p = make_participant()
    form = ParticipantEditForm(
        {
            "sex": "female",
            "primary_tumour": "breast",
            "metastases_diagnosed_on": "2025-04-01",
            "performance_status": "1",
            "reason": "typo",
        },
        instance=p,
    )
    assert not form.is_valid()
    as_manager = render_to_string(
        "registry/_form_fields.html", {"form": form, "caps": {"query.manage"}}
    )
    as_nurse = render_to_string("registry/_form_fields.html", {"form": form, "caps": set()})
    assert '<small class="muted check-code">P02</small>' in as_manager
    assert "check-code" not in as_nurse and 'data-check="P02"' in as_nurse


@pytest.mark.parametrize("language", LANGUAGES)
def test_check_data_opens_queries_in_words_with_the_code_beside_them(
    make_participant, client_for, language
) -> None:
    p = make_participant()
    Participant.objects.filter(pk=p.pk).update(metastases_diagnosed_on=date(2025, 4, 1))
    with translation.override(language):
        check_data(user=None)
    query = Query.objects.get(participant=p, check_code="P02")
    assert query.messages.get().text == P02[language]
    manager = _client(client_for, "datamanager_dirk", language)
    listed = manager.get("/datamanagement/").content.decode()
    assert "<td>P02</td>" in listed
    detail = manager.get(f"/datamanagement/queries/{query.pk}/").content.decode()
    assert P02[language] in detail and "P02" in detail
    assert "metastases_diagnosed_on" not in detail  # the field by its label, not its column


CHECK_MODELS = {
    id(PARTICIPANT): Participant,
    id(ADVERSE_EVENT): AdverseEvent,
    id(CONSENT_RECORD): ConsentRecord,
    id(TIMELINE): Participant,
}
COLUMN_NAME = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.mark.parametrize(
    ("check_set", "good", "change", "code"),
    [case[:4] for case in CASES],
    ids=[case[3] for case in CASES],
)
def test_every_declared_check_is_said_in_words_in_english_and_dutch(
    db, check_set, good, change, code
) -> None:  # type: ignore[no-untyped-def]
    [finding] = [f for f in run_checks(check_set, {**good, **change}) if f.check == code]
    model = CHECK_MODELS.get(id(check_set))
    said = {}
    for language in LANGUAGES:
        with translation.override(language):
            if model is None:
                said[language] = describe(finding)
            else:
                display = model_displayer(model, {"seriousness": Seriousness.choices})
                said[language] = describe(finding, model_labeller(model), display)
    for text in said.values():
        assert not COLUMN_NAME.search(text), text
        assert "expected" not in text and "timeline." not in text and text.endswith(".")
    assert said["en"] != said["nl"]
    assert "hospitalisation" not in said["nl"]  # a choice by its label, in Dutch
    assert not {"must", "entered", "needs", "when"} & set(re.findall(r"[a-z]+", said["nl"]))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_questionnaire_order_check_is_said_in_words(language) -> None:  # type: ignore[no-untyped-def]
    [finding] = out_of_order(
        [("w6", date(2025, 5, 13), date(2025, 5, 20)), ("w8", date(2025, 5, 27), date(2025, 5, 18))]
    )
    with translation.override(language):
        text = describe(finding, model_labeller(Assessment))
    assert (
        text
        == {
            "en": "Completed on: the w8 questionnaire must be completed on or after the w6 "
            "questionnaire (20 May 2025); it was completed on 18 May 2025.",
            "nl": "Ingevuld op: de vragenlijst w8 moet op of na de vragenlijst w6 (20 mei 2025) zijn "
            "ingevuld; hij is ingevuld op 18 mei 2025.",
        }[language]
    )
