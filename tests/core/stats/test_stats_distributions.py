"""The pure-Python t, normal and χ² functions against R."""

from __future__ import annotations

import numpy.testing as npt
import pytest

from blend.stats.distributions import chi2_sf, norm_quantile, t_quantile, t_two_sided_p


@pytest.mark.parametrize(
    ("p", "df", "expected"),
    [
        (0.975, 71, 1.99394336784562553611),  # R: qt(0.975, 71)
        (0.975, 4.5, 2.65891234720440250427),  # R: qt(0.975, 4.5)
        (0.995, 2, 9.92484320091828919885),  # R: qt(0.995, 2)
        (0.975, float("inf"), 1.95996398454005360534),  # R: qnorm(0.975)
    ],
)
def test_t_quantile_matches_r(p: float, df: float, expected: float) -> None:
    npt.assert_allclose(t_quantile(p, df), expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("t", "df", "expected"),
    [
        (2.2042070636275048, 71, 0.03075272162094312006),  # R: 2 * pt(-2.2042070636275048, 71)
        (9, 3, 0.00289581216186414686),  # R: 2 * pt(-9, 3)
        (-0.3, 1000, 0.76423950416724417689),  # R: 2 * pt(-0.3, 1000)
    ],
)
def test_t_two_sided_p_matches_r(t: float, df: float, expected: float) -> None:
    npt.assert_allclose(t_two_sided_p(t, df), expected, rtol=1e-12)


def test_chi2_one_df_matches_r() -> None:
    """R: pchisq(12.5, 1, lower.tail = FALSE)"""
    npt.assert_allclose(chi2_sf(12.5, 1), 0.00040695201744495903, rtol=1e-12)
    with pytest.raises(ValueError, match="df = 1"):
        chi2_sf(1.0, 2)


def test_norm_quantile() -> None:
    npt.assert_allclose(norm_quantile(0.975), 1.95996398454005360534, rtol=1e-14)
