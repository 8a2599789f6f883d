"""Contract validation: a broken dataset is rejected naming file, row and column."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blend.stats.dataset import load_dataset
from blend.stats.errors import ContractError
from blend.stats.synthetic import make_dataset


def test_synthetic_dataset_is_valid_and_reproducible(tmp_path: Path, synthetic_100: Path) -> None:
    ds = load_dataset(synthetic_100)
    assert len(ds.participants) == 100
    again = make_dataset(100, 1, tmp_path / "again")
    for name in (
        "screening.csv",
        "participants.csv",
        "assessments.csv",
        "costs.csv",
        "adverse_events.csv",
        "dataset.json",
    ):
        assert (again / name).read_bytes() == (synthetic_100 / name).read_bytes(), name
    assert load_dataset(again).sha256 == ds.sha256


def _broken(
    tmp_path: Path, source: Path, file: str, change: Callable[[pd.DataFrame], pd.DataFrame]
) -> Path:
    target = tmp_path / "broken"
    shutil.copytree(source, target)
    frame = pd.read_csv(target / file, dtype=str, keep_default_na=False)
    change(frame).to_csv(target / file, index=False)
    return target


def _set(column: str, row: int, value: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[row, column] = value
        return frame

    return change


def _first(frame: pd.DataFrame, column: str, value: str) -> int:
    return int(frame.index[frame[column] == value][0])


def test_missing_column(tmp_path: Path, synthetic_100: Path) -> None:
    path = _broken(tmp_path, synthetic_100, "participants.csv", lambda f: f.drop(columns="arm"))
    with pytest.raises(ContractError) as err:
        load_dataset(path)
    assert (err.value.file, err.value.row, err.value.column) == ("participants.csv", 1, "arm")
    assert "participants.csv, row 1, column arm" in str(err.value)


def test_unknown_arm(tmp_path: Path, synthetic_100: Path) -> None:
    path = _broken(tmp_path, synthetic_100, "participants.csv", _set("arm", 6, "placebo"))
    with pytest.raises(ContractError) as err:
        load_dataset(path)
    assert (err.value.file, err.value.row, err.value.column) == ("participants.csv", 8, "arm")
    assert err.value.found == "placebo"
    assert "expected one of intervention, control" in str(err.value)


def test_treatment_before_randomization(tmp_path: Path, synthetic_100: Path) -> None:
    frame = pd.read_csv(synthetic_100 / "participants.csv", dtype=str, keep_default_na=False)
    row = int(frame.index[frame["treatment_start"] != ""][3])
    early = (pd.Timestamp(frame.loc[row, "randomized_on"]) - pd.Timedelta(days=3)).date()
    path = _broken(
        tmp_path, synthetic_100, "participants.csv", _set("treatment_start", row, str(early))
    )
    with pytest.raises(ContractError) as err:
        load_dataset(path)
    assert (err.value.file, err.value.row, err.value.column) == (
        "participants.csv",
        row + 2,
        "treatment_start",
    )
    assert "on or after randomized_on" in err.value.expected


def test_follow_up_questionnaire_dated_before_an_earlier_timepoint_is_a_warning(
    tmp_path: Path, synthetic_100: Path
) -> None:
    """A late-returned questionnaire can arrive after the next one: a warning, not an error."""
    frame = pd.read_csv(synthetic_100 / "assessments.csv", dtype=str, keep_default_na=False)
    sid = frame.loc[frame["timepoint"] == "w12", "study_id"].iloc[0]
    w2 = frame[(frame["study_id"] == sid) & (frame["timepoint"] == "w2")]["assessed_on"].iloc[0]
    rows = frame.index[(frame["study_id"] == sid) & (frame["timepoint"] == "w12")]
    early = str((pd.Timestamp(w2) - pd.Timedelta(days=1)).date())

    def change(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[rows, "assessed_on"] = early
        return f

    path = _broken(tmp_path, synthetic_100, "assessments.csv", change)
    ds = load_dataset(path)
    assert ds.warnings == [
        f"assessments.csv, row {rows[0] + 2}, column assessed_on: timepoint "
        f"w12 dated {early}, before an earlier timepoint of {sid} "
        "(1 such questionnaires)"
    ]
    assert load_dataset(synthetic_100).warnings == []


def test_death_before_randomization(tmp_path: Path, synthetic_100: Path) -> None:
    frame = pd.read_csv(synthetic_100 / "participants.csv", dtype=str, keep_default_na=False)
    row = int(frame.index[frame["death_date"] != ""][0])
    early = str((pd.Timestamp(frame.loc[row, "randomized_on"]) - pd.Timedelta(days=1)).date())

    def change(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[row, ["death_date", "last_contact"]] = early
        return f

    path = _broken(tmp_path, synthetic_100, "participants.csv", change)
    with pytest.raises(ContractError) as err:
        load_dataset(path)
    assert (err.value.file, err.value.row) == ("participants.csv", row + 2)
    assert err.value.column in {"treatment_start", "death_date"}


def test_participant_missing_from_screening(tmp_path: Path, synthetic_100: Path) -> None:
    frame = pd.read_csv(synthetic_100 / "screening.csv", dtype=str, keep_default_na=False)
    row = _first(frame, "study_id", "BL-00005")
    path = _broken(tmp_path, synthetic_100, "screening.csv", _set("study_id", row, "XX-1"))
    with pytest.raises(ContractError) as err:
        load_dataset(path)
    participants = pd.read_csv(path / "participants.csv", dtype=str)
    expected_row = _first(participants, "study_id", "BL-00005") + 2
    assert (err.value.file, err.value.row, err.value.column) == (
        "participants.csv",
        expected_row,
        "study_id",
    )
    assert "present in screening.csv" in str(err.value)


def test_randomized_without_consent_breaks_the_consort_flow(
    tmp_path: Path, synthetic_100: Path
) -> None:
    path = _broken(tmp_path, synthetic_100, "screening.csv", _set("randomization_consent", 3, "no"))
    with pytest.raises(ContractError) as err:
        load_dataset(path)
    assert (err.value.file, err.value.row, err.value.column) == ("screening.csv", 5, "randomized")
    assert "eligible and randomization_consent = yes" in err.value.expected


def test_received_without_accepting_breaks_the_consort_flow(
    tmp_path: Path, synthetic_100: Path
) -> None:
    frame = pd.read_csv(synthetic_100 / "participants.csv", dtype=str, keep_default_na=False)
    row = int(frame.index[frame["accepted"] == "false"][0])
    path = _broken(
        tmp_path, synthetic_100, "participants.csv", _set("received_intervention", row, "true")
    )
    with pytest.raises(ContractError) as err:
        load_dataset(path)
    assert (err.value.row, err.value.column) == (row + 2, "received_intervention")


def test_cohort_smaller_than_screened_breaks_the_consort_flow(
    tmp_path: Path, synthetic_100: Path
) -> None:
    target = tmp_path / "broken"
    shutil.copytree(synthetic_100, target)
    meta = json.loads((target / "dataset.json").read_text())
    meta["cohort_participants"] = 10
    (target / "dataset.json").write_text(json.dumps(meta))
    with pytest.raises(ContractError) as err:
        load_dataset(target)
    assert (err.value.file, err.value.column) == ("dataset.json", "key cohort_participants")
    assert err.value.found == 10


def test_offered_filled_in_for_a_control(tmp_path: Path, synthetic_100: Path) -> None:
    frame = pd.read_csv(synthetic_100 / "participants.csv", dtype=str, keep_default_na=False)
    row = _first(frame, "arm", "control")
    path = _broken(tmp_path, synthetic_100, "participants.csv", _set("offered", row, "true"))
    with pytest.raises(ContractError) as err:
        load_dataset(path)
    assert (err.value.row, err.value.column) == (row + 2, "offered")
    assert "controls are not informed" in err.value.expected


def test_bad_boolean_and_scale_are_named(tmp_path: Path, synthetic_100: Path) -> None:
    path = _broken(tmp_path, synthetic_100, "adverse_events.csv", _set("serious", 2, "yes"))
    with pytest.raises(ContractError) as err:
        load_dataset(path)
    assert (err.value.file, err.value.row, err.value.column, err.value.found) == (
        "adverse_events.csv",
        4,
        "serious",
        "yes",
    )
    path2 = _broken(tmp_path / "b", synthetic_100, "assessments.csv", _set("scale", 0, "XX"))
    with pytest.raises(ContractError) as err:
        load_dataset(path2)
    assert (err.value.row, err.value.column) == (2, "scale")


def test_missing_file_is_named(tmp_path: Path, synthetic_100: Path) -> None:
    target = tmp_path / "broken"
    shutil.copytree(synthetic_100, target)
    (target / "costs.csv").unlink()
    with pytest.raises(ContractError, match="costs.csv"):
        load_dataset(target)


def test_empty_optional_dates_in_the_first_row_are_valid(
    tmp_path: Path, synthetic_100: Path
) -> None:
    """Never treated (no treatment_start) is allowed; the date-order checks must skip it."""

    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[0, ["treatment_start", "systemic_restart_date"]] = ""
        return frame

    path = _broken(tmp_path, synthetic_100, "participants.csv", change)
    assert pd.isna(load_dataset(path).participants.loc[0, "treatment_start"])


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(n=st.integers(min_value=1, max_value=40), seed=st.integers(min_value=0, max_value=10**6))
def test_every_synthetic_trial_is_valid_and_consort_consistent(
    tmp_path: Path, n: int, seed: int
) -> None:
    from blend.stats.consort import consort_counts, invariant_violations

    ds = load_dataset(make_dataset(n, seed, tmp_path / f"s{n}_{seed}"))
    counts = consort_counts(ds)
    assert invariant_violations(counts) == []
    assert counts["randomized"] == n


@pytest.mark.parametrize(("sep", "word"), [(";", "semicolons"), ("\t", "tabs")])
def test_another_separator_gets_a_hint_and_keeps_the_message(
    tmp_path: Path, synthetic_100: Path, sep: str, word: str
) -> None:
    """A spreadsheet in a Dutch locale saves "CSV" with semicolons: the error says so, and
    still names file, row, column, expected and found."""
    target = tmp_path / "semicolon"
    shutil.copytree(synthetic_100, target)
    frame = pd.read_csv(target / "participants.csv", dtype=str, keep_default_na=False)
    frame.to_csv(target / "participants.csv", index=False, sep=sep)
    with pytest.raises(ContractError) as err:
        load_dataset(target)
    assert (err.value.file, err.value.row, err.value.column) == ("participants.csv", 1, "study_id")
    assert err.value.expected == "this column in the header"
    assert str(err.value).startswith(
        "participants.csv, row 1, column study_id: expected this "
        "column in the header, found 'no such column (the header "
        f"row is separated by {word}, not commas"
    )


def test_a_comma_file_with_a_missing_column_gets_no_separator_hint(
    tmp_path: Path, synthetic_100: Path
) -> None:
    path = _broken(tmp_path, synthetic_100, "costs.csv", lambda f: f.drop(columns="category"))
    with pytest.raises(ContractError) as err:
        load_dataset(path)
    assert err.value.found == "no such column"
