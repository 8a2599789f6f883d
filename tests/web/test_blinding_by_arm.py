"""Blinding by arm (issue 14, item 1): a user without ``allocation.view`` in a trial
cannot tell an intervention participant of that trial from a control.

The attack: build one member's story three times with the real services, in BLEND and
in VERTICAL: in the intervention arm, offered the treatment and accepting it, treated
with it, with an adverse event possibly related to SBRT; in the intervention arm,
refusing the offer and treated with standard care; and in the control arm, treated with
standard care. Each has the same data-management work (every entered form
source-verified, a query, the participant locked). Then, as every persona without
``allocation.view`` in the trial, GET every page of the URLconf and every GET endpoint of
the API, in both trials, make the full export where the persona may, and compare each
intervention story with the control story. They must read the same once what differs for
reasons other than the arm (study IDs, dates and times, record ids, the seed's
commitment, CSRF tokens) is normalised: a form, a field, a row, a link or a count that
exists for one arm only gives the arm away.

Each story is built inside a savepoint and rolled back, so all start from the same
database (on PostgreSQL the id sequences are set back too, as a rollback rewinds them on
SQLite); the arm is chosen by trying fixed seeds in order (deterministic). Pages and
endpoints are read from the URLconf and the API's OpenAPI schema, so a new page is
attacked without editing this file; a new kind of URL parameter fails until it is mapped
here (``_values``)."""

from __future__ import annotations

import csv
import difflib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.accounts.services import grant_trial_role
from blend.apps.allocation.services import randomize
from blend.apps.api.endpoints import api
from blend.apps.api.tokens import issue_token
from blend.apps.datamanagement import services as dm
from blend.apps.datamanagement.models import Query
from blend.apps.exports.services import export_full
from blend.apps.followup.forms import CLINICAL_FORMS
from blend.apps.followup.models import Assessment
from blend.apps.linkage.models import LinkageConflict
from blend.apps.linkage.services import import_brp
from blend.apps.offers import services as offers
from blend.apps.registry.models import Participant
from blend.apps.safety.models import AdverseEvent
from blend.apps.safety.services import report_adverse_event
from blend.apps.treatment.services import record_treatment
from blend.apps.trials.lookup import known_trial_codes
from tests.pages import without_csrf
from tests.personas import PASSWORD
from tests.web.screening.flow import screen_and_confirm
from tests.web.trials.flow import confirm_for_vertical

pytestmark = pytest.mark.django_db

#: Each story: the arm, and for the intervention arm what became of the offer. Every
#: intervention story must read as the control story does.
STORIES = {
    "accepted": ("intervention", "accepted"),
    "refused": ("intervention", "refused"),
    "control": ("control", ""),
}
# URL parameters of pages a blinded persona does not read a participant through: the
# patient's own questionnaire link (patients never see an arm, and the link is a secret
# token) and a staff account's actions. The export files are POST-only downloads: the
# test makes the full export itself (``_exports``).
SKIPPED_PARAMETERS = {"token", "user_id", "action"}


class Rollback(Exception):
    pass


# --- the two stories ---------------------------------------------------------------------


def _allocate(member: Participant, trial: str, arm: str, nurse: User, settings: Any) -> None:
    """Randomize ``member`` into ``arm`` by trying fixed seeds in order (each try that
    lands elsewhere is rolled back), so the story never depends on a run's luck."""
    for n in range(1, 40):
        seed = f"{n:02x}" * 32
        if trial == "BLEND":
            settings.RANDOMIZATION_SEED = seed
        else:
            settings.RANDOMIZATION_SEEDS = {**settings.RANDOMIZATION_SEEDS, trial: seed}
        try:
            with transaction.atomic():
                if randomize(member, user=nurse, trial=trial).arm != arm:
                    raise Rollback
                return
        except Rollback:
            continue
    raise AssertionError(f"no seed of 40 puts the first {trial} member in {arm}")


def _story(
    trial: str, story: str, make_participant: Any, personas: dict[str, User], settings: Any
) -> Participant:
    arm, decision = STORIES[story]
    nurse, dirk = personas["nurse_nina"], personas["datamanager_dirk"]
    # The same person in both stories: identifiers and free text are the same.
    member = make_participant(
        full_name="Test Person", hospital_number="T100001", email="p1@example.org"
    )
    if trial == "BLEND":
        screen_and_confirm(member, personas)
    else:
        confirm_for_vertical(member, personas)
    _allocate(member, trial, arm, nurse, settings)
    # Everything on the day of the allocation (nothing may precede it, nor lie ahead).
    start, now = timezone.localdate(), timezone.now()
    if arm == "intervention":
        offers.make_offer(member, on=start, user=nurse, trial=trial)
        if decision == "accepted":
            version = offers.trial_consent_versions(trial)[0]
            offers.record_acceptance(
                member, on=start, consent_version=version, user=nurse, trial=trial
            )
        else:
            offers.record_refusal(
                member, on=start, reason="prefers standard care", user=nurse, trial=trial
            )
    treated = "intervention" if decision == "accepted" else "control"  # what was given
    if trial == "BLEND":
        data: dict[str, Any] = {"planned_on": start, "notes": "uneventful"}
        if treated == "intervention":
            data.update(
                pathway="same_day",
                sbrt_dose_gy=18,
                sbrt_fractions=1,
                surgical_site_dose_gy=4,
                sbrt_started_at=now,
                surgery_started_at=now,
            )
        else:
            data.update(
                pathway="standard",
                surgery_on=start,
                radiotherapy_on=start,
                radiotherapy_type="5x4 Gy",
            )
    else:
        code, dose = ("sbrt", 18.0) if treated == "intervention" else ("conventional_rt", 8.0)
        data = {
            "planned_on": start,
            "arm_given": treated,
            "procedures": {code: {"on": start.isoformat(), "dose_gy": dose, "fractions": 1}},
        }
    record_treatment(member, data, user=nurse, trial=trial)
    # The same event, attributed as its reporter would: to SBRT in the arm that had it.
    sbrt, surgery = (
        ("possible", "unlikely") if treated == "intervention" else ("not_related", "possible")
    )
    report_adverse_event(
        member,
        {
            "term": "wound_complication",
            "grade": 2,
            "onset_date": start,
            "serious": False,
            "related_sbrt": sbrt,
            "related_surgery": surgery,
            "action_taken": "local_care",
            "outcome": "recovering",
            "description": "redness at the scar",
            "aware_at": now,
        },
        user=nurse,
    )
    dm.open_query(
        dm.QueryTarget(member, "Adverse event", "grade"),
        "Grade 2?",
        assigned_role="nurse",
        user=dirk,
    )
    # A registry answer waiting in the linkage conflict queue (a death before cohort entry).
    import_brp(
        f"study_id,died_on,alive_on\n{member.study_id},2000-01-01,\n".encode(),
        file_name="brp.csv",
        user=dirk,
    )
    for form, visit in dm.entered_forms(member):
        dm.source_verify(member, form, visit=visit, user=dirk)
    dm.lock_participant(member, user=dirk, reason="clean")
    return member


# --- every page and endpoint ---------------------------------------------------------------


def _patterns(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, route)
        else:
            yield route, entry


#: A record id in a page's URL (``<int:pk>``), by the app the page is of.
RECORD_OF = {
    "safety/": AdverseEvent,
    "questionnaires/": Assessment,
    "datamanagement/": Query,
    "linkage/": LinkageConflict,
}
# Pages of a record that belongs to no member: an import job is its uploader's file and its
# progress (the same for every story).
NOT_A_MEMBERS_RECORD = ("exports/import/<int:pk>",)


def _values(member: Participant, route: str) -> dict[str, list[str]]:
    """What each URL parameter of the page or endpoint ``route`` takes for ``member``."""
    records = [m for prefix, m in RECORD_OF.items() if route.startswith(prefix)]
    ids = (
        records[0]._default_manager.filter(participant=member)
        if records
        else AdverseEvent.objects.none()
    )
    return {
        "study_id": [member.study_id],
        "pk": [str(pk) for pk in ids.order_by("pk").values_list("pk", flat=True)[:3]],
        "ae_id": [
            str(pk)
            for pk in AdverseEvent.objects.filter(participant=member).values_list("pk", flat=True)
        ],
        # The clinical follow-up forms, and the export files (POST-only: refused alike).
        "kind": [*CLINICAL_FORMS, "analysis", "full"],
        # The results-disclosure pages, per trial and group.
        "trial": ["BLEND", "VERTICAL"],
        "arm_group": ["intervention", "control"],
        # The FHIR reads (/api/fhir/...): an instrument, and each trial's ResearchStudy.
        "questionnaire_id": ["qlq-c15-pal"],
        "trial_code": ["BLEND", "VERTICAL"],
    }


_PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\{(\w+)\}")


def _fill(route: str, member: Participant) -> dict[str, str]:
    """The URLs of ``route`` for ``member``, each by a name that holds no record id (the
    parameter and the record's place among the member's: ids differ between the stories
    on PostgreSQL, whose sequences a rollback does not rewind)."""
    names = [a or b for a, b in _PARAM.findall(route)]
    if set(names) & SKIPPED_PARAMETERS or route.startswith(NOT_A_MEMBERS_RECORD):
        return {}
    values = _values(member, route)
    unknown = [n for n in names if n not in values]
    assert not unknown, f"{route}: map the URL parameter(s) {unknown} in _values"
    assert "pk" not in names or values["pk"], f"{route}: map its <pk> in RECORD_OF"
    urls = {route: route}
    for name in names:
        pattern = rf"<(?:\w+:)?{name}>|\{{{name}\}}"
        urls = {
            re.sub(pattern, f"{{{name}#{n}}}", label, count=1): re.sub(pattern, value, url, count=1)
            for label, url in urls.items()
            for n, value in enumerate(values[name])
        }
    return urls


def _page_urls(member: Participant) -> dict[str, str]:
    urls: dict[str, str] = {}
    for route, _pattern in _patterns(get_resolver()):
        if route.startswith("api/") or route.startswith("i18n/"):
            continue
        found = _fill(route.lstrip("^").rstrip("$"), member)
        urls.update({"/" + label: "/" + url for label, url in found.items()})
    return urls


def _api_urls(member: Participant) -> dict[str, str]:
    urls: dict[str, str] = {}
    for path, operations in api.get_openapi_schema()["paths"].items():
        if "get" in operations and "docs" not in path and "openapi" not in path:
            urls.update(_fill(path.removeprefix("/api"), member))
    return urls


_NOISE = [
    (re.compile(r"\b[A-Z]{2,5}-\d{5}-\d\b"), "<study-id>"),
    # The seed's commitment: each story is randomized with its own seed.
    (re.compile(r"\b[0-9a-f]{64}\b"), "<digest>"),
    (
        re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?"),
        "<when>",
    ),
    # A written date with its time before the bare times: "8:59 p.m." and "9 p.m." (Django
    # drops ":00") must both become <when>, or two stories a minute apart differ.
    (
        re.compile(
            r"\b(Jan|Feb|Mar|Apr|May|June|July|Aug|Sept|Oct|Nov|Dec)\.? \d{1,2}, \d{4}"
            r"(, (\d{1,2}(:\d{2})? ?(a\.m\.|p\.m\.)|noon|midnight))?"
        ),
        "<when>",
    ),
    (re.compile(r"\b\d{1,2}:\d{2}(:\d{2})?\b"), "<time>"),
    (re.compile(r"\b\d+ (minutes?|hours?|days?|weeks?|months?)(, \d+ \w+)?\b"), "<span>"),
    # Record ids: in a path, in "AE 12", and as JSON or audit-table values.
    (re.compile(r"/\d+/"), "/<id>/"),
    (re.compile(r"\bAE \d+\b"), "AE <id>"),
    (re.compile(r'"(id|ae_id|follow_up_of|object_id)": ?\d+'), r'"\1": <id>'),
    (re.compile(r'data-object-id="\d+"'), 'data-object-id="<id>"'),
    (re.compile(r"#\d+\b"), "#<id>"),
]


def _normalised(text: str) -> str:
    text = without_csrf(text)
    for pattern, replacement in _NOISE:
        text = pattern.sub(replacement, text)
    return text


_ROW_ID = re.compile(r"^\"?\d+\"?,", re.M)  # every CSV field is quoted (exports/neutralise.py)


def _exports(user: User, folder: Path) -> dict[str, str]:
    """The full export (CSV) as ``user`` makes it, file by file, when they may export."""
    if not user.can(Cap.EXPORT):
        return {}
    export_full(folder, ["csv", "dictionary"], user=user, via="web")
    return {
        # Each row's own id (the first column) is a record id like any other.
        f"{user.username} export {path.relative_to(folder)}": _ROW_ID.sub(
            "<id>,", _normalised(path.read_text())
        )
        for path in sorted(folder.rglob("*.csv"))
    }


def _read(member: Participant, blinded: list[User], folder: Path) -> dict[str, str]:
    """Every page, endpoint and export as each blinded persona sees it, normalised."""
    seen: dict[str, str] = {}
    pages, endpoints = _page_urls(member), _api_urls(member)
    for user in blinded:
        client = Client()
        client.force_login(user)
        token = issue_token(user)
        for code in known_trial_codes():
            for label, url in pages.items():
                response = client.get(url, {"trial": code})
                body = response.content.decode(errors="replace")
                if response.status_code in (301, 302):
                    body = response["Location"]
                seen[f"{user.username} {code} page {label}"] = (
                    f"{response.status_code}\n{_normalised(body)}"
                )
            for label, url in endpoints.items():
                response = client.get(
                    f"/api{url}", {"trial": code}, headers={"Authorization": f"Bearer {token}"}
                )
                body = response.content.decode(errors="replace")
                if response.headers.get("Content-Type", "").startswith("application/json"):
                    body = json.dumps(json.loads(body), indent=1, sort_keys=True)
                seen[f"{user.username} {code} api {label}"] = (
                    f"{response.status_code}\n{_normalised(body)}"
                )
        seen.update(_exports(user, folder / user.username))
    return seen


def _blinded(personas: dict[str, User], trial: str) -> list[User]:
    """Every persona without ``allocation.view`` in ``trial``."""
    found = [user for user in personas.values() if not user.can(Cap.ALLOCATION_VIEW, trial)]
    assert found, f"no persona lacks allocation.view in {trial}"
    return found


def _sequences() -> dict[str, int | None]:
    """PostgreSQL's id sequences, which a rollback does not rewind (SQLite's do rewind)."""
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences")
        return dict(cursor.fetchall())


def _restart(sequences: dict[str, int | None]) -> None:
    """Both stories number their records from the same place, as on SQLite."""
    with connection.cursor() as cursor:
        for name, value in sequences.items():
            if value is None:
                cursor.execute("SELECT setval(%s, 1, false)", [name])
            else:
                cursor.execute("SELECT setval(%s, %s, true)", [name, value])


def _both_stories(
    trial: str, make_participant: Any, personas: dict[str, User], settings: Any, folder: Path
) -> dict[str, dict[str, str]]:
    blinded = _blinded(personas, trial)
    read: dict[str, dict[str, str]] = {}
    start = _sequences()
    for story in STORIES:
        try:
            with transaction.atomic():
                _restart(start)
                member = _story(trial, story, make_participant, personas, settings)
                read[story] = _read(member, blinded, folder / story)
                raise Rollback
        except Rollback:
            pass
    return read


def _differences(read: dict[str, dict[str, str]]) -> list[str]:
    """Where an intervention story reads otherwise than the control story."""
    control = read["control"]
    found = []
    for story, seen in read.items():
        assert seen.keys() == control.keys(), story
        for key in sorted(seen):
            if seen[key] != control[key]:
                diff = difflib.unified_diff(
                    control[key].splitlines(),
                    seen[key].splitlines(),
                    "control",
                    story,
                    n=1,
                    lineterm="",
                )
                found.append(f"== {story}: {key}\n" + "\n".join(list(diff)[:40]))
    return found


@pytest.fixture
def blinded_exporters(trial_personas: dict[str, User]) -> dict[str, User]:
    """``trial_personas`` with two data managers who work in one trial each, so that
    someone who may export (and read the audit trail) lacks ``allocation.view`` in the
    other: ``datamanager_bo`` in BLEND only, ``datamanager_vera`` in VERTICAL only."""
    ada = trial_personas["admin_ada"]
    for username, trial in (("datamanager_bo", "BLEND"), ("datamanager_vera", "VERTICAL")):
        user = User.objects.create_user(
            username=username, password=PASSWORD, role="data_manager", site=ada.site
        )
        grant_trial_role(user, trial, "data_manager", by=ada)
        trial_personas[username] = user
    return trial_personas


@pytest.mark.parametrize("trial", ["BLEND", "VERTICAL"])
def test_no_page_endpoint_or_export_tells_a_blinded_user_the_arm(
    trial: str,
    make_participant: Any,
    blinded_exporters: dict[str, User],
    settings: Any,
    tmp_path: Path,
) -> None:
    read = _both_stories(trial, make_participant, blinded_exporters, settings, tmp_path)
    differences = _differences(read)
    assert not differences, "\n\n".join(differences)
    # The attack read something: each blinded persona's participant and AE pages in a
    # trial they work in, the adverse-event API, and a blinded data manager's export.
    control = read["control"]
    for user in _blinded(blinded_exporters, trial):
        opened = [
            k
            for k, v in control.items()
            if k.startswith(f"{user.username} ") and v.startswith("200")
        ]
        assert any(k.endswith(" page /participants/{study_id#0}/") for k in opened), user.username
        assert any(k.endswith(" page /safety/ae/{pk#0}/") for k in opened), user.username
        assert any(k.endswith(" api /adverse-events/{ae_id#0}") for k in opened), user.username
    assert any(" export " in key and "adverseevent" in key.lower() for key in control), sorted(
        control
    )[:5]


# --- what each side sees -----------------------------------------------------------------


def test_who_sees_the_arms_still_sees_the_offer_form_and_the_relatedness_by_treatment(
    make_participant: Any, blinded_exporters: dict[str, User], settings: Any, tmp_path: Path
) -> None:
    member = _story("BLEND", "accepted", make_participant, blinded_exporters, settings)
    ae = AdverseEvent.objects.get(participant=member)
    ivo = Client()
    ivo.force_login(blinded_exporters["investigator_ivo"])  # audit.view and allocation.view
    page = without_csrf(ivo.get(f"/participants/{member.study_id}/").content)
    assert "<td>Offer</td>" in page and "<div>Form: Offer</div>" in page
    detail = ivo.get(f"/safety/ae/{ae.pk}/").content.decode()
    assert "Relatedness to SBRT" in detail and "Relatedness to trial treatment" not in detail
    token = issue_token(blinded_exporters["investigator_ivo"])
    answer = ivo.get(f"/api/adverse-events/{ae.pk}", headers={"Authorization": f"Bearer {token}"})
    assert (answer.json()["related_sbrt"], answer.json()["related_treatment"]) == (
        "possible",
        "possible",
    )
    export_full(tmp_path, ["csv"], user=blinded_exporters["datamanager_bo"], via="web")
    assert '"possible","unlikely"' in (tmp_path / "safety_adverseevent.csv").read_text()
    assert '"Offer"' in (tmp_path / "datamanagement_formstatus.csv").read_text()


def test_without_the_arms_an_adverse_event_reads_relatedness_to_trial_treatment(
    make_participant: Any, blinded_exporters: dict[str, User], settings: Any, tmp_path: Path
) -> None:
    member = _story("BLEND", "accepted", make_participant, blinded_exporters, settings)
    ae = AdverseEvent.objects.get(participant=member)
    ada = Client()
    ada.force_login(blinded_exporters["admin_ada"])
    detail = ada.get(f"/safety/ae/{ae.pk}/").content.decode()
    assert "Relatedness to SBRT" not in detail and "Relatedness to surgery" not in detail
    assert re.search(
        r'Relatedness to trial treatment</th><td data-testid="related-treatment">possibly related',
        detail,
    )
    page = without_csrf(ada.get(f"/participants/{member.study_id}/").content)
    assert "Offer" not in page and "Relatedness to SBRT" not in page
    token = issue_token(blinded_exporters["admin_ada"])
    answer = ada.get(f"/api/adverse-events/{ae.pk}", headers={"Authorization": f"Bearer {token}"})
    assert answer.json()["related_sbrt"] is None and answer.json()["related_surgery"] is None
    assert answer.json()["related_treatment"] == "possible"
    export_full(tmp_path, ["csv"], user=blinded_exporters["datamanager_vera"], via="web")
    with (tmp_path / "safety_adverseevent.csv").open(newline="") as file:
        header, row = list(csv.reader(file))[:2]
    assert row[header.index("related_sbrt")] == row[header.index("related_surgery")] == ""
    assert "Offer" not in (tmp_path / "datamanagement_formstatus.csv").read_text()


def test_a_nurse_without_the_arms_may_not_open_an_event_to_correct_or_follow_it_up(
    make_participant: Any, blinded_exporters: dict[str, User], settings: Any
) -> None:
    member = _story("VERTICAL", "control", make_participant, blinded_exporters, settings)
    ae = AdverseEvent.objects.get(participant=member)
    bea, nina = Client(), Client()
    bea.force_login(blinded_exporters["nurse_bea"])  # ae.write, but no role in VERTICAL
    nina.force_login(blinded_exporters["nurse_nina"])
    for url in (f"/safety/ae/{ae.pk}/edit/", f"/safety/ae/{ae.pk}/follow-up/"):
        refused = bea.post(url, {"reason": "typo", "related_sbrt": "definite"})
        assert refused.status_code == 403
        assert nina.get(url).status_code == 200
    assert AdverseEvent.objects.get(pk=ae.pk).related_sbrt == "not_related"
    # A new report starts empty, the same form for both arms: she may file one.
    assert bea.get(f"/safety/{member.study_id}/new/").status_code == 200


def test_a_form_of_one_arm_cannot_be_source_verified_without_the_arms(
    make_participant: Any, blinded_exporters: dict[str, User], settings: Any
) -> None:
    member = _story("BLEND", "accepted", make_participant, blinded_exporters, settings)
    dm.unlock_participant(member, user=blinded_exporters["datamanager_dirk"], reason="recheck")
    vera = blinded_exporters["datamanager_vera"]  # source.verify, no role in BLEND
    with pytest.raises(
        dm.DataManagementError, match=r"^form: expected one of .*, got 'Offer'$"
    ) as refused:
        dm.source_verify(member, "Offer", user=vera)
    assert "Offer," not in str(refused.value) and "Offer)" not in str(refused.value)
    assert dm.source_verify(member, "Offer", user=blinded_exporters["datamanager_dirk"])
