"""Consent over time (issue 16 item 3): what a cohort's staged consent needs after the
first signature.

- **Postponed randomization consent.** In the Swiss HIV cohort 28% postponed their
  randomization consent "to the next visit" (Zehnder 2025). The worklist shows each member
  whose answer to a randomization item is "postponed", with the date it was asked, so
  staff re-ask at the next visit. Nothing is ever sent to the member about it: a reminder
  that names randomization would tell a control that trials exist around them.
- **A new consent-form version.** When a version is approved (``approve_form_version``)
  it names the items that must be asked again under it; the re-consent worklist shows who
  last answered one of those under an older version.
- **Consent refresh.** Only 76% of cohort members remembered giving broad consent
  (Young-Afat 2021). ``consent.toml`` ``refresh_every_days`` sets how long after their last
  decision members are due a reminder of their own choices; the refresh worklist lists
  them. The reminder is the member's own page of choices (``views.my_choices``), reached
  by a signed link staff hand over; it names no trial and no arm.

Every list is a fixed number of queries, whatever the cohort's size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core import signing
from django.db import transaction
from django.db.models import Exists, F, Max, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from blend.apps.audit.services import audited_save, record_event
from blend.apps.consent.domain import Answer
from blend.apps.consent.models import ConsentFormVersion, ConsentRecord
from blend.apps.consent.services import ConsentError
from blend.apps.registry.models import Participant
from blend.protocol import load_cohort, load_protocol

CHOICES_LINK_SALT = "blend.consent.my-choices"
CHOICES_LINK_DAYS = 60  # how long a printed or sent link to one's own choices works
DEFAULT_REFRESH_DAYS = 365


@dataclass(frozen=True)
class Waiting:
    """One member and the consent items waiting on them."""

    study_id: str
    items: tuple[str, ...]  # consent item codes
    since: date  # asked on (postponed), or signed on (re-consent, refresh)

    @property
    def days(self) -> int:
        return (timezone.localdate() - self.since).days


def current_records() -> QuerySet[ConsentRecord]:
    """Each member's latest record per item: no later record of the same item exists
    (later by date, then by order of recording). An indexed NOT EXISTS per record."""
    later = ConsentRecord.objects.filter(
        participant=OuterRef("participant"), item=OuterRef("item")
    ).filter(
        Q(effective_on__gt=OuterRef("effective_on"))
        | Q(effective_on=OuterRef("effective_on"), id__gt=OuterRef("id"))
    )
    return ConsentRecord.objects.filter(~Exists(later))


def _grouped(records: QuerySet[ConsentRecord], limit: int | None) -> list[Waiting]:
    """One Waiting per member of ``records``, the longest waiting first; the first
    ``limit`` of them (all for None). Two queries, whatever the number of members."""
    members = (
        records.values("participant")
        .annotate(since=Min("effective_on"), study_id=F("participant__study_id"))
        .order_by("since", "study_id")
    )
    chosen = {m["participant"]: m for m in (members if limit is None else members[:limit])}
    mine = records if limit is None else records.filter(participant__in=list(chosen))
    items: dict[int, list[str]] = defaultdict(list)
    for pid, item in mine.values_list("participant", "item"):
        items[pid].append(item)
    return [
        Waiting(m["study_id"], tuple(sorted(items[pid])), m["since"]) for pid, m in chosen.items()
    ]


def _members(records: QuerySet[ConsentRecord]) -> int:
    return records.values("participant").distinct().count()


def _postponed() -> QuerySet[ConsentRecord]:
    items = tuple(load_protocol().randomization_consent_items)
    return current_records().filter(item__in=items, answer=Answer.POSTPONED)


def postponed_worklist(limit: int | None = None) -> list[Waiting]:
    """Members whose current answer to a randomization-consent item is "postponed"."""
    return _grouped(_postponed(), limit)


def postponed_for(participant: Participant) -> Waiting | None:
    """The member's postponed randomization-consent items, or None."""
    found = _grouped(_postponed().filter(participant=participant), None)
    return found[0] if found else None


def postponed_count() -> int:
    return _members(_postponed())


# --------------------------------------------------------------- consent-form versions


@transaction.atomic
def approve_form_version(
    version: str, *, valid_from: date, reask_items: list[str], user: Any
) -> ConsentFormVersion:
    """Register an approved consent-form version from ``valid_from``; the open version before
    it closes the day before. ``reask_items`` are the items to ask again under it."""
    codes = load_protocol().consent_codes
    version = version.strip()
    if not version or len(version) > 40:
        raise ConsentError(f"version: expected 1 to 40 characters, got {version!r}")
    if ConsentFormVersion.objects.filter(version=version).exists():
        raise ConsentError(f"version: expected a new version, {version!r} is already registered")
    unknown = [item for item in reask_items if item not in codes]
    if unknown:
        raise ConsentError(f"reask_items: expected some of {', '.join(codes)}, got {unknown}")
    latest = ConsentFormVersion.objects.order_by("-valid_from").first()
    if latest is not None and valid_from <= latest.valid_from:
        raise ConsentError(
            f"valid_from: expected after {latest.valid_from} (version {latest.version}), "
            f"got {valid_from}"
        )
    if latest is not None and latest.valid_until is None:
        latest.valid_until = valid_from - timedelta(days=1)
        audited_save(latest, user=user, reason=f"superseded by consent form {version}")
    created = ConsentFormVersion(
        version=version, valid_from=valid_from, reask_items=sorted(set(reask_items))
    )
    audited_save(created, user=user)
    record_event(
        "consent.version_approved",
        actor=user,
        obj=created,
        details={"version": version, "valid_from": valid_from.isoformat(), "reask": reask_items},
    )
    return created


def current_version(on: date | None = None) -> ConsentFormVersion | None:
    on = on or timezone.localdate()
    return (
        ConsentFormVersion.objects.filter(valid_from__lte=on)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
        .order_by("-valid_from")
        .first()
    )


def _to_reask(version: ConsentFormVersion) -> QuerySet[ConsentRecord]:
    return (
        current_records()
        .filter(item__in=version.reask_items, form_version__valid_from__lt=version.valid_from)
        .exclude(answer=Answer.WITHDRAWN)
    )


def reconsent_worklist(
    limit: int | None = None,
) -> tuple[ConsentFormVersion | None, list[Waiting]]:
    """The current version, and the members who last answered one of its re-ask items
    (yes, no or postponed) under an older version. Withdrawn items are not asked again."""
    version = current_version()
    if version is None or not version.reask_items:
        return version, []
    return version, _grouped(_to_reask(version), limit)


def reconsent_count() -> int:
    version = current_version()
    return _members(_to_reask(version)) if version is not None and version.reask_items else 0


# --------------------------------------------------------------------- consent refresh


def refresh_days() -> int:
    """``consent.toml`` ``refresh_every_days`` (default 365; 0 turns the refresh off)."""
    value = load_cohort().section("consent").get("refresh_every_days", DEFAULT_REFRESH_DAYS)
    return int(value)


def _refresh_due(on: date | None) -> QuerySet[Any] | None:
    days = refresh_days()
    if days <= 0:
        return None
    cutoff = (on or timezone.localdate()) - timedelta(days=days)
    cohort_item = load_protocol().consent_codes[0]
    left = current_records().filter(item=cohort_item, answer=Answer.WITHDRAWN)
    return (
        ConsentRecord.objects.values("participant__study_id")
        .annotate(last=Max("effective_on"))
        .filter(last__lte=cutoff)
        .exclude(participant__in=left.values("participant"))
        .order_by("last", "participant__study_id")
    )


def refresh_worklist(on: date | None = None, limit: int | None = None) -> list[Waiting]:
    """Members whose latest consent decision (on any item) is ``refresh_every_days`` old
    or older, and who have not withdrawn from the cohort (item a); the longest due first."""
    due = _refresh_due(on)
    if due is None:
        return []
    rows = due.values_list("participant__study_id", "last")
    return [
        Waiting(study_id, (), last) for study_id, last in (rows if limit is None else rows[:limit])
    ]


def refresh_count(on: date | None = None) -> int:
    due = _refresh_due(on)
    return 0 if due is None else due.count()


def choices_token(participant: Participant) -> str:
    """A signed token for the member's own page of choices (no database row: it holds the
    study ID only, and expires after CHOICES_LINK_DAYS)."""
    return signing.dumps(participant.study_id, salt=CHOICES_LINK_SALT, compress=True)


def participant_for_token(token: str) -> Participant | None:
    try:
        study_id = signing.loads(
            token, salt=CHOICES_LINK_SALT, max_age=timedelta(days=CHOICES_LINK_DAYS)
        )
    except signing.BadSignature:  # also SignatureExpired
        return None
    return Participant.objects.filter(study_id=study_id).first()


@dataclass(frozen=True)
class Choice:
    label: str  # the item, in the member's language
    answer: str  # yes | no | postponed | withdrawn | none
    on: date | None


def member_choices(participant: Participant, language: str) -> list[Choice]:
    """The member's current answer to every cohort consent item, in their language."""
    latest: dict[str, ConsentRecord] = {}
    for record in participant.consents.order_by("effective_on", "id"):
        latest[record.item] = record
    choices = []
    for item in load_cohort().consent_items:
        found = latest.get(item.code)
        choices.append(
            Choice(
                item.plain(language),
                found.answer if found else "none",
                found.effective_on if found else None,
            )
        )
    return choices


@transaction.atomic
def record_refresh_given(participant: Participant, *, user: Any) -> str:
    """Record that staff handed the member the link to their own choices; returns it."""
    token = choices_token(participant)
    record_event("consent.refresh_link_given", actor=user, participant=participant)
    return token


# ------------------------------------------------------------- a current "yes" to an item


def current_yes(item: str, on: date | None = None) -> dict[int, date]:
    """Members whose current answer to ``item`` is "yes", with the day it was given:
    the latest record of the item is a yes (a later no, postponed or withdrawal wins),
    and, when the form version in force asks the item again (``reask_items``), that yes
    was given under it (a yes under a superseded version no longer counts). Registry
    linkage asks this of its consent item; two queries, whatever the cohort's size."""
    records = current_records().filter(item=item, answer=Answer.YES)
    version = current_version(on)
    if version is not None and item in version.reask_items:
        records = records.filter(form_version__valid_from__gte=version.valid_from)
    return dict(records.values_list("participant_id", "effective_on"))


__all__ = [
    "Choice",
    "Waiting",
    "approve_form_version",
    "choices_token",
    "current_version",
    "current_yes",
    "member_choices",
    "participant_for_token",
    "postponed_worklist",
    "postponed_count",
    "postponed_for",
    "reconsent_count",
    "refresh_count",
    "reconsent_worklist",
    "record_refresh_given",
    "refresh_days",
    "refresh_worklist",
]
