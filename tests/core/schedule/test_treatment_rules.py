"""Treatment rules (pure): the start of treatment and the deviation flags."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from blend.apps.treatment import domain
from blend.protocol import ProtocolError, load_protocol

CONFIG = domain.parse_treatment(load_protocol().section("treatment"))


def test_start_of_treatment_by_rule() -> None:
    rt, surgery = date(2026, 3, 10), date(2026, 3, 2)
    assert (
        domain.start_of_treatment("first_treatment_day", radiotherapy_on=rt, surgery_on=surgery)
        == surgery
    )
    assert domain.start_of_treatment("radiotherapy", radiotherapy_on=rt, surgery_on=surgery) == rt
    assert domain.start_of_treatment("surgery", radiotherapy_on=rt, surgery_on=surgery) == surgery
    assert (
        domain.start_of_treatment("first_treatment_day", radiotherapy_on=None, surgery_on=None)
        is None
    )


@pytest.mark.parametrize("hours, flagged", [(6, False), (24, False), (24.02, True), (30, True)])
def test_same_day_gap_flag_above_24_hours(hours: float, flagged: bool) -> None:
    sbrt = datetime(2026, 3, 2, 8, 0)
    assert domain.same_day_gap_flag(sbrt, sbrt + timedelta(hours=hours), CONFIG) is flagged


@pytest.mark.parametrize("days, flagged", [(6, True), (7, False), (14, False), (0, True)])
def test_radiotherapy_flag_under_7_days_after_surgery(days: int, flagged: bool) -> None:
    surgery = date(2026, 3, 2)
    assert (
        domain.radiotherapy_too_early_flag(surgery, surgery + timedelta(days=days), CONFIG)
        is flagged
    )


def test_unknown_start_rule_is_rejected() -> None:
    raw = dict(load_protocol().section("treatment"), start_of_treatment="admission")
    with pytest.raises(ProtocolError, match="start_of_treatment expected one of"):
        domain.parse_treatment(raw)


def test_defaults_match_the_documented_prescription() -> None:
    assert (CONFIG.sbrt_fractions, CONFIG.sbrt_dose_gy, CONFIG.max_hours_between) == (1, 18.0, 24.0)
    assert CONFIG.min_days_surgery_to_radiotherapy == 7
