"""Locks, sign-offs and the cross-form timeline per trial: a trial's lock freezes that
trial's records only (locking VERTICAL leaves BLEND and the cohort open), the cohort's
lock freezes everything, a trial's sign-off covers the cohort's data and that trial's,
and each trial's timeline reads its own screening, randomization and treatment dates."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.utils import timezone, translation

from blend.apps.accounts.services import grant_trial_role
from blend.apps.allocation.models import Allocation
from blend.apps.datamanagement import services
from blend.apps.datamanagement.locks import Locked, is_locked
from blend.apps.datamanagement.models import Query
from blend.apps.datamanagement.runner import check_data, find_issues
from blend.apps.datamanagement.timeline import timelines
from blend.apps.registry.services import update_participant
from blend.apps.screening.models import Screening
from blend.apps.screening.services import save_screening
from tests.eligible_facts import ELIGIBLE_FORM_FACTS, VERTICAL_ELIGIBLE_FACTS
from tests.personas import PASSWORD
from tests.web.screening.flow import SCREENED_ON, screen
from tests.web.trials.flow import screen_for_vertical


def rescreen(member, nurse, trial: str) -> Screening:
    """A corrected screening (an edit, with its reason)."""
    facts = VERTICAL_ELIGIBLE_FACTS if trial == "VERTICAL" else ELIGIBLE_FORM_FACTS
    return save_screening(
        member,
        {**facts, "life_expectancy_months": 13},
        on=SCREENED_ON,
        user=nurse,
        trial=trial,
        reason="fix",
    )


pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Any:
    """The refusals are matched in English, whatever language an earlier test left active."""
    with translation.override("en"):
        yield


def _status(participant, form: str) -> str:
    return next(r["status"] for r in services.casebook_status(participant) if r["form"] == form)


def test_a_trial_lock_freezes_that_trials_records_only(make_participant, personas) -> None:
    nurse, dirk = personas["nurse_nina"], personas["datamanager_dirk"]
    member = make_participant()
    screen(member, nurse)
    screen_for_vertical(member, nurse)
    services.lock_participant(member, user=dirk, reason="VERTICAL casebook done", trial="VERTICAL")
    assert is_locked(member, "VERTICAL") and not is_locked(member, "BLEND")
    assert not is_locked(member)  # the cohort-level data
    with pytest.raises(Locked, match="is locked in VERTICAL"):
        rescreen(member, nurse, "VERTICAL")
    rescreen(member, nurse, "BLEND")  # BLEND's screening stays open
    update_participant(member, {"performance_status": 2}, user=nurse, reason="re-assessed")
    assert _status(member, "Screening (VERTICAL)") == "locked"
    assert _status(member, "Screening") == "entered"
    assert _status(member, "Cohort registration") == "entered"
    with pytest.raises(services.DataManagementError, match="already locked in VERTICAL"):
        services.lock_participant(member, user=dirk, trial="VERTICAL")
    services.unlock_participant(member, user=dirk, reason="query on KPS", trial="VERTICAL")
    rescreen(member, nurse, "VERTICAL")


def test_the_cohort_lock_still_freezes_every_trial(make_participant, personas) -> None:
    nurse, dirk = personas["nurse_nina"], personas["datamanager_dirk"]
    member = make_participant()
    screen_for_vertical(member, nurse)
    services.lock_participant(member, user=dirk, reason="casebook complete")
    with pytest.raises(Locked, match="is locked;"):
        rescreen(member, nurse, "VERTICAL")
    assert _status(member, "Screening (VERTICAL)") == "locked"


def test_locking_the_vertical_database_does_not_lock_blend(make_participant, personas) -> None:
    nurse, dirk = personas["nurse_nina"], personas["datamanager_dirk"]
    one, two = make_participant(), make_participant()
    screen_for_vertical(one, nurse)
    services.lock_database(user=dirk, reason="VERTICAL final analysis", trial="VERTICAL")
    with pytest.raises(Locked, match="the VERTICAL database is locked"):
        screen_for_vertical(two, nurse)
    with pytest.raises(Locked, match="the VERTICAL database is locked"):
        rescreen(one, nurse, "VERTICAL")
    screen(two, nurse)  # BLEND
    update_participant(one, {"performance_status": 2}, user=nurse, reason="letter")  # cohort
    assert services.active_lock(None) is None
    assert services.active_lock(None, "VERTICAL") is not None
    services.lock_database(user=dirk, reason="cohort freeze")  # the cohort's: everything
    with pytest.raises(Locked, match="the database is locked"):
        screen(one, nurse)
    services.unlock_database(user=dirk, reason="thaw", trial="")
    services.unlock_database(user=dirk, reason="late correction", trial="VERTICAL")
    screen_for_vertical(two, nurse)


def test_a_lock_names_an_unknown_trial_and_needs_a_role_in_it(make_participant, personas) -> None:
    dirk, member = personas["datamanager_dirk"], make_participant()
    with pytest.raises(services.DataManagementError, match="expected the cohort .* got 'NOPE'"):
        services.lock_participant(member, user=dirk, trial="NOPE")
    grant_trial_role(dirk, "BLEND", "data_manager", by=personas["admin_ada"])  # BLEND only
    with pytest.raises(PermissionDenied, match="no role in trial VERTICAL"):
        services.lock_database(user=dirk, trial="VERTICAL")
    services.lock_database(user=dirk, reason="BLEND freeze", trial="BLEND")


def test_a_trial_sign_off_covers_the_cohort_and_that_trial_only(make_participant, personas) -> None:
    nurse, ivo = personas["nurse_nina"], personas["investigator_ivo"]
    member = make_participant()
    screen(member, nurse)
    screen_for_vertical(member, nurse)
    request = RequestFactory().post("/")
    blend = services.sign_off(member, user=ivo, password=PASSWORD, request=request, trial="BLEND")
    vertical = services.sign_off(
        member, user=ivo, password=PASSWORD, request=request, trial="VERTICAL"
    )
    cohort = services.sign_off(member, user=ivo, password=PASSWORD, request=request)
    assert (blend.trial, vertical.trial, cohort.trial) == ("BLEND", "VERTICAL", "")
    rescreen(member, nurse, "VERTICAL")  # a VERTICAL change
    assert services.signature_is_current(blend) and services.signature_is_current(cohort)
    assert not services.signature_is_current(vertical)
    rescreen(member, nurse, "BLEND")  # a BLEND change
    assert not services.signature_is_current(blend) and services.signature_is_current(cohort)
    update_participant(member, {"performance_status": 2}, user=nurse, reason="letter")
    assert not services.signature_is_current(cohort)  # the cohort's data: every sign-off


def test_the_participant_page_shows_the_cohort_and_the_current_trial(
    make_participant, personas, client_for
) -> None:
    member = make_participant()
    services.lock_participant(member, user=personas["datamanager_dirk"], trial="VERTICAL")
    page = client_for("datamanager_dirk").get(
        f"/participants/{member.study_id}/", {"trial": "VERTICAL"}
    )
    text = page.content.decode()
    assert 'data-testid="dm-scope-cohort"' in text and 'data-testid="dm-scope-VERTICAL"' in text
    assert f"/datamanagement/{member.study_id}/unlock/?scope=VERTICAL" in text
    assert f"/datamanagement/{member.study_id}/lock/?scope=" in text  # the cohort's is open
    response = client_for("datamanager_dirk").post(
        f"/datamanagement/{member.study_id}/unlock/?scope=VERTICAL", {"reason": "query"}
    )
    assert response.status_code == 302 and services.active_lock(member, "VERTICAL") is None


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


def test_each_trials_timeline_reads_its_own_dates(make_participant, personas) -> None:
    nurse = personas["nurse_nina"]
    member = make_participant()
    # VERTICAL: screened after the randomization (T03), BLEND in order.
    for trial, screened, randomized in (
        ("BLEND", date(2025, 3, 10), date(2025, 3, 12)),
        ("VERTICAL", date(2025, 4, 20), date(2025, 4, 12)),
    ):
        Screening.objects.create(
            trial=trial,
            participant=member,
            screened_on=screened,
            screened_by=nurse,
            status="eligible",
            criteria_version="test",
        )
        Allocation.objects.create(
            trial=trial,
            participant=member,
            arm="control",
            sequence_number=1,
            stratum="",
            stratum_index=0,
            allocated_at=_aware(randomized),
            allocated_by=nurse,
        )
    assert timelines([member])[member.pk]["randomized_on"] == date(2025, 3, 12)
    line = timelines([member], trial="VERTICAL")[member.pk]
    assert (line["screened_on"], line["randomized_on"]) == (date(2025, 4, 20), date(2025, 4, 12))
    found = {(i.form, i.finding.check) for i in find_issues() if i.participant_id == member.pk}
    assert ("Participant timeline (VERTICAL)", "T03") in found
    assert ("Participant timeline", "T03") not in found
    check_data(user=None)
    check_data(user=None)  # again: nothing opened twice
    assert (
        Query.objects.filter(check_code="T03", form="Participant timeline (VERTICAL)").count() == 1
    )
