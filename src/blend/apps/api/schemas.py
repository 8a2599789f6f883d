from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema


class MeOut(Schema):
    username: str
    role: str
    capabilities: list[str]


class ParticipantOut(Schema):
    study_id: str
    site: str
    registered_on: date
    sex: str
    birth_year: int
    primary_tumour: str
    metastases_diagnosed_on: date
    performance_status: int


class ParticipantIn(Schema):
    site: str = Field(description="site code", max_length=20)
    registered_on: date
    sex: Literal["female", "male"]
    primary_tumour: Literal["breast", "prostate", "lung", "kidney", "myeloma", "other", "unknown"]
    metastases_diagnosed_on: date
    performance_status: int = Field(ge=0, le=4)
    full_name: str = Field(min_length=1, max_length=200)
    date_of_birth: date
    hospital_number: str = Field(pattern=r"^[A-Za-z0-9-]{4,30}$")
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=30)
    preferred_language: Literal["nl", "en"] = "nl"


class ConsentRecordOut(Schema):
    item: str
    answer: str
    effective_on: date
    form_version: str | None
    reason: str


class ConsentOut(Schema):
    study_id: str
    states: dict[str, str | None]
    may_randomize: bool
    may_send_questionnaires: bool
    history: list[ConsentRecordOut]


class ConsentIn(Schema):
    effective_on: date
    form_version: str = Field(max_length=40)
    decisions: dict[str, Literal["yes", "no", "postponed"]] = Field(min_length=1)


class ScreeningOut(Schema):
    study_id: str
    screened_on: date
    status: str
    reasons: dict[str, str]
    criteria_version: str
    confirmed: bool
    confirmed_at: datetime | None


class ScreeningIn(Schema):
    screened_on: date
    facts: dict[str, Any]
    reason: str = ""


class RandomizationOut(Schema):
    study_id: str
    randomized: bool
    arm: str | None
    randomized_at: datetime | None


class AssessmentOut(Schema):
    timepoint: str
    target_on: date
    window: list[date]
    completed_on: date | None
    scores: dict[str, dict[str, Any]]


class AdverseEventOut(Schema):
    id: int
    study_id: str
    follow_up_of: int | None
    term: str
    term_label: str
    grade: int
    onset_date: date
    resolved_on: date | None
    serious: bool
    seriousness: list[str]
    related_sbrt: str
    related_surgery: str
    related: bool
    action_taken: str
    outcome: str
    aware_at: datetime
    report_due_at: datetime | None
    reported_at: datetime | None
    overdue: bool


class AdverseEventIn(Schema):
    term: Literal["wound_complication", "wound_dehiscence", "wound_infection", "seroma", "postoperative_hemorrhage",
                  "spinal_fracture", "dermatitis_radiation", "csf_leakage", "other"]
    other_term: str = Field("", max_length=120)
    grade: int = Field(ge=1, le=5)
    onset_date: date
    resolved_on: date | None = None
    serious: bool = False
    seriousness: list[Literal["death", "life_threatening", "hospitalisation", "disability", "congenital_anomaly",
                              "medically_important"]] = []
    related_sbrt: Literal["not_related", "unlikely", "possible", "probable", "definite"]
    related_surgery: Literal["not_related", "unlikely", "possible", "probable", "definite"]
    action_taken: Literal["none", "medication", "local_care", "reoperation", "rt_interrupted", "hospitalised", "other"]
    outcome: Literal["recovered", "recovering", "not_recovered", "sequelae", "fatal", "unknown"]
    description: str = Field("", max_length=4000)
    aware_at: datetime | None = None
    follow_up_of: int | None = None
