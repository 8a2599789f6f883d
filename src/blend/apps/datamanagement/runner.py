"""``blend check-data``: run every declared edit check over the database and keep the
queries in step with the findings (open new ones, close those no longer firing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models, transaction

from blend.apps.datamanagement.checks import MODEL_CHECKS, TIMELINE, ModelChecks
from blend.apps.datamanagement.editchecks import Finding, out_of_order, run_checks
from blend.apps.datamanagement.models import Query, QueryStatus
from blend.apps.datamanagement.services import QueryTarget, close_query, open_query
from blend.apps.datamanagement.timeline import optional_model, timelines
from blend.apps.registry.models import Participant
from blend.protocol import load_protocol

TIMELINE_FORM = "Participant timeline"


@dataclass(frozen=True)
class Issue:
    participant_id: int
    form: str
    object_type: str
    object_id: str
    finding: Finding

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.finding.check, self.object_type, self.object_id, self.finding.field)


def row_values(obj: models.Model) -> dict[str, Any]:
    return {f.name: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def _timeline_keyed(line: dict[str, Any]) -> dict[str, Any]:
    return {f"timeline.{k}": v for k, v in line.items()}


def _model_issues(entry: ModelChecks, lines: dict[int, dict[str, Any]]) -> list[Issue]:
    model = optional_model(entry.model)
    if model is None:
        return []
    issues = []
    for obj in model.objects.all().iterator(chunk_size=2000):
        values = row_values(obj)
        pid = obj.pk if entry.model == "registry.Participant" else values["participant"]
        if entry.uses_timeline:
            values.update(_timeline_keyed(lines.get(pid, {})))
        issues += [Issue(pid, entry.form, entry.model, str(obj.pk), f) for f in run_checks(entry.checks, values)]
    return issues


def find_issues() -> list[Issue]:
    participants = list(Participant.objects.all())
    lines = timelines(participants)
    issues: list[Issue] = []
    for entry in MODEL_CHECKS:
        issues += _model_issues(entry, lines)
    for pid, line in lines.items():
        issues += [Issue(pid, TIMELINE_FORM, "registry.Participant", str(pid), f)
                   for f in run_checks(TIMELINE, _timeline_keyed(line))]
    return issues + questionnaire_order_issues()


def questionnaire_order_issues() -> list[Issue]:
    """Q01 over the follow-up schedule: timepoints completed in schedule order."""
    model = optional_model("followup.Assessment")
    if model is None:
        return []
    per: dict[int, list[tuple[str, Any, Any, int]]] = {}
    for pk, pid, timepoint, target, done in model.objects.values_list(
            "pk", "participant_id", "timepoint", "target_on", "completed_on"):
        per.setdefault(pid, []).append((timepoint, target, done, pk))
    issues = []
    for pid, rows in per.items():
        by_label = {label: pk for label, _t, _d, pk in rows}
        for finding in out_of_order([(label, target, done) for label, target, done, _pk in rows]):
            label = finding.message.split(" expected ", 1)[1].split(" ", 1)[0]
            issues.append(Issue(pid, "Questionnaire schedule", "followup.Assessment", str(by_label[label]), finding))
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
    existing = {(q.check_code, q.object_type, q.object_id, q.field): q for q in pending}
    if dry_run:
        return CheckRun(issues, sum(i.key not in existing for i in issues), sum(i.key in existing for i in issues), 0)
    role = str(load_protocol().section("datamanagement").get("check_data_assigned_role", "nurse"))
    participants = Participant.objects.in_bulk({i.participant_id for i in issues})
    opened = 0
    for issue in issues:
        if issue.key in existing:
            continue
        target = QueryTarget(participants[issue.participant_id], issue.form, issue.finding.field, issue.object_type,
                             issue.object_id, issue.finding.check)
        existing[issue.key] = open_query(target, issue.finding.message, assigned_role=role, user=user)
        opened += 1
    firing = {i.key for i in issues}
    closed = 0
    for key, query in existing.items():
        if key not in firing:
            close_query(query, "Resolved: the edit check no longer fires.", user=None)
            closed += 1
    return CheckRun(issues, opened, len(issues) - opened, closed)
