"""SQL queries per form validation with edit checks (docs/architecture.md, issue 11).

Builds a throw-away SQLite database under bench/out/ with one participant who has
a consent, a screening, an allocation and a treatment, then validates the consent
form, the registration form and the adverse-event form once each (bound with
valid data, ``form.is_valid()``) and counts the queries with
``CaptureQueriesContext``. The participant is passed to every form, so the edit
checks may read the participant's timeline.

Run: ``.venv/bin/python bench/form_queries.py`` (prints the counts, writes
bench/out/form_queries.json).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.eligible_facts
OUT = Path(__file__).parent / "out"
OUT.mkdir(exist_ok=True)
DB = OUT / "form_queries.sqlite3"
os.environ.update(
    {"BLEND_DATABASE_URL": f"sqlite:///{DB}", "DJANGO_SETTINGS_MODULE": "blend.web.test_settings"}
)

import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from blend.apps.accounts.models import User  # noqa: E402
from blend.apps.allocation.models import Allocation  # noqa: E402
from blend.apps.consent.forms import ConsentDecisionForm  # noqa: E402
from blend.apps.consent.models import ConsentFormVersion  # noqa: E402
from blend.apps.consent.services import record_consent  # noqa: E402
from blend.apps.registry.forms import RegistrationForm  # noqa: E402
from blend.apps.registry.models import Participant, Site  # noqa: E402
from blend.apps.registry.services import Registration, register_participant  # noqa: E402
from blend.apps.safety.forms import AdverseEventForm  # noqa: E402
from blend.apps.screening.services import save_screening  # noqa: E402
from blend.apps.treatment.services import record_treatment  # noqa: E402
from tests.eligible_facts import ELIGIBLE_FORM_FACTS as ELIGIBLE_FACTS  # noqa: E402

REGISTERED_ON = date(2025, 3, 1)


def remove_database() -> None:
    connection.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DB}{suffix}").unlink(missing_ok=True)


def build() -> tuple[Participant, Site, ConsentFormVersion]:
    """A participant with a consent, a screening, an allocation and a treatment."""
    remove_database()
    call_command("migrate", verbosity=0)
    site = Site.objects.create(code="umcu", name="UMC Utrecht")
    nurse = User.objects.create_user("bench", password="x" * 12, role="nurse", site=site)
    version = ConsentFormVersion.objects.create(version="v3", valid_from=date(2020, 1, 1))
    participant = register_participant(
        Registration(
            site=site,
            registered_on=REGISTERED_ON,
            sex="female",
            primary_tumour="breast",
            metastases_diagnosed_on=date(2025, 2, 1),
            performance_status=1,
            full_name="Bench Person",
            date_of_birth=date(1960, 5, 17),
            hospital_number="B100001",
            email="bench@example.org",
            phone="+31 612345678",
            preferred_language="nl",
        ),
        user=nurse,
    )
    for item in "abcde":
        record_consent(participant, item, "yes", on=REGISTERED_ON, form_version=version, user=nurse)
    save_screening(participant, ELIGIBLE_FACTS, on=date(2025, 3, 10), user=nurse)
    Allocation.objects.create(
        trial="BLEND",
        participant=participant,
        arm="control",
        sequence_number=1,
        stratum="",
        stratum_index=1,
        allocated_at=timezone.now() - timedelta(days=60),
        allocated_by=nurse,
    )
    start = timezone.localdate() - timedelta(days=50)
    record_treatment(
        participant,
        {
            "pathway": "standard",
            "planned_on": start,
            "surgery_on": start,
            "radiotherapy_on": start + timedelta(days=10),
            "radiotherapy_type": "5x4 Gy",
        },
        user=nurse,
    )
    return participant, site, version


def forms(
    participant: Participant, site: Site, version: ConsentFormVersion
) -> dict[str, Callable[[], Any]]:
    onset = (timezone.localdate() - timedelta(days=20)).isoformat()
    consent = {
        "effective_on": REGISTERED_ON.isoformat(),
        "form_version": version.pk,
        "item_c": "yes",
        "item_d": "yes",
    }
    registration = {
        "site": site.pk,
        "registered_on": "2025-03-01",
        "full_name": "Kim Kind",
        "date_of_birth": "1960-01-01",
        "hospital_number": "H12345",
        "sex": "female",
        "primary_tumour": "breast",
        "metastases_diagnosed_on": "2025-02-01",
        "performance_status": "1",
        "preferred_language": "nl",
    }
    adverse_event = {
        "term": "wound_infection",
        "grade": "2",
        "onset_date": onset,
        "related_sbrt": "possible",
        "related_surgery": "possible",
        "action_taken": "none",
        "outcome": "recovering",
        "aware_at": f"{onset}T09:00",
    }
    return {
        "consent form": lambda: ConsentDecisionForm(consent, participant=participant),
        "registration form": lambda: RegistrationForm(registration, participant=participant),
        "adverse-event form": lambda: AdverseEventForm(adverse_event, participant=participant),
    }


def queries_of(make_form: Callable[[], Any]) -> int:
    form = make_form()
    with CaptureQueriesContext(connection) as captured:
        valid = form.is_valid()
    if not valid:
        raise SystemExit(f"{type(form).__name__}: expected valid data, got {form.errors.as_json()}")
    return len(captured.captured_queries)


def main() -> None:
    participant, site, version = build()
    participant = Participant.objects.get(pk=participant.pk)  # fresh: no cached relations
    counts = {name: queries_of(make) for name, make in forms(participant, site, version).items()}
    for name, count in counts.items():
        print(f"{name:20} {count:3d} queries per validation")
    (OUT / "form_queries.json").write_text(json.dumps(counts, indent=2) + "\n", encoding="utf-8")
    remove_database()


if __name__ == "__main__":
    main()
