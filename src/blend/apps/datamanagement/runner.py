"""``blend check-data``: run every declared edit check over the database and keep the
queries in step with the findings (open new ones, close those no longer firing).

Each app declares its forms' checks in its own ``editchecks.py`` (``CHECK_SETS``),
found through ``blend.apps.discover``. The checks across forms run here: the
participant's timeline (``datamanagement.editchecks``) and the questionnaire order (Q01).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models, transaction

from blend.apps import discover
from blend.apps.allocation.models import Allocation
from blend.apps.datamanagement.editchecks import FORM as TIMELINE_FORM
from blend.apps.datamanagement.editchecks import TIMELINE
from blend.apps.datamanagement.models import Query, QueryStatus
from blend.apps.datamanagement.services import QueryTarget, close_query, open_query
from blend.apps.datamanagement.timeline import TRIAL_KEYS, timelines
from blend.apps.followup.models import Assessment
from blend.apps.registry.models import Participant
from blend.apps.screening.models import Screening
from blend.apps.trials.lookup import default_trial_code, form_name, known_trial_codes
from blend.editchecks import (
    TIMELINE_PREFIX,
    CheckSet,
    Finding,
    out_of_order,
    run_checks,
    timeline_names,
)
from blend.protocol import load_protocol
from blend.web.findings import describe, model_displayer, model_labeller

ORDER_CHECK = "Q01"  # editchecks.out_of_order, over the questionnaire schedule
SCHEDULE_FORM = "Questionnaire schedule"


@dataclass(frozen=True)
class Issue:
    participant_id: int
    form: str
    object_type: str
    object_id: str
    finding: Finding
    model: Any = None  # the model of the row: its fields' verbose names label the message
    choices: Any = None  # choices of stored fields the model gives none for (CheckSet.choices)

    @property
    def text(self) -> str:
        """The finding in words, in the active language, as the query's first message."""
        if self.model is None:
            return describe(self.finding)
        display = model_displayer(self.model, self.choices)
        return describe(self.finding, model_labeller(self.model), display)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        # The form too: a timeline check fires once per trial on the same participant.
        return (self.finding.check, self.form, self.object_type, self.object_id, self.finding.field)


def row_values(obj: models.Model) -> dict[str, Any]:
    return {f.name: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def _timeline_keyed(line: dict[str, Any]) -> dict[str, Any]:
    return {f"{TIMELINE_PREFIX}{k}": v for k, v in line.items()}


def check_sets() -> list[CheckSet]:
    """Every app's declared check sets, in settings.BLEND_APPS order."""
    return [
        entry for module in discover("editchecks") for entry in getattr(module, "CHECK_SETS", ())
    ]


def all_codes() -> list[str]:
    """The code of every declared check, whether it runs on a form, over saved rows or over timelines."""
    return (
        [c.code for entry in check_sets() for c in entry.checks]
        + [c.code for c in TIMELINE]
        + [ORDER_CHECK]
    )


def _model_issues(entry: CheckSet, lines: dict[str, dict[int, dict[str, Any]]]) -> list[Issue]:
    """The checks of one model's saved rows; a row of a trial (an adverse event
    attributed to VERTICAL) is checked against that trial's timeline."""
    label, uses_timeline = entry.model._meta.label, entry.uses_timeline
    default = default_trial_code()
    issues = []
    for obj in entry.model.objects.all().iterator(chunk_size=2000):
        values = row_values(obj)
        pid = values[entry.participant_field]
        if uses_timeline:
            trial = str(values.get("trial") or default)
            values.update(_timeline_keyed(lines.get(trial, lines[default]).get(pid, {})))
        issues += [
            Issue(pid, entry.form, label, str(obj.pk), f, entry.model, entry.choices)
            for f in run_checks(entry.checks, values)
        ]
    return issues


def _trial_timeline_checks() -> tuple[Any, ...]:
    """The timeline checks that read a trial's own dates (screening, randomization,
    treatment): the ones run again for every trial but the default."""
    return tuple(c for c in TIMELINE if set(TRIAL_KEYS) & timeline_names((c,)))


def find_issues() -> list[Issue]:
    """Every finding: each app's saved rows, and each participant's timeline in the
    default trial (every check) and in every other trial they have records in (the
    checks on that trial's dates, on the form "Participant timeline (CODE)")."""
    participants = list(Participant.objects.all())
    default = default_trial_code()
    lines = {default: timelines(participants)}
    for trial in known_trial_codes():
        if trial == default:
            continue
        ids = set(Screening.objects.filter(trial=trial).values_list("participant_id", flat=True))
        ids |= set(Allocation.objects.filter(trial=trial).values_list("participant_id", flat=True))
        lines[trial] = timelines([p for p in participants if p.pk in ids], trial=trial)
    issues: list[Issue] = []
    for entry in check_sets():
        if entry.model is not None:
            issues += _model_issues(entry, lines)
    for trial, trial_lines in lines.items():
        checks = TIMELINE if trial == default else _trial_timeline_checks()
        form = form_name(TIMELINE_FORM, trial)
        for pid, line in trial_lines.items():
            issues += [
                Issue(pid, form, Participant._meta.label, str(pid), f, Participant)
                for f in run_checks(checks, _timeline_keyed(line))
            ]
    return issues + questionnaire_order_issues()


def questionnaire_order_issues() -> list[Issue]:
    """Q01 over the follow-up schedule: timepoints completed in schedule order."""
    per: dict[int, list[tuple[str, Any, Any, int]]] = {}
    for pk, pid, timepoint, target, done in Assessment.objects.values_list(
        "pk", "participant_id", "timepoint", "target_on", "completed_on"
    ):
        per.setdefault(pid, []).append((timepoint, target, done, pk))
    issues = []
    for pid, rows in per.items():
        by_label = {label: pk for label, _t, _d, pk in rows}
        for finding in out_of_order([(label, target, done) for label, target, done, _pk in rows]):
            issues.append(
                Issue(
                    pid,
                    SCHEDULE_FORM,
                    Assessment._meta.label,
                    str(by_label[finding.subject]),
                    finding,
                    Assessment,
                )
            )
    return issues


@dataclass(frozen=True)
class CheckRun:
    issues: list[Issue]
    opened: int
    already_open: int
    closed: int


@transaction.atomic
def check_data(*, user: Any = None, dry_run: bool = False) -> CheckRun:
    issues = find_issues()
    pending = Query.objects.exclude(status=QueryStatus.CLOSED).exclude(check_code="")
    existing = {(q.check_code, q.form, q.object_type, q.object_id, q.field): q for q in pending}
    if dry_run:
        return CheckRun(
            issues,
            sum(i.key not in existing for i in issues),
            sum(i.key in existing for i in issues),
            0,
        )
    role = str(load_protocol().section("datamanagement").get("check_data_assigned_role", "nurse"))
    participants = Participant.objects.in_bulk({i.participant_id for i in issues})
    opened = 0
    for issue in issues:
        if issue.key in existing:
            continue
        target = QueryTarget(
            participants[issue.participant_id],
            issue.form,
            issue.finding.field,
            issue.object_type,
            issue.object_id,
            issue.finding.check,
        )
        existing[issue.key] = open_query(target, issue.text, assigned_role=role, user=user)
        opened += 1
    firing = {i.key for i in issues}
    closed = 0
    for key, query in existing.items():
        if key not in firing:
            close_query(query, "Resolved: the edit check no longer fires.", user=None)
            closed += 1
    return CheckRun(issues, opened, len(issues) - opened, closed)
