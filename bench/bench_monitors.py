"""The TwiCs conduct pages at 1,000 and 10,000 cohort members: the acceptance monitor,
the consent-over-time worklists, the engagement monitor, the results-disclosure page and
the dashboard that counts them (issue 16: p95 < 200 ms, queries independent of N).

Builds on bench_prescreening's throw-away cohort (consent, facts, a fifth screened and a
tenth randomized per trial) and adds what these pages read: an offer for every
intervention allocation (accepted, refused or pending), a tenth of members with
randomization consent postponed, a newer consent-form version that asks item d again,
five routine assessments per member (seven in ten returned) and deaths for one in twenty.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import bench_prescreening as base  # noqa: E402  (sets the database before Django starts)

OUT = base.OUT
LIMIT_MS = 200.0
URLS = {
    "acceptance BLEND": "/offers/acceptance/?trial=BLEND",
    "acceptance figure": "/offers/acceptance/figure/?trial=BLEND",
    "consent over time": "/consent/over-time/",
    "engagement": "/followup/engagement/",
    "disclosure VERTICAL": "/disclosure/VERTICAL/",
    "dashboard": "/?trial=BLEND",
}
TIMEPOINTS = (("baseline", 0), ("w4", 28), ("w12", 84), ("m6", 182), ("m12", 365))


def add_monitor_data(user: Any) -> None:
    from django.utils import timezone

    from blend.apps.allocation.models import Allocation
    from blend.apps.consent.models import ConsentFormVersion, ConsentRecord
    from blend.apps.followup.models import Assessment, VitalStatus
    from blend.apps.offers.models import Offer
    from blend.apps.registry.models import Participant

    offers = []
    for i, (pid, trial, on) in enumerate(
        Allocation.objects.filter(arm="intervention").values_list(
            "participant_id", "trial", "allocated_at"
        )
    ):
        day = on.date()
        state = ("accepted", "accepted", "refused", "offered")[i % 4]
        offers.append(
            Offer(
                participant_id=pid,
                trial=trial,
                state=state,
                offered_on=day,
                offered_by=user,
                decided_on=day + timedelta(days=i % 9) if state != "offered" else None,
                decided_by=user if state != "offered" else None,
                trial_consent_version="ICF v1" if state == "accepted" else "",
                reason=("travel", "prefers standard care", "too tired")[i % 3]
                if state == "refused"
                else "",
            )
        )
    Offer.objects.bulk_create(offers, batch_size=5000)
    people = list(Participant.objects.order_by("id").values_list("id", "registered_on"))
    version = ConsentFormVersion.objects.get()
    ConsentRecord.objects.bulk_create(
        [
            ConsentRecord(
                participant_id=pid,
                item="c",
                answer="postponed",
                effective_on=on + timedelta(days=1),
                form_version=version,
                recorded_by=user,
            )
            for k, (pid, on) in enumerate(people)
            if k % 10 == 3
        ],
        batch_size=5000,
    )
    version.valid_until = date(2024, 12, 31)
    version.save()
    ConsentFormVersion.objects.create(version="v4", valid_from=date(2025, 1, 1), reask_items=["d"])
    today = timezone.localdate()
    Assessment.objects.bulk_create(
        [
            Assessment(
                participant_id=pid,
                timepoint=code,
                instruments=["qlq-c15-pal"],
                anchor_on=on,
                target_on=on + timedelta(days=day),
                opens_on=on + timedelta(days=day - 7),
                closes_on=on + timedelta(days=day + 7),
                completed_at=timezone.make_aware(
                    datetime.combine(on + timedelta(days=day), time(10))
                )
                if (k + day) % 10 < 7 and on + timedelta(days=day) <= today
                else None,
                completed_on=on + timedelta(days=day)
                if (k + day) % 10 < 7 and on + timedelta(days=day) <= today
                else None,
            )
            for k, (pid, on) in enumerate(people)
            for code, day in TIMEPOINTS
        ],
        batch_size=5000,
    )
    VitalStatus.objects.bulk_create(
        [
            VitalStatus(
                participant_id=pid,
                last_contact_on=on + timedelta(days=200),
                died_on=on + timedelta(days=200),
                recorded_by=user,
            )
            for k, (pid, on) in enumerate(people)
            if k % 20 == 7
        ],
        batch_size=5000,
    )


def release_vertical(user: Any) -> None:
    """VERTICAL's results released (its list is what the disclosure page shows)."""
    from blend.apps.disclosure import services

    user.role = "investigator"
    user.set_password("bench-password-2026")
    user.save()
    services.release_results(
        "VERTICAL", on=date(2026, 11, 1), summary="bench", user=user, password="bench-password-2026"
    )


def main() -> int:
    import django

    django.setup()
    pages: dict[int, dict[str, Any]] = {}
    for n in (1_000, 10_000):
        user = base.build(n)
        add_monitor_data(user)
        release_vertical(user)
        pages[n] = {name: base.bench_page(user, url) for name, url in URLS.items()}
    print(f"{'page':<22}{'n':>8}{'median ms':>12}{'p95 ms':>10}{'queries':>9}")
    for n, found in pages.items():
        for name, r in found.items():
            print(f"{name:<22}{n:>8}{r['median_ms']:>12.1f}{r['p95_ms']:>10.1f}{r['queries']:>9}")
    constant = all(pages[1_000][k]["queries"] == pages[10_000][k]["queries"] for k in URLS)
    fast = all(found[k]["p95_ms"] < LIMIT_MS for found in pages.values() for k in URLS)
    print(f"queries independent of cohort size: {'yes' if constant else 'NO'}")
    print(f"p95 under {LIMIT_MS:.0f} ms: {'yes' if fast else 'NO'}")
    (OUT / "monitors.json").write_text(
        json.dumps(
            {"pages": pages, "queries_constant": constant, "p95_under_limit": fast}, indent=2
        )
    )
    base.remove_database()
    return 0 if constant and fast else 1


if __name__ == "__main__":
    sys.exit(main())
