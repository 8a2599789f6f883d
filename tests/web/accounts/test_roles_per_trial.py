"""Roles per trial (issue 12, "Access per trial"): a staff member with trial roles works
only in those trials, each with the role given there; one without keeps working in every
trial with their own role. ``allocation.view`` is held per trial, so pages, the API,
exports and the audit trail show a trial's arms only to those who hold it there.

Personas: ``nurse_bea`` works in BLEND only, ``monitor_vic`` monitors VERTICAL only
(tests/personas.py, ``TRIAL_PERSONAS``)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from blend.apps.accounts.domain import TRIAL_CAPABILITIES, Cap
from blend.apps.accounts.models import TrialRole, User
from blend.apps.accounts.permissions import check
from blend.apps.accounts.services import (
    StaffError,
    approve_grant,
    grant_trial_role,
    revoke_trial_role,
)
from blend.apps.allocation.models import Allocation
from blend.apps.allocation.services import randomize
from blend.apps.audit.models import AuditEvent
from blend.apps.audit.services import participant_history
from blend.apps.exports.services import export_analysis, export_full
from blend.apps.registry.models import Participant
from blend.apps.screening.models import Screening
from blend.apps.trials.http import SESSION_KEY
from tests.pages import without_csrf
from tests.personas import PASSWORD, grant_in_trial
from tests.web.api.conftest import ApiClient
from tests.web.screening.flow import ELIGIBLE_FORM_FACTS, screen_and_confirm
from tests.web.trials.flow import VERTICAL_ELIGIBLE_FACTS, confirm_for_vertical

pytestmark = pytest.mark.django_db


def _status_table(body: str) -> str:
    found = re.search(r'<table data-testid="trial-status">.*?</table>', body, re.S)
    assert found is not None
    return found.group(0)


def _switcher(body: str) -> str:
    found = re.search(r'<select id="trial-switcher".*?</select>', body, re.S)
    return found.group(0) if found else ""


@pytest.fixture
def in_both(
    make_participant: Any, trial_personas: dict[str, User]
) -> tuple[Participant, Participant]:
    """One member randomized into BLEND, another into VERTICAL (by a nurse of both)."""
    in_blend, in_vertical = make_participant(), make_participant()
    screen_and_confirm(in_blend, trial_personas)
    randomize(in_blend, user=trial_personas["nurse_nina"])
    confirm_for_vertical(in_vertical, trial_personas)
    randomize(in_vertical, user=trial_personas["nurse_nina"], trial="VERTICAL")
    return in_blend, in_vertical


# --- the rule ---------------------------------------------------------------------------


def test_without_trial_roles_a_user_works_in_every_trial_with_their_role(
    personas: dict[str, User],
) -> None:
    nina = personas["nurse_nina"]
    assert nina.open_trials() is None and nina.works_in("VERTICAL")
    for trial in ("BLEND", "VERTICAL"):
        assert nina.can(Cap.RANDOMIZE, trial) and nina.can(Cap.ALLOCATION_VIEW, trial)
    assert not personas["admin_ada"].can(Cap.ALLOCATION_VIEW, "VERTICAL")


def test_with_trial_roles_a_user_works_only_there_and_cohort_caps_stay_with_the_role(
    trial_personas: dict[str, User],
) -> None:
    bea, vic = trial_personas["nurse_bea"], trial_personas["monitor_vic"]
    assert bea.open_trials() == {"BLEND"} and not bea.works_in("VERTICAL")
    for cap in TRIAL_CAPABILITIES & {Cap.SCREENING_WRITE, Cap.RANDOMIZE, Cap.OFFER_WRITE}:
        assert bea.can(cap, "BLEND") and bea.can(cap) and not bea.can(cap, "VERTICAL")
    # Cohort-level capabilities come from the user's own role, whatever the trial.
    assert bea.can(Cap.PARTICIPANT_WRITE) and bea.can(Cap.CONSENT_WRITE)
    assert bea.can(Cap.IDENTIFIERS_VIEW) and bea.can(Cap.QUESTIONNAIRE_ENTER)
    assert vic.can(Cap.ALLOCATION_VIEW, "VERTICAL") and not vic.can(Cap.ALLOCATION_VIEW, "BLEND")
    assert not vic.can(Cap.ALLOCATION_VIEW)  # None is the default trial, BLEND
    assert vic.can(Cap.AUDIT_VIEW) and vic.can(Cap.IDENTIFIERS_VIEW)
    with pytest.raises(PermissionDenied, match="'randomize' in trial VERTICAL"):
        check(bea, Cap.RANDOMIZE, trial="VERTICAL")


def test_a_role_in_a_trial_may_differ_from_the_users_own(personas: dict[str, User]) -> None:
    nina = personas["nurse_nina"]
    grant_trial_role(nina, "BLEND", "nurse", by=personas["admin_ada"])
    # VERTICAL's arms are a grant she did not hold since BLEND limited her: two persons.
    grant_in_trial(personas, nina, "VERTICAL", "investigator")
    assert nina.can(Cap.ELIGIBILITY_CONFIRM, "VERTICAL")
    assert not nina.can(Cap.ELIGIBILITY_CONFIRM, "BLEND")
    assert not nina.can(Cap.SIGN_OFF)  # sign-off is cohort-level: the user's own role


# --- granting and revoking --------------------------------------------------------------


def test_grant_and_revoke_are_audited_and_the_last_revoke_returns_to_every_trial(
    personas: dict[str, User],
) -> None:
    nina, ada = personas["nurse_nina"], personas["admin_ada"]
    grant_trial_role(nina, "BLEND", "nurse", by=ada)
    assert not nina.works_in("VERTICAL")
    grant_trial_role(nina, "BLEND", "investigator", by=ada)  # one per user and trial
    assert TrialRole.objects.filter(user=nina).count() == 1
    assert nina.role_in("BLEND") == "investigator"
    grant = AuditEvent.objects.filter(action="staff.trial_role.grant").last()
    assert grant is not None and grant.actor == ada
    assert grant.details == {
        "username": "nurse_nina",
        "trial": "BLEND",
        "role": "investigator",
        "previous_role": "nurse",
    }
    # The last revoke gives her VERTICAL's arms again: a grant for a second person.
    change = revoke_trial_role(nina, "BLEND", by=None)
    assert change.pending and change.request is not None and not nina.works_in("VERTICAL")
    approve_grant(change.request, by=ada, password=PASSWORD)
    nina = User.objects.get(pk=nina.pk)
    assert nina.works_in("VERTICAL") and nina.role_in("VERTICAL") == "nurse"
    assert AuditEvent.objects.filter(action="staff.trial_role.revoke").count() == 1


def test_grants_name_the_expected_trial_and_role(personas: dict[str, User]) -> None:
    nina, ada = personas["nurse_nina"], personas["admin_ada"]
    with pytest.raises(StaffError, match=r"trial: expected one of BLEND, VERTICAL.*, got 'NOPE'"):
        grant_trial_role(nina, "NOPE", "nurse", by=ada)
    with pytest.raises(StaffError, match=r"role in BLEND: expected one of nurse, .*, got 'chef'"):
        grant_trial_role(nina, "BLEND", "chef", by=ada)
    with pytest.raises(StaffError, match="'nurse_nina' has no role in VERTICAL"):
        revoke_trial_role(nina, "VERTICAL", by=ada)
    assert (
        not TrialRole.objects.exists()
        and not AuditEvent.objects.filter(action__startswith="staff.trial_role").exists()
    )


def test_createstaff_takes_trials_and_refuses_an_unknown_one_whole(monkeypatch: Any) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-Passphrase-42\n"))
    out = io.StringIO()
    call_command(
        "createstaff",
        "--username",
        "vera",
        "--role",
        "nurse",
        "--trial",
        "BLEND",
        "--trial",
        "VERTICAL:investigator",
        "--password-stdin",
        stdout=out,
    )
    vera = User.objects.get(username="vera")
    assert vera.trial_roles == {"BLEND": "nurse", "VERTICAL": "investigator"}
    assert "BLEND, VERTICAL:investigator" in out.getvalue()
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-Passphrase-42\n"))
    with pytest.raises(CommandError, match="trial: expected one of .*got 'NOPE'"):
        call_command(
            "createstaff",
            *("--username", "wim", "--role", "nurse", "--trial", "NOPE", "--password-stdin"),
        )
    assert not User.objects.filter(username="wim").exists()


def test_staff_trials_lists_grants_and_revokes_all_or_nothing(personas: dict[str, User]) -> None:
    out = io.StringIO()
    call_command("staff_trials", "monitor_mo", stdout=out)
    assert "no roles per trial: works in every trial as monitor" in out.getvalue()
    out = io.StringIO()
    call_command("staff_trials", "monitor_mo", "--grant", "VERTICAL", stdout=out)
    assert "VERTICAL: monitor" in out.getvalue() and "BLEND: -" in out.getvalue()
    with pytest.raises(CommandError, match="trial: expected one of .*got 'NOPE'"):
        call_command("staff_trials", "monitor_mo", "--grant", "BLEND", "--grant", "NOPE:monitor")
    assert User.objects.get(username="monitor_mo").trial_roles == {"VERTICAL": "monitor"}
    out = io.StringIO()
    call_command("staff_trials", "monitor_mo", "--revoke", "VERTICAL", stdout=out)
    # Every trial again gives BLEND's arms: it waits for a second person.
    found = re.search(r"Grant request #(\d+) \(allocation.view in BLEND\) waits", out.getvalue())
    assert found is not None, out.getvalue()
    assert User.objects.get(username="monitor_mo").open_trials() == {"VERTICAL"}
    call_command(
        "staff_grants",
        *("--approve", found.group(1), "--user", "admin_ada", "--password-stdin"),
        stdin=io.StringIO(PASSWORD + "\n"),
        stdout=io.StringIO(),
    )
    assert User.objects.get(username="monitor_mo").open_trials() is None
    with pytest.raises(CommandError, match="username: no staff account 'nobody'"):
        call_command("staff_trials", "nobody")


def test_the_staff_page_shows_each_accounts_trials(
    client_for: Any, trial_personas: dict[str, User]
) -> None:
    page = client_for("admin_ada").get("/accounts/staff/").content.decode()
    assert re.search(r'data-testid="trials-nurse_bea">BLEND: nurse<', page)
    assert re.search(r'data-testid="trials-nurse_nina"><span class="muted">every trial', page)


def test_the_menu_and_the_roles_page_follow_the_role_in_the_current_trial(
    client_for: Any, personas: dict[str, User]
) -> None:
    ada = personas["admin_ada"]
    personas["admin_abe"] = User.objects.create_user(
        username="admin_abe", password=PASSWORD, role="admin"
    )
    grant_trial_role(ada, "VERTICAL", "admin", by=ada)
    grant_in_trial(personas, ada, "BLEND", "monitor", approver="admin_abe")
    client = client_for("admin_ada")
    client.post("/trials/switch/", {"trial": "VERTICAL", "next": "/"})
    assert 'href="/allocation/overview/"' in client.get("/").content.decode()
    assert client.get("/allocation/overview/").status_code == 200
    client.post("/trials/switch/", {"trial": "BLEND", "next": "/"})
    assert 'href="/allocation/overview/"' not in client.get("/").content.decode()
    assert client.get("/allocation/overview/").status_code == 403
    assert client.get("/accounts/staff/").status_code == 200  # users.manage: her own role
    roles = client.get("/accounts/roles/").content.decode()
    assert roles.count("per trial") == len(TRIAL_CAPABILITIES)


# --- the switcher -----------------------------------------------------------------------


def test_the_switcher_offers_only_the_users_trials_and_refuses_another(
    client_for: Any, trial_personas: dict[str, User]
) -> None:
    bea = client_for("nurse_bea")
    switcher = _switcher(bea.get("/").content.decode())
    assert 'value="BLEND"' in switcher and 'value="VERTICAL"' not in switcher
    response = bea.post("/trials/switch/", {"trial": "VERTICAL", "next": "/participants/"})
    assert response.status_code == 302
    assert SESSION_KEY not in bea.session  # nothing kept
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "You have no role in VERTICAL, so you cannot work in it. "
        "Ask the trial administrator for one."
    ]
    assert "screened for BLEND" in bea.get("/").content.decode()
    # Nina has no trial roles: both are offered, as before.
    switcher = _switcher(client_for("nurse_nina").get("/").content.decode())
    assert 'value="BLEND"' in switcher and 'value="VERTICAL"' in switcher


def test_a_user_outside_the_default_trial_starts_in_their_own(
    client_for: Any, trial_personas: dict[str, User]
) -> None:
    page = client_for("monitor_vic").get("/").content.decode()
    assert re.search(r'<option value="VERTICAL"\s+selected>', _switcher(page))
    assert "BLEND" not in _switcher(page)
    assert "screened for VERTICAL" in page


# --- pages ------------------------------------------------------------------------------


def test_the_blend_nurse_screens_and_randomizes_in_blend_and_is_refused_in_vertical(
    client_for: Any, make_participant: Any, trial_personas: dict[str, User]
) -> None:
    member = make_participant()
    bea = client_for("nurse_bea")
    assert bea.get(f"/screening/{member.study_id}/").status_code == 200
    assert bea.get(f"/screening/{member.study_id}/?trial=VERTICAL").status_code == 403
    screen_and_confirm(member, trial_personas)
    response = bea.post(f"/allocation/{member.study_id}/randomize/")
    assert response.status_code == 302
    assert Allocation.objects.filter(participant=member, trial="BLEND").exists()

    other = make_participant()
    confirm_for_vertical(other, trial_personas)
    refused = bea.post(f"/allocation/{other.study_id}/randomize/?trial=VERTICAL")
    assert refused.status_code == 403
    assert not Allocation.objects.filter(participant=other).exists()
    assert bea.get("/offers/?trial=VERTICAL").status_code == 403
    assert bea.get(f"/treatment/{other.study_id}/?trial=VERTICAL").status_code == 403


def test_a_vertical_only_nurse_screens_for_vertical_through_the_services(
    personas: dict[str, User], make_participant: Any
) -> None:
    """The services check the capability in the trial they act on, not the default one."""
    from blend.apps.screening.services import save_screening
    from tests.web.screening.flow import SCREENED_ON

    vik = User.objects.create_user(username="nurse_vik", password="x-Long-pass-1", role="nurse")
    grant_trial_role(vik, "VERTICAL", "nurse", by=personas["admin_ada"])
    member = make_participant()
    save_screening(member, VERTICAL_ELIGIBLE_FACTS, on=SCREENED_ON, user=vik, trial="VERTICAL")
    assert Screening.objects.filter(participant=member, trial="VERTICAL").exists()
    with pytest.raises(PermissionDenied, match="'screening.write' in trial BLEND"):
        save_screening(member, ELIGIBLE_FORM_FACTS, on=SCREENED_ON, user=vik, trial="BLEND")


def test_the_participant_page_shows_each_trials_arm_only_where_it_is_held(
    client_for: Any, in_both: tuple[Participant, Participant]
) -> None:
    in_blend, in_vertical = in_both
    blend_arm = Allocation.objects.get(participant=in_blend).arm
    vertical_arm = Allocation.objects.get(participant=in_vertical).arm
    vic = client_for("monitor_vic")
    shown = _status_table(without_csrf(vic.get(f"/participants/{in_vertical.study_id}/").content))
    assert vertical_arm in shown
    hidden = _status_table(without_csrf(vic.get(f"/participants/{in_blend.study_id}/").content))
    assert "randomized" in hidden and blend_arm not in hidden
    assert "no role in this trial" in hidden
    # The audit trail: VERTICAL's allocation event is there, BLEND's is not.
    page = vic.get(f"/participants/{in_vertical.study_id}/").content.decode()
    assert "allocation.Allocation allocation.randomize" in page
    page = vic.get(f"/participants/{in_blend.study_id}/").content.decode()
    assert "allocation.randomize" not in page and blend_arm not in page
    # Monitor Mo (no trial roles) sees both trials' arms, as before.
    mo = client_for("monitor_mo").get(f"/participants/{in_blend.study_id}/").content.decode()
    assert blend_arm in _status_table(mo) and "allocation.randomize" in mo


def test_forcing_a_trial_without_a_role_reveals_nothing(
    client_for: Any, in_both: tuple[Participant, Participant]
) -> None:
    in_blend, in_vertical = in_both
    vic, bea = client_for("monitor_vic"), client_for("nurse_bea")
    for client, study_id, trial in (
        (vic, in_blend.study_id, "BLEND"),
        (bea, in_vertical.study_id, "VERTICAL"),
    ):
        arm = Allocation.objects.get(participant__study_id=study_id).arm
        for url in (
            f"/participants/{study_id}/?trial={trial}",
            f"/allocation/{study_id}/?trial={trial}",
            f"/screening/{study_id}/?trial={trial}",
            f"/allocation/overview/?trial={trial}",
            f"/followup/completeness/?trial={trial}",
        ):
            response = client.get(url)
            assert response.status_code == 403, url
            assert arm not in response.content.decode(), url
        client.post("/trials/switch/", {"trial": trial, "next": f"/allocation/{study_id}/"})
        assert client.session.get(SESSION_KEY) != trial
        response = client.get(f"/allocation/{study_id}/")
        assert response.status_code in (403, 404)  # their own trial: no such allocation
        assert arm not in response.content.decode()


def test_completeness_is_split_by_arm_only_in_a_trial_whose_arms_the_user_sees(
    client_for: Any, trial_personas: dict[str, User]
) -> None:
    vic = client_for("monitor_vic").get("/followup/completeness/").content.decode()
    assert "intervention" in vic  # VERTICAL, where Vic holds allocation.view
    ada = client_for("admin_ada").get("/followup/completeness/?trial=VERTICAL").content.decode()
    assert "intervention" not in ada


# --- the API ----------------------------------------------------------------------------


def test_the_api_checks_per_trial_capabilities_in_the_asked_trial(
    make_participant: Any, trial_personas: dict[str, User]
) -> None:
    from blend.apps.api.tokens import issue_token
    from tests.web.screening.flow import SCREENED_ON

    bea = ApiClient(issue_token(trial_personas["nurse_bea"]))
    member = make_participant()
    body = {"screened_on": SCREENED_ON.isoformat(), "facts": VERTICAL_ELIGIBLE_FACTS}
    path = f"/participants/{member.study_id}/screening"
    refused = bea.client.post(
        f"/api{path}?trial=VERTICAL", body, content_type="application/json", headers=bea.headers
    )
    assert refused.status_code == 403
    assert not Screening.objects.filter(participant=member).exists()
    body = {"screened_on": SCREENED_ON.isoformat(), "facts": ELIGIBLE_FORM_FACTS}
    assert bea.post(path, body).status_code == 200  # BLEND, the default trial
    assert bea.get(path, trial="VERTICAL").status_code == 403  # no role in VERTICAL at all
    assert bea.get(path, trial="NOPE").status_code == 422


def test_the_api_shows_an_arm_only_in_a_trial_where_allocation_view_is_held(
    in_both: tuple[Participant, Participant], trial_personas: dict[str, User]
) -> None:
    from blend.apps.api.tokens import issue_token

    in_blend, in_vertical = in_both
    vic = ApiClient(issue_token(trial_personas["monitor_vic"]))
    reply = vic.get(f"/participants/{in_vertical.study_id}/randomization", trial="VERTICAL")
    assert reply.status_code == 200
    assert reply.json()["arm"] == Allocation.objects.get(participant=in_vertical).arm
    for study_id, params in (
        (in_blend.study_id, {"trial": "BLEND"}),
        (in_blend.study_id, {}),  # the default trial
        (in_vertical.study_id, {}),
    ):
        reply = vic.get(f"/participants/{study_id}/randomization", **params)
        assert reply.status_code == 403
        assert "arm" not in reply.json() or reply.json().get("arm") is None


# --- exports and the audit trail --------------------------------------------------------


def test_the_full_export_holds_only_the_arms_of_the_exporters_trials(
    tmp_path: Path, personas: dict[str, User], in_both: tuple[Participant, Participant]
) -> None:
    stan = personas["statistician_stan"]
    grant_trial_role(stan, "VERTICAL", "statistician", by=personas["admin_ada"])
    entry = export_full(tmp_path / "out", ["csv"], user=stan, via="web")
    for name in ("allocation_allocation", "allocation_allocationlog", "offers_offer"):
        with (tmp_path / "out" / f"{name}.csv").open(encoding="utf-8") as handle:
            trials = {row["trial"] for row in csv.DictReader(handle)}
        assert trials <= {"VERTICAL"}, name
    assert entry.rows["allocation_allocation"] == 1
    # The command line (no user named) exports every trial.
    entry = export_full(tmp_path / "all", ["csv"])
    assert entry.rows["allocation_allocation"] == 2
    # The analysis dataset holds BLEND's arms, which Stan may no longer see.
    with pytest.raises(PermissionDenied, match="'allocation.view' in trial BLEND"):
        export_analysis(tmp_path / "analysis", user=stan, via="web")


def test_the_audit_trail_keeps_arm_revealing_rows_of_the_trials_given(
    in_both: tuple[Participant, Participant],
) -> None:
    in_blend, _in_vertical = in_both

    def models_in(include: Any) -> set[str]:
        rows = participant_history(in_blend, include_identifiers=False, include_allocation=include)
        return {r["model"] for r in rows}

    everything = models_in(True)
    assert "allocation.Allocation" in everything
    assert models_in({"BLEND"}) == everything
    assert "allocation.Allocation" not in models_in({"VERTICAL"})
    assert models_in({"VERTICAL"}) == models_in(False)


def test_the_api_says_which_trials_a_user_works_in_and_what_they_may_do_there(
    trial_personas: dict[str, User],
) -> None:
    from blend.apps.api.tokens import issue_token

    vic = ApiClient(issue_token(trial_personas["monitor_vic"]))
    me = vic.get("/me").json()
    assert me["trials"] == {"VERTICAL": "monitor"} and me["trial"] == "BLEND"
    assert "allocation.view" not in me["capabilities"] and "audit.view" in me["capabilities"]
    assert "allocation.view" in vic.get("/me", trial="VERTICAL").json()["capabilities"]
    nina = ApiClient(issue_token(trial_personas["nurse_nina"])).get("/me").json()
    assert set(nina["trials"]) >= {"BLEND", "VERTICAL"}
