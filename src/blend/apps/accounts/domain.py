"""Roles and the permission matrix: the one place that says who may do what.

Views call ``require(capability)``; the API calls ``need``; docs/roles.md
is generated from ``ROLE_CAPABILITIES`` and a test keeps the two equal. Least
privilege: a role gets a capability only when its daily work needs it.

Some capabilities act on one trial's records (``TRIAL_CAPABILITIES``): a staff member
may hold them in one trial of the cohort and not in another (``accounts.TrialRole``).
The rest act on the cohort and come from the user's own role.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    NURSE = "nurse"
    INVESTIGATOR = "investigator"
    DATA_MANAGER = "data_manager"
    STATISTICIAN = "statistician"
    MONITOR = "monitor"
    ADMIN = "admin"


ROLE_LABELS: dict[Role, str] = {
    Role.NURSE: "Research nurse / coordinator",
    Role.INVESTIGATOR: "Investigator",
    Role.DATA_MANAGER: "Data manager",
    Role.STATISTICIAN: "Statistician",
    Role.MONITOR: "Monitor (read-only)",
    Role.ADMIN: "Trial administrator",
}


class Cap(StrEnum):
    """Capabilities. The name says what it allows."""

    PARTICIPANT_VIEW = "participant.view"
    PARTICIPANT_WRITE = "participant.write"
    IDENTIFIERS_VIEW = "identifiers.view"
    CONSENT_WRITE = "consent.write"
    AUDIT_VIEW = "audit.view"
    SCREENING_WRITE = "screening.write"
    ELIGIBILITY_CONFIRM = "eligibility.confirm"
    RANDOMIZE = "randomize"
    ALLOCATION_VIEW = "allocation.view"
    RANDOMIZATION_OVERVIEW = "randomization.overview"
    OFFER_WRITE = "offer.write"
    CLINICAL_WRITE = "clinical.write"
    QUESTIONNAIRE_ENTER = "questionnaire.enter"
    AE_WRITE = "ae.write"
    QUERY_RAISE = "query.raise"
    QUERY_ANSWER = "query.answer"
    QUERY_MANAGE = "query.manage"
    SOURCE_VERIFY = "source.verify"
    LOCK = "lock"
    SIGN_OFF = "sign_off"
    EXPORT = "export"
    IMPORT = "import"
    LINKAGE = "linkage"
    USERS_MANAGE = "users.manage"


_CLINICAL_STAFF = {
    Cap.PARTICIPANT_VIEW,
    Cap.PARTICIPANT_WRITE,
    Cap.IDENTIFIERS_VIEW,
    Cap.CONSENT_WRITE,
    Cap.SCREENING_WRITE,
    Cap.RANDOMIZE,
    Cap.ALLOCATION_VIEW,
    Cap.OFFER_WRITE,
    Cap.CLINICAL_WRITE,
    Cap.QUESTIONNAIRE_ENTER,
    Cap.AE_WRITE,
    Cap.QUERY_ANSWER,
}

ROLE_CAPABILITIES: dict[Role, frozenset[Cap]] = {
    Role.NURSE: frozenset(_CLINICAL_STAFF),
    Role.INVESTIGATOR: frozenset(
        _CLINICAL_STAFF | {Cap.ELIGIBILITY_CONFIRM, Cap.SIGN_OFF, Cap.AUDIT_VIEW}
    ),
    Role.DATA_MANAGER: frozenset(
        {
            Cap.PARTICIPANT_VIEW,
            Cap.AUDIT_VIEW,
            Cap.ALLOCATION_VIEW,
            Cap.QUERY_RAISE,
            Cap.QUERY_MANAGE,
            Cap.SOURCE_VERIFY,
            Cap.LOCK,
            Cap.EXPORT,
            Cap.IMPORT,
            Cap.LINKAGE,
        }
    ),
    Role.STATISTICIAN: frozenset({Cap.PARTICIPANT_VIEW, Cap.ALLOCATION_VIEW, Cap.EXPORT}),
    Role.MONITOR: frozenset(
        {Cap.PARTICIPANT_VIEW, Cap.IDENTIFIERS_VIEW, Cap.AUDIT_VIEW, Cap.ALLOCATION_VIEW}
    ),
    Role.ADMIN: frozenset(
        {Cap.PARTICIPANT_VIEW, Cap.RANDOMIZATION_OVERVIEW, Cap.USERS_MANAGE, Cap.AUDIT_VIEW}
    ),
}

#: The capabilities that act on one trial's records, granted per trial (``TrialRole``):
#: screening and confirming eligibility for the trial, randomizing into it, seeing its
#: arms (and the offers and treatment records that reveal them) and its counts per arm.
#: Everything else acts on the cohort (its members, identifiers, consent, routine
#: follow-up and questionnaires, adverse events, queries, locks, sign-offs, exports and
#: staff accounts) and comes from ``User.role``. The treatment form is gated per trial
#: by ``allocation.view`` (a treatment record reveals the arm), ``clinical.write`` itself
#: is cohort-level because it also covers the cohort's clinical follow-up.
TRIAL_CAPABILITIES: frozenset[Cap] = frozenset(
    {
        Cap.SCREENING_WRITE,
        Cap.ELIGIBILITY_CONFIRM,
        Cap.RANDOMIZE,
        Cap.ALLOCATION_VIEW,
        Cap.RANDOMIZATION_OVERVIEW,
        Cap.OFFER_WRITE,
    }
)

CAPABILITY_HELP: dict[Cap, str] = {
    Cap.PARTICIPANT_VIEW: "See the participant list and pages (pseudonymous data)",
    Cap.PARTICIPANT_WRITE: "Register participants and edit their cohort data",
    Cap.IDENTIFIERS_VIEW: "See direct identifiers (name, date of birth, hospital number, contact details)",
    Cap.CONSENT_WRITE: "Record and withdraw staged-consent items",
    Cap.AUDIT_VIEW: "See the audit trail per participant",
    Cap.SCREENING_WRITE: "Enter eligibility screening facts",
    Cap.ELIGIBILITY_CONFIRM: "Confirm eligibility (re-entering the password)",
    Cap.RANDOMIZE: "Randomize a participant whose eligibility is confirmed",
    Cap.ALLOCATION_VIEW: "See allocated arms",
    Cap.RANDOMIZATION_OVERVIEW: "See counts per arm and stratum (never the sequence)",
    Cap.OFFER_WRITE: "Record the offer, acceptance or refusal (intervention arm)",
    Cap.CLINICAL_WRITE: "Enter treatment and clinical follow-up data",
    Cap.QUESTIONNAIRE_ENTER: "Enter paper or telephone questionnaires",
    Cap.AE_WRITE: "Report adverse events",
    Cap.QUERY_RAISE: "Raise data queries",
    Cap.QUERY_ANSWER: "Answer data queries",
    Cap.QUERY_MANAGE: "Close queries and run data checks",
    Cap.SOURCE_VERIFY: "Mark forms source-verified",
    Cap.LOCK: "Lock and unlock participants and the database",
    Cap.SIGN_OFF: "Sign off CRFs electronically",
    Cap.EXPORT: "Export data (logged)",
    Cap.IMPORT: "Import participants and historical questionnaires",
    Cap.LINKAGE: "Write the registry linkage file, import registry vital status, resolve linkage conflicts (logged)",
    Cap.USERS_MANAGE: "Manage staff accounts",
}


def capabilities_of(role: str | None) -> frozenset[Cap]:
    try:
        return ROLE_CAPABILITIES[Role(role)] if role else frozenset()
    except ValueError:
        return frozenset()


def role_has(role: str | None, capability: Cap | str) -> bool:
    return Cap(capability) in capabilities_of(role)


def is_trial_scoped(capability: Cap | str) -> bool:
    """Whether ``capability`` is held per trial (``TRIAL_CAPABILITIES``)."""
    return Cap(capability) in TRIAL_CAPABILITIES


def permission_matrix_markdown() -> str:
    """The permission matrix as a Markdown table (docs/roles.md embeds it). The column
    "held" says whether a capability is held per trial or for the cohort."""
    roles = list(Role)
    head = "| capability | what it allows | held | " + " | ".join(r.value for r in roles) + " |"
    rule = "|---|---|---|" + "---|" * len(roles)
    rows = [
        f"| `{cap.value}` | {CAPABILITY_HELP[cap]} | "
        + ("per trial" if cap in TRIAL_CAPABILITIES else "cohort")
        + " | "
        + " | ".join("✔" if cap in ROLE_CAPABILITIES[r] else "" for r in roles)
        + " |"
        for cap in Cap
    ]
    return "\n".join([head, rule, *rows])


# --- the two-person rule ------------------------------------------------------------------

#: The capabilities that only a second person may give (``services.change_access``): the
#: arms, the direct identifiers, and staff administration itself (an administrator who
#: could make a second administrator alone could approve their own grants through it).
GUARDED_CAPABILITIES: tuple[Cap, ...] = (
    Cap.ALLOCATION_VIEW,
    Cap.IDENTIFIERS_VIEW,
    Cap.USERS_MANAGE,
)


def guarded_holdings(
    role: str | None, trial_roles: dict[str, str], trials: list[str] | tuple[str, ...], active: bool
) -> frozenset[tuple[str, str]]:
    """The guarded capabilities an account with this role, these roles per trial and this
    state holds, as (capability, trial) pairs; a cohort capability has trial "".

    The same rule as ``User.can``: without trial roles the own role counts in every
    trial; with them, only the trials named, each with its role."""
    if not active:
        return frozenset()
    held: set[tuple[str, str]] = set()
    for cap in GUARDED_CAPABILITIES:
        if cap in TRIAL_CAPABILITIES:
            for trial in trials:
                in_trial = trial_roles.get(trial) if trial_roles else role
                if role_has(in_trial, cap):
                    held.add((cap.value, trial))
        elif role_has(role, cap):
            held.add((cap.value, ""))
    return frozenset(held)


def describe_holding(holding: tuple[str, str] | list[str]) -> str:
    """``allocation.view in BLEND`` or ``identifiers.view``."""
    cap, trial = holding
    return f"{cap} in {trial}" if trial else cap
