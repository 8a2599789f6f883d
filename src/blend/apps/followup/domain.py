"""Follow-up rules as plain functions (no Django): the status of one scheduled
assessment on a given day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class AssessmentStatus(StrEnum):
    COMPLETED = "completed"
    UPCOMING = "upcoming"  # window not yet open
    DUE = "due"  # window open, on or before the target day
    OVERDUE = "overdue"  # window open, past the target day
    MISSED = "missed"  # window closed without a questionnaire
    STOPPED = "stopped"  # not expected any more: died, or questionnaire consent withdrawn


@dataclass(frozen=True)
class Slot:
    opens_on: date
    target_on: date
    closes_on: date
    completed: bool


def assessment_status(
    slot: Slot, today: date, *, died_on: date | None = None, may_send: bool = True
) -> AssessmentStatus:
    if slot.completed:
        return AssessmentStatus.COMPLETED
    if died_on is not None and died_on <= slot.closes_on:
        return AssessmentStatus.STOPPED
    if today > slot.closes_on:
        return AssessmentStatus.MISSED
    if not may_send:
        return AssessmentStatus.STOPPED
    if today < slot.opens_on:
        return AssessmentStatus.UPCOMING
    return AssessmentStatus.DUE if today <= slot.target_on else AssessmentStatus.OVERDUE


def length_of_stay(admitted_on: date, discharged_on: date | None) -> int | None:
    """Nights in hospital; None while still admitted."""
    return None if discharged_on is None else (discharged_on - admitted_on).days


ASIA_ORDER = "ABCDE"  # A = complete injury ... E = normal


def asia_deteriorated(first: str, later: str) -> bool:
    """True when ``later`` is at least one ASIA grade worse than ``first``."""
    return ASIA_ORDER.index(later) < ASIA_ORDER.index(first)
