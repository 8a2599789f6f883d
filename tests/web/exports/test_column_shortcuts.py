"""The exports' per-column shortcuts give exactly what the per-cell code gives: a text
column checked for formula starts in one pass (``neutralise_column``) and a stored
timestamp converted by its minute (``_stored_datetime_text``), across daylight-saving
changes and zones whose offsets are not whole minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from blend.apps.exports import tables
from blend.apps.exports.neutralise import TRIGGERS, neutralise, neutralise_column

# Text made mostly of the characters that matter: triggers, separators, quotes, digits.
CELL = st.text(alphabet=st.sampled_from(list(TRIGGERS + ";'\"0123456789.eE ab")), max_size=8)


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(st.lists(CELL, max_size=12))
def test_a_column_is_neutralised_as_its_cells_are(cells: list[str]) -> None:
    assert list(neutralise_column(cells)) == [neutralise(c) for c in cells]


def test_a_column_with_a_missing_value_is_left_to_the_per_cell_path() -> None:
    with pytest.raises(TypeError):
        neutralise_column(["a", None])  # type: ignore[list-item]
    assert tables._neutralised_cells(["=1+1", None, 3]) == ["'=1+1", None, "3"]


def _per_cell(stored: str) -> str:
    """What the per-cell path writes for a stored UTC timestamp (the code before)."""
    return tables._datetime(datetime.fromisoformat(stored).replace(tzinfo=UTC))


@pytest.mark.parametrize(
    "zone",
    [
        "Europe/Amsterdam",
        "America/New_York",
        "Asia/Kolkata",
        "Australia/Lord_Howe",
        "Africa/Monrovia",
    ],
)
def test_a_stored_time_is_converted_by_its_minute_exactly(zone: str) -> None:
    # Every 17 minutes and 13 seconds over two years, through each daylight-saving change;
    # Lord Howe shifts by half an hour, Monrovia had an offset of -0:44:30 before 1972.
    with override_settings(TIME_ZONE=zone, USE_TZ=True):
        tables._local_zone.cache_clear()
        tables._local_minute.cache_clear()
        tables._stored_datetime_text.cache_clear()
        try:
            moment = datetime(2024, 1, 1)
            stamps = [moment + timedelta(seconds=1033 * n) for n in range(61_000)]
            stamps.append(datetime(1971, 6, 1, 12, 0, 30))  # Monrovia's odd offset
            for stamp in stamps:
                for text in (
                    stamp.strftime("%Y-%m-%d %H:%M:%S"),
                    stamp.strftime("%Y-%m-%d %H:%M:%S.123456"),
                ):
                    assert tables._stored_datetime_text(text) == _per_cell(text), text
        finally:
            tables._local_zone.cache_clear()
            tables._local_minute.cache_clear()
            tables._stored_datetime_text.cache_clear()
