"""Load and validate an analysis dataset folder (`docs/contracts/analysis-dataset.md`).

`load_dataset(path)` reads the six files, checks every rule of the contract and
the CONSORT invariants, and returns an `AnalysisDataset` of typed DataFrames.
The first violation raises `ContractError` naming file, row, column, expected and
found; nothing is computed from a dataset that failed validation.

Rows are numbered as a spreadsheet shows them: the header is row 1, so the first
data row is row 2.

`dataset.json` carries the contract version (`CONTRACT_VERSIONS`). Version 1.0 (no
`contract_version` key) is the BLEND-only contract, whose primary outcome is implied
(`BLEND_PRIMARY`). Version 1.1 names the trial freely and states its primary outcome
(`primary_outcome`: measure, timepoint, analysis, estimands); the loader accepts only the
combinations `PRIMARY_OUTCOMES` knows how to analyse. Whatever the version, `meta` of the
loaded dataset always holds `contract_version`, `primary_outcome` and `arm_labels`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blend.stats.errors import ContractError
from blend.stats.linkage import check_linkage_note

if TYPE_CHECKING:
    import pandas as pd

FILES = (
    "dataset.json",
    "screening.csv",
    "participants.csv",
    "assessments.csv",
    "adverse_events.csv",
    "costs.csv",
)
ARMS = ("intervention", "control")
TIMEPOINTS = ("baseline", "w1", "w2", "w4", "w6", "w8", "w12", "m6", "m12")
C15_SCALES = ("PF", "EF", "FA", "NV", "PA", "DY", "SL", "AP", "CO", "QL")
SCALES: dict[str, dict[str, tuple[float, float]]] = {
    "qlq-c15-pal": {s: (0.0, 100.0) for s in C15_SCALES},
    "eq5d5l-nl": {"index": (-0.6, 1.0), "vas": (0.0, 100.0)},
    "pain": {"worst_pain": (0.0, 10.0), "omed": (0.0, float("inf"))},
}

# column -> (kind, required, argument). Kinds: text, date, bool, enum, int, number.
Spec = dict[str, tuple[str, bool, Any]]
SCREENING: Spec = {
    "study_id": ("text", True, None),
    "screened_on": ("date", True, None),
    "randomization_consent": ("enum", True, ("yes", "no", "postponed")),
    "eligibility": ("enum", True, ("eligible", "ineligible", "pending")),
    "ineligibility_reasons": ("text", False, None),
    "randomized": ("bool", True, None),
}
PARTICIPANTS: Spec = {
    "study_id": ("text", True, None),
    "randomized_on": ("date", True, None),
    "arm": ("enum", True, ARMS),
    "stratum": ("text", False, None),
    "offered": ("bool", False, None),
    "accepted": ("bool", False, None),
    "refusal_reason": ("text", False, None),
    "received_intervention": ("bool", True, None),
    "treatment_start": ("date", False, None),
    "death_date": ("date", False, None),
    "last_contact": ("date", True, None),
    "withdrawn_on": ("date", False, None),
    "age": ("number", True, (0.0, 120.0)),
    "sex": ("enum", True, ("female", "male")),
    "primary_tumour": ("text", True, None),
    # Required for BLEND (its stratification factor; checked in _check_cross_file); a
    # trial that records no SINS leaves it empty (contract 1.1).
    "sins_total": ("int", False, (0, 18)),
    "performance_status": ("int", True, (0, 4)),
    "systemic_restart_date": ("date", False, None),
    "hospital_days": ("int", True, (0, 10_000)),
    "neuro_deterioration": ("bool", False, None),
}
ASSESSMENTS: Spec = {
    "study_id": ("text", True, None),
    "timepoint": ("enum", True, TIMEPOINTS),
    "assessed_on": ("date", True, None),
    "instrument": ("enum", True, tuple(SCALES)),
    "scale": ("text", True, None),
    "value": ("number", True, (-1e12, 1e12)),
}
ADVERSE_EVENTS: Spec = {
    "study_id": ("text", True, None),
    "term": ("text", True, None),
    "grade": ("int", True, (1, 5)),
    "serious": ("bool", True, None),
    "onset_date": ("date", True, None),
    "related": ("bool", True, None),
}
COSTS: Spec = {
    "study_id": ("text", True, None),
    "category": ("text", True, None),
    "amount_eur": ("number", True, (0.0, float("inf"))),
}
SPECS: dict[str, Spec] = {
    "screening.csv": SCREENING,
    "participants.csv": PARTICIPANTS,
    "assessments.csv": ASSESSMENTS,
    "adverse_events.csv": ADVERSE_EVENTS,
    "costs.csv": COSTS,
}
DATE_RE = r"^\d{4}-\d{2}-\d{2}$"

CONTRACT_VERSIONS = ("1.0", "1.1")
TRIAL_CODE_RE = r"^[A-Z][A-Z0-9-]{1,31}$"  # as blend.protocol's trial codes
BLEND_PRIMARY: dict[str, Any] = {
    "measure": "pf",
    "timepoint": "w4",
    "analysis": "ancova",
    "estimands": ["itt", "cace"],
}
# (measure, analysis) -> the timepoints and estimands the analysis supports.
PRIMARY_OUTCOMES: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    # QLQ-C15-PAL PF: ANCOVA on baseline PF (ITT) and 2SLS (CACE), written for week 4.
    ("pf", "ancova"): {"timepoints": ("w4",), "estimands": ("itt", "cace")},
    # Consensus pain response: difference in response proportions (ITT) and 2SLS (IV).
    ("pain_response", "risk_difference"): {
        "timepoints": tuple(t for t in TIMEPOINTS if t != "baseline"),
        "estimands": ("itt", "iv", "cace"),
    },
}
BLEND_ARM_LABELS = {"intervention": "Same-day SBRT + surgery", "control": "Standard care"}
DEFAULT_ARM_LABELS = {"intervention": "Intervention", "control": "Control"}


@dataclass
class AnalysisDataset:
    """A validated dataset. Dates are `datetime64`, booleans are `bool`/`boolean`."""

    meta: dict[str, Any]
    screening: pd.DataFrame
    participants: pd.DataFrame
    assessments: pd.DataFrame
    adverse_events: pd.DataFrame
    costs: pd.DataFrame
    sha256: str
    path: Path
    warnings: list[str] = field(default_factory=list)

    @property
    def trial(self) -> str:
        return str(self.meta["trial"])

    @property
    def primary_outcome(self) -> dict[str, Any]:
        """{measure, timepoint, analysis, estimands}: stated (1.1) or implied (1.0)."""
        return dict(self.meta["primary_outcome"])


def load_dataset(path: str | Path) -> AnalysisDataset:
    """Read and validate the dataset folder at `path`; raise `ContractError` on the first fault."""
    folder = Path(path)
    for name in FILES:
        if not (folder / name).is_file():
            raise ContractError(name, None, "(file)", "the file to exist in the folder", "missing")
    digest = hashlib.sha256()
    for name in FILES:
        digest.update(name.encode() + b"\0" + (folder / name).read_bytes())
    meta = _load_meta(folder / "dataset.json")
    frames = {name: _read_csv(folder / name, spec) for name, spec in SPECS.items()}
    _check_cross_file(meta, frames)
    return AnalysisDataset(
        meta=meta,
        screening=frames["screening.csv"],
        participants=frames["participants.csv"],
        assessments=frames["assessments.csv"],
        adverse_events=frames["adverse_events.csv"],
        costs=frames["costs.csv"],
        sha256=digest.hexdigest(),
        path=folder,
        warnings=timepoint_order_warnings(frames["assessments.csv"]),
    )


def _load_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError(path.name, None, "(file)", "a UTF-8 JSON object", str(exc)) from exc
    if not isinstance(meta, dict):
        raise ContractError(path.name, None, "(file)", "a JSON object", type(meta).__name__)
    _check_version_and_primary(path.name, meta)
    cohort = meta.get("cohort_participants")
    if not isinstance(cohort, int) or isinstance(cohort, bool) or cohort < 0:
        raise ContractError(
            path.name, None, "key cohort_participants", "a non-negative integer", cohort
        )
    for key in ("period_start", "period_end"):
        _check_iso_date(path.name, f"key {key}", meta.get(key))
    if str(meta["period_end"]) < str(meta["period_start"]):
        raise ContractError(
            path.name,
            None,
            "key period_end",
            f"a date on or after {meta['period_start']}",
            meta["period_end"],
        )
    if "linkage" in meta:  # optional: what routine data were linked (blend.stats.linkage)
        meta["linkage"] = check_linkage_note(meta["linkage"])
    return meta


def _check_version_and_primary(file: str, meta: dict[str, Any]) -> None:
    """Check `contract_version`, `trial`, `primary_outcome` and `arm_labels`; normalise
    `meta` so that all four are present whatever the version."""
    import re

    version = meta.get("contract_version", "1.0")
    if version not in CONTRACT_VERSIONS:
        raise ContractError(
            file,
            None,
            "key contract_version",
            "one of " + ", ".join(f"'{v}'" for v in CONTRACT_VERSIONS) + " (a JSON string)",
            version,
        )
    trial = meta.get("trial")
    if version == "1.0":
        if trial != "BLEND":
            raise ContractError(
                file,
                None,
                "key trial",
                "'BLEND' (contract 1.0 is BLEND-only; another trial needs "
                "contract_version '1.1' and a primary_outcome)",
                trial,
            )
        for key in ("primary_outcome", "arm_labels"):
            if key in meta:
                raise ContractError(
                    file,
                    None,
                    f"key {key}",
                    "no such key in contract 1.0 (it is new in 1.1)",
                    "a value",
                )
        primary = dict(BLEND_PRIMARY)
    else:
        if not isinstance(trial, str) or not re.match(TRIAL_CODE_RE, trial):
            raise ContractError(
                file,
                None,
                "key trial",
                "a trial code: a capital letter, then 1-31 capitals, digits or '-'",
                trial,
            )
        primary = _check_primary(file, meta.get("primary_outcome", _ABSENT))
    meta["contract_version"] = version
    meta["primary_outcome"] = primary
    meta["arm_labels"] = _check_arm_labels(file, meta.get("arm_labels", _ABSENT), trial)


_ABSENT = object()


def _check_primary(file: str, primary: Any) -> dict[str, Any]:
    if primary is _ABSENT:
        raise ContractError(
            file,
            None,
            "key primary_outcome",
            "an object {measure, timepoint, analysis, estimands} (required in contract 1.1)",
            "missing",
        )
    if not isinstance(primary, dict):
        raise ContractError(
            file, None, "key primary_outcome", "a JSON object", type(primary).__name__
        )
    extra = sorted(set(primary) - {"measure", "timepoint", "analysis", "estimands"})
    if extra:
        raise ContractError(
            file,
            None,
            f"key primary_outcome.{extra[0]}",
            "only the keys measure, timepoint, analysis, estimands",
            extra[0],
        )
    measures = sorted({m for m, _ in PRIMARY_OUTCOMES})
    measure = primary.get("measure")
    if measure not in measures:
        raise ContractError(
            file,
            None,
            "key primary_outcome.measure",
            "a primary outcome measure blend analyze knows: " + ", ".join(measures),
            measure,
        )
    analysis = primary.get("analysis")
    known = PRIMARY_OUTCOMES.get((str(measure), str(analysis)))
    if known is None:
        analyses = [a for m, a in PRIMARY_OUTCOMES if m == measure]
        raise ContractError(
            file,
            None,
            "key primary_outcome.analysis",
            f"an analysis blend analyze knows for {measure}: " + ", ".join(analyses),
            analysis,
        )
    timepoint = primary.get("timepoint")
    if timepoint not in known["timepoints"]:
        raise ContractError(
            file,
            None,
            "key primary_outcome.timepoint",
            f"a timepoint at which {measure} ({analysis}) can be analysed: "
            + ", ".join(known["timepoints"]),
            timepoint,
        )
    estimands = primary.get("estimands")
    if not isinstance(estimands, list) or not all(isinstance(e, str) for e in estimands):
        raise ContractError(
            file, None, "key primary_outcome.estimands", "a list of strings", estimands
        )
    for estimand in estimands:
        if estimand not in known["estimands"]:
            raise ContractError(
                file,
                None,
                "key primary_outcome.estimands",
                f"estimands blend analyze computes for {measure} ({analysis}): "
                + ", ".join(known["estimands"]),
                estimand,
            )
    if "itt" not in estimands or len(set(estimands)) != len(estimands):
        raise ContractError(
            file,
            None,
            "key primary_outcome.estimands",
            "'itt' among them, each estimand once",
            estimands,
        )
    if {"iv", "cace"} <= set(estimands):
        raise ContractError(
            file,
            None,
            "key primary_outcome.estimands",
            "'iv' or 'cace', not both (the same two-stage least squares estimate)",
            estimands,
        )
    return {
        "measure": measure,
        "timepoint": timepoint,
        "analysis": analysis,
        "estimands": estimands,
    }


def _check_arm_labels(file: str, labels: Any, trial: Any) -> dict[str, str]:
    if labels is _ABSENT:
        return dict(BLEND_ARM_LABELS if trial == "BLEND" else DEFAULT_ARM_LABELS)
    if (
        not isinstance(labels, dict)
        or set(labels) != set(ARMS)
        or not all(isinstance(v, str) and v.strip() for v in labels.values())
    ):
        raise ContractError(
            file,
            None,
            "key arm_labels",
            "an object with a non-empty text for intervention and for control",
            labels,
        )
    return {arm: labels[arm] for arm in ARMS}


def _check_iso_date(file: str, column: str, value: Any) -> None:
    import datetime as dt

    try:
        dt.date.fromisoformat(str(value))
        if len(str(value)) != 10:
            raise ValueError
    except ValueError as exc:
        raise ContractError(file, None, column, "an ISO date YYYY-MM-DD", value) from exc


# --------------------------------------------------------------------------- per file
def _read_csv(path: Path, spec: Spec) -> pd.DataFrame:
    """Read every column as categorical text, parse it per the spec, check the rows.

    Parsing works on the distinct values of a column (its categories) and then takes
    them by code: the assessments file has ~80 rows per participant but few distinct
    strings, so this is what keeps validation of 10,000 participants fast.
    """
    import pandas as pd

    try:
        raw = pd.read_csv(path, dtype="category", keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError(path.name, None, "(file)", "UTF-8 text", str(exc)) from exc
    except pd.errors.ParserError as exc:
        raise ContractError(
            path.name, None, "(file)", "comma-separated values", f"{exc}{_separator_hint(path)}"
        ) from exc
    missing = [c for c in spec if c not in raw.columns]
    if missing:
        raise ContractError(
            path.name,
            1,
            missing[0],
            "this column in the header",
            f"no such column{_separator_hint(path)}",
        )
    out = raw.copy()
    for column, (kind, required, arg) in spec.items():
        out[column] = _PARSERS[kind](path.name, column, raw[column], required, arg)
    _check_rows(path.name, out, raw)
    for column in out.columns:  # downstream code works on plain strings
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(object)
    return out


SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def _separator_hint(path: Path) -> str:
    """A hint when the header is split by another separator than the contract's comma.

    Spreadsheets in a Dutch or German locale save "CSV" with semicolons, and some
    exports use tabs; without the hint the data manager only sees "no such column".
    """
    with path.open(encoding="utf-8", errors="replace") as fh:
        header = fh.readline()
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    sep, count = max(counts.items(), key=lambda item: item[1])
    if count == 0 or count <= header.count(","):
        return ""
    return (
        f" (the header row is separated by {SEPARATORS[sep]}, not commas: save the file "
        f"as comma-separated values)"
    )


def _fail_at(file: str, column: str, series: pd.Series, bad: Any, expected: str) -> None:
    """Raise for the first True in `bad` (a boolean mask aligned with `series`)."""
    import numpy as np

    mask = np.asarray(bad, dtype=bool)
    if mask.any():
        i = int(np.argmax(mask))
        found = series.iloc[i]
        if hasattr(found, "strftime"):  # dates are formatted only when reported
            found = found.strftime("%Y-%m-%d")
        raise ContractError(file, i + 2, column, expected, found)


def _per_category(s: pd.Series, func: Callable[[pd.Index], Any]) -> Any:
    """Apply `func` to the distinct values of a categorical and spread the result by code."""
    import numpy as np

    result = np.asarray(func(s.cat.categories))
    return result[s.cat.codes.to_numpy()]


def _required(file: str, column: str, s: pd.Series, required: bool) -> Any:
    empty = _per_category(s, lambda c: c.str.strip() == "")
    if required:
        _fail_at(file, column, s, empty, "a value (the column is required)")
    return empty


def _parse_text(file: str, column: str, s: pd.Series, required: bool, _: Any) -> pd.Series:
    _required(file, column, s, required)
    return s


def _parse_enum(file: str, column: str, s: pd.Series, required: bool, values: Any) -> pd.Series:
    empty = _required(file, column, s, required)
    _fail_at(
        file,
        column,
        s,
        ~empty & ~_per_category(s, lambda c: c.isin(values)),
        "one of " + ", ".join(values),
    )
    return s


def _parse_bool(file: str, column: str, s: pd.Series, required: bool, _: Any) -> pd.Series:
    import pandas as pd

    empty = _required(file, column, s, required)
    _fail_at(
        file,
        column,
        s,
        ~empty & ~_per_category(s, lambda c: c.isin(("true", "false"))),
        "true or false",
    )
    values = pd.array(
        _per_category(s, lambda c: [{"true": True, "false": False}.get(v) for v in c]),
        dtype="boolean",
    )
    return pd.Series(values, index=s.index)


def _parse_date(file: str, column: str, s: pd.Series, required: bool, _: Any) -> pd.Series:
    import pandas as pd

    empty = _required(file, column, s, required)

    def parse(c: pd.Index) -> Any:
        dates = pd.to_datetime(c, format="%Y-%m-%d", errors="coerce")
        # pandas-stubs types Index.where's `other` too narrowly: NaT is what pandas documents.
        return dates.where(c.str.match(DATE_RE), pd.NaT)  # type: ignore[call-overload]

    parsed = pd.Series(_per_category(s, parse), index=s.index).astype("datetime64[ns]")
    _fail_at(file, column, s, ~empty & parsed.isna(), "an ISO date YYYY-MM-DD")
    return parsed


def _parse_number(file: str, column: str, s: pd.Series, required: bool, bounds: Any) -> pd.Series:
    import pandas as pd

    empty = _required(file, column, s, required)
    # pandas-stubs has no overload of to_numeric for an Index, which pandas accepts.
    values = pd.Series(
        _per_category(s, lambda c: pd.to_numeric(c, errors="coerce")),  # type: ignore[call-overload]
        index=s.index,
        dtype=float,
    )
    lo, hi = bounds
    _fail_at(file, column, s, ~empty & values.isna(), "a number")
    _fail_at(file, column, s, ~empty & ((values < lo) | (values > hi)), f"a number in [{lo}, {hi}]")
    return values


def _parse_int(file: str, column: str, s: pd.Series, required: bool, bounds: Any) -> pd.Series:
    values = _parse_number(file, column, s, required, bounds)
    _fail_at(file, column, s, values.notna() & (values != values.round()), "an integer")
    return values


_PARSERS: dict[str, Callable[[str, str, pd.Series, bool, Any], pd.Series]] = {
    "text": _parse_text,
    "enum": _parse_enum,
    "bool": _parse_bool,
    "date": _parse_date,
    "number": _parse_number,
    "int": _parse_int,
}


def _first(df: pd.DataFrame, column: str, mask: Any) -> str:
    """The value of `column` in the first row where `mask` holds, as an ISO date."""
    import numpy as np

    i = int(np.argmax(np.asarray(mask, dtype=bool)))
    return df[column].iloc[i].strftime("%Y-%m-%d")


def _check_unique(file: str, df: pd.DataFrame, columns: list[str]) -> None:
    dup = df.duplicated(subset=columns, keep="first")
    _fail_at(file, columns[-1], df[columns[-1]], dup, f"unique {' + '.join(columns)}")


def _check_rows(file: str, df: pd.DataFrame, raw: pd.DataFrame) -> None:
    checker = _ROW_CHECKS.get(file)
    if checker:
        checker(file, df, raw)


def _check_screening(file: str, df: pd.DataFrame, raw: pd.DataFrame) -> None:
    _check_unique(file, df, ["study_id"])
    eligible = df["eligibility"] == "eligible"
    has_reasons = df["ineligibility_reasons"] != ""
    _fail_at(
        file,
        "ineligibility_reasons",
        df["ineligibility_reasons"],
        eligible & has_reasons,
        "empty when eligibility is eligible",
    )
    _fail_at(
        file,
        "ineligibility_reasons",
        df["ineligibility_reasons"],
        (df["eligibility"] == "ineligible") & ~has_reasons,
        "at least one criterion code when ineligible",
    )
    allowed = eligible & (df["randomization_consent"] == "yes")
    _fail_at(
        file,
        "randomized",
        raw["randomized"],
        df["randomized"] & ~allowed,
        "true only when eligible and randomization_consent = yes",
    )


def _check_participants(file: str, df: pd.DataFrame, text: pd.DataFrame) -> None:
    _check_unique(file, df, ["study_id"])
    intervention = df["arm"] == "intervention"
    offered_set, accepted_set = df["offered"].notna(), df["accepted"].notna()
    _fail_at(
        file,
        "offered",
        text["offered"],
        intervention & ~offered_set,
        "true or false for the intervention arm",
    )
    _fail_at(
        file,
        "offered",
        text["offered"],
        ~intervention & offered_set,
        "empty for the control arm (controls are not informed)",
    )
    offered = df["offered"].fillna(False).astype(bool)
    accepted = df["accepted"].fillna(False).astype(bool)
    _fail_at(
        file, "accepted", text["accepted"], offered & ~accepted_set, "true or false when offered"
    )
    _fail_at(file, "accepted", text["accepted"], ~offered & accepted_set, "empty unless offered")
    refused = offered & accepted_set & ~accepted
    _fail_at(
        file,
        "refusal_reason",
        df["refusal_reason"],
        ~refused & (df["refusal_reason"] != ""),
        "empty unless the offer was refused",
    )
    received = df["received_intervention"].astype(bool)
    _fail_at(
        file,
        "received_intervention",
        text["received_intervention"],
        intervention & received & ~accepted,
        "false for an intervention participant who did not accept the offer",
    )
    _check_participant_dates(file, df, text)


def _check_order(file: str, df: pd.DataFrame, raw: pd.DataFrame, later: str, earlier: str) -> None:
    bad = df[later].notna() & df[earlier].notna() & (df[later] < df[earlier])
    if bad.any():
        _fail_at(
            file,
            later,
            raw[later],
            bad,
            f"a date on or after {earlier} ({_first(df, earlier, bad)})",
        )


def _check_participant_dates(file: str, df: pd.DataFrame, raw: pd.DataFrame) -> None:
    for later, earlier in (
        ("treatment_start", "randomized_on"),
        ("death_date", "randomized_on"),
        ("last_contact", "randomized_on"),
        ("withdrawn_on", "randomized_on"),
        ("systemic_restart_date", "randomized_on"),
        ("systemic_restart_date", "treatment_start"),
        ("death_date", "treatment_start"),
        ("death_date", "systemic_restart_date"),
    ):
        _check_order(file, df, raw, later, earlier)
    dead = df["death_date"].notna()
    _fail_at(
        file,
        "last_contact",
        raw["last_contact"],
        dead & (df["last_contact"] != df["death_date"]),
        "equal to death_date when dead",
    )


def _check_assessments(file: str, df: pd.DataFrame, raw: pd.DataFrame) -> None:
    import pandas as pd

    valid = pd.Series(False, index=df.index)
    for instrument, scales in SCALES.items():
        valid |= (df["instrument"] == instrument) & df["scale"].isin(list(scales))
    _fail_at(file, "scale", df["scale"], ~valid, "a scale of the row's instrument")
    for instrument, scales in SCALES.items():
        for scale, (lo, hi) in scales.items():
            rows = (df["instrument"] == instrument) & (df["scale"] == scale)
            bad = rows & ((df["value"] < lo) | (df["value"] > hi))
            _fail_at(
                file, "value", raw["value"], bad, f"a {instrument} {scale} value in [{lo}, {hi}]"
            )
    _check_unique(file, df, ["study_id", "timepoint", "instrument", "scale"])


def timepoint_order_warnings(df: pd.DataFrame) -> list[str]:
    """Rows whose schedule timepoint is dated before an earlier timepoint of the participant.

    A data-quality warning, not a contract error: the analyses use the timepoint code,
    and a late-returned questionnaire can legitimately arrive after the next one.
    """
    import numpy as np
    import pandas as pd

    order = df["timepoint"].map({t: i for i, t in enumerate(TIMEPOINTS)}).to_numpy()
    sid = pd.factorize(df["study_id"])[0]
    frame = pd.DataFrame({"sid": sid, "o": order, "d": df["assessed_on"]}, index=df.index)
    frame = frame.sort_values(["sid", "o", "d"], kind="stable")
    previous_max = frame.groupby("sid")["d"].cummax().groupby(frame["sid"]).shift(1)
    earlier_tp = frame.groupby("sid")["o"].shift(1) < frame["o"]
    bad = ((frame["d"] < previous_max) & earlier_tp).to_numpy()
    if not bad.any():
        return []
    rows = np.sort(frame.index[bad].to_numpy())
    first = rows[0]
    return [
        f"assessments.csv, row {first + 2}, column assessed_on: timepoint "
        f"{df.loc[first, 'timepoint']} dated {df.loc[first, 'assessed_on']:%Y-%m-%d}, before "
        f"an earlier timepoint of {df.loc[first, 'study_id']} ({len(rows)} such questionnaires)"
    ]


_ROW_CHECKS: dict[str, Callable[[str, pd.DataFrame, pd.DataFrame], None]] = {
    "screening.csv": _check_screening,
    "participants.csv": _check_participants,
    "assessments.csv": _check_assessments,
}


# ------------------------------------------------------------------------- cross file
def _check_cross_file(meta: dict[str, Any], frames: dict[str, pd.DataFrame]) -> None:
    screening, participants = frames["screening.csv"], frames["participants.csv"]
    if meta.get("trial") == "BLEND":
        missing = participants["sins_total"].isna()
        _fail_at(
            "participants.csv",
            "sins_total",
            missing.map({True: "", False: "a value"}),
            missing,
            "a value for BLEND (the column is required for BLEND)",
        )
    _check_membership("participants.csv", participants, screening, "screening.csv")
    for name in ("assessments.csv", "adverse_events.csv", "costs.csv"):
        _check_membership(name, frames[name], participants, "participants.csv")
    randomized_ids = set(screening.loc[screening["randomized"].astype(bool), "study_id"])
    not_randomized = ~participants["study_id"].isin(randomized_ids)
    _fail_at(
        "participants.csv",
        "study_id",
        participants["study_id"],
        not_randomized,
        "a study_id marked randomized = true in screening.csv",
    )
    missing = screening["randomized"].astype(bool) & ~screening["study_id"].isin(
        set(participants["study_id"])
    )
    _fail_at(
        "screening.csv",
        "randomized",
        screening["study_id"],
        missing,
        "a row in participants.csv for every randomized study_id",
    )
    screened_on = participants["study_id"].map(screening.set_index("study_id")["screened_on"])
    bad = participants["randomized_on"] < screened_on
    _fail_at(
        "participants.csv",
        "randomized_on",
        participants["randomized_on"],
        bad,
        "a date on or after screened_on in screening.csv",
    )
    _check_event_dates(frames, participants)
    if meta["cohort_participants"] < len(screening):
        raise ContractError(
            "dataset.json",
            None,
            "key cohort_participants",
            f"at least the {len(screening)} screened cohort members",
            meta["cohort_participants"],
        )


def _check_membership(file: str, df: pd.DataFrame, parent: pd.DataFrame, parent_file: str) -> None:
    known = ~df["study_id"].isin(set(parent["study_id"]))
    _fail_at(file, "study_id", df["study_id"], known, f"a study_id present in {parent_file}")


def _check_event_dates(frames: dict[str, pd.DataFrame], participants: pd.DataFrame) -> None:
    by_id = participants.set_index("study_id")
    aes = frames["adverse_events.csv"]
    randomized = aes["study_id"].map(by_id["randomized_on"])
    _fail_at(
        "adverse_events.csv",
        "onset_date",
        aes["onset_date"],
        aes["onset_date"] < randomized,
        "a date on or after randomized_on",
    )
    death = aes["study_id"].map(by_id["death_date"])
    _fail_at(
        "adverse_events.csv",
        "onset_date",
        aes["onset_date"],
        death.notna() & (aes["onset_date"] > death),
        "a date on or before death_date",
    )
    ass = frames["assessments.csv"]
    death = ass["study_id"].map(by_id["death_date"])
    _fail_at(
        "assessments.csv",
        "assessed_on",
        ass["assessed_on"],
        death.notna() & (ass["assessed_on"] > death),
        "a date on or before death_date",
    )
    post = ass["timepoint"] != "baseline"
    randomized = ass["study_id"].map(by_id["randomized_on"])
    _fail_at(
        "assessments.csv",
        "assessed_on",
        ass["assessed_on"],
        post & (ass["assessed_on"] < randomized),
        "a follow-up date on or after randomized_on",
    )
