"""The report figures, checked through their matplotlib objects (not pixels).

Every figure function runs on a small (15), a large (2,000) and a degenerate dataset
(an arm without events, a missing estimate, an empty CEA) and shows the elements the
analysis plan asks for: numbers at risk, censor marks, CI bands, the tail cut, both
CIF causes, the week-4 window, n per visit, the CEAC axis, the CE-plane quadrants,
the forest labels, and the CONSORT-ROUTINE boxes and arrows with their counts.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from blend.stats import plots
from blend.stats.analysis import AnalysisConfig, AnalysisResult, run_analysis
from blend.stats.consort import FLOW_ARROWS, flow_boxes
from blend.stats.dataset import load_dataset
from blend.stats.survival import KaplanMeierFitter, cumulative_incidence, value_at
from blend.stats.synthetic import make_dataset


def _analyse(n: int, seed: int, root: Path) -> AnalysisResult:
    ds = load_dataset(make_dataset(n, seed, root / f"d{n}"))
    return run_analysis(ds, AnalysisConfig(imputations=3, bootstrap=300, seed=seed))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> AnalysisResult:
    return _analyse(15, 3, tmp_path_factory.mktemp("fig-small"))


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> AnalysisResult:
    return _analyse(2000, 5, tmp_path_factory.mktemp("fig-large"))


@pytest.fixture(params=["small", "large"])
def result(request: pytest.FixtureRequest) -> AnalysisResult:
    return request.getfixturevalue(request.param)


def _texts(fig: Figure) -> list[str]:
    """Every text string in the figure: axes texts, tick labels, legends, figure texts."""
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()]


def _by_gid(fig: Figure, gid: str) -> list[Any]:
    return list(fig.findobj(lambda a: a.get_gid() == gid))


def _risk_counts(fig: Figure, title: str) -> dict[str, list[int]]:
    table = next(a for a in fig.axes if a.get_label() == title)
    return {
        arm: [
            int(t.get_text().replace(",", "")) for t in table.texts if t.get_gid() == f"risk-{arm}"
        ]
        for arm in plots.ARMS
    }


# ------------------------------------------------------------------ Kaplan–Meier
def test_km_confidence_limits_follow_greenwood_on_the_log_scale() -> None:
    """R `survfit(Surv(t, e) ~ 1)` default (conf.type = "log"), written out by hand."""
    t = np.array([1, 2, 2, 3, 4, 5, 6, 6])
    e = np.array([1, 1, 0, 1, 0, 1, 1, 1])
    curve = plots.kaplan_meier_curve(t, e)
    s, greenwood = 1.0, 0.0
    for time, n, d in ((1, 8, 1), (2, 7, 1), (3, 5, 1), (5, 3, 1)):
        s *= 1 - d / n
        greenwood += d / (n * (n - d))
        i = int(np.flatnonzero(curve.times == time)[0])
        assert curve.at_risk[i] == n
        assert curve.estimate[i] == pytest.approx(s, rel=1e-12)
        assert curve.lower[i] == pytest.approx(
            s * math.exp(-1.959963984540054 * math.sqrt(greenwood)), rel=1e-9
        )
        assert curve.upper[i] == pytest.approx(
            min(1.0, s * math.exp(1.959963984540054 * math.sqrt(greenwood))), rel=1e-9
        )
    # S reaches 0 at t = 6 (both at risk die): the interval is undefined there, as R's NA.
    assert curve.estimate[-1] == 0 and math.isnan(curve.lower[-1])
    # The estimate itself is the R-validated KaplanMeierFitter's.
    km = KaplanMeierFitter().fit(t, e)
    events = curve.events > 0
    np.testing.assert_allclose(curve.estimate[events], km.survival_, rtol=1e-12)


def test_km_numbers_at_risk_censor_marks_band_and_tail_cut() -> None:
    rng = np.random.default_rng(3)
    times = np.arange(1, 101, dtype=float)  # at risk at day k: 101 − k
    data = {
        "intervention": (times, np.ones(100, bool)),
        "control": (rng.integers(1, 300, 80).astype(float), rng.random(80) < 0.6),
    }
    fig = plots.km_figure(data)
    ax = fig.axes[0]
    line = _by_gid(fig, "km-intervention")[0]
    # Fewer than 10% (10 of 100) at risk after day 91: the curve ends there.
    assert max(line.get_xdata()) == 91
    assert plots.kaplan_meier_curve(*data["intervention"]).tail_cut() == 91
    control = plots.kaplan_meier_curve(*data["control"])
    assert ax.get_xlim()[1] == max(91, control.tail_cut())
    assert _by_gid(fig, "km-ci-intervention") and _by_gid(fig, "km-ci-control")
    marks = _by_gid(fig, "km-censored-control")[0]
    censored = np.unique(data["control"][0][~data["control"][1]])
    assert set(marks.get_xdata()) == {c for c in censored if c <= control.tail_cut()}
    ticks = [t for t in ax.get_xticks() if 0 <= t <= ax.get_xlim()[1]]
    counts = _risk_counts(fig, "Number at risk")
    for arm, (d, _) in data.items():
        assert counts[arm] == [int((d >= t).sum()) for t in ticks]
    assert any("fewer than 10%" in text for text in _texts(fig))
    _assert_risk_table_legible(fig, "Number at risk")


def _assert_risk_table_legible(fig: Figure, title: str) -> None:
    """No two texts of the numbers-at-risk table (arm names, counts) overlap."""
    fig.canvas.draw()
    table = next(a for a in fig.axes if a.get_label() == title)
    extents = [t.get_window_extent() for t in table.texts if t.get_text()]
    for i, a in enumerate(extents):
        for b in extents[i + 1 :]:
            assert not a.overlaps(b)


def test_km_and_cif_carry_the_model_summary(small: AnalysisResult) -> None:
    r = copy.deepcopy(small.results)
    r["secondary"]["overall_survival"].update(hr=0.62, hr_ci95=[0.41, 0.93], logrank_p=0.02)
    r["secondary"]["systemic_therapy"].update(
        cs_hr=0.77,
        cs_hr_ci95=[0.51, 1.15],
        fine_gray={"shr": 0.92, "shr_ci95": [0.61, 1.38], "p": 0.681},
    )
    assert plots.survival_summary(r) == "Cox HR 0.62 (0.41 to 0.93), log-rank p 0.020"
    assert plots.competing_risks_summary(r) == (
        "Restart, same-day vs standard: cause-specific HR 0.77 (0.51 to 1.15); "
        "Fine–Gray sHR 0.92 (0.61 to 1.38), p 0.681"
    )
    r["secondary"]["systemic_therapy"].update(cs_hr=None, fine_gray={"shr": None})
    assert plots.competing_risks_summary(r) is None
    fig = plots.km_figure(
        plots.overall_survival_data(small.artifacts["wide"]), plots.survival_summary(r)
    )
    assert _by_gid(fig, "survival-summary")[0].get_text().startswith("Cox HR 0.62")


def test_km_with_an_arm_without_deaths_stays_at_one() -> None:
    data = {
        "intervention": (np.array([5.0, 10, 20]), np.array([False, False, False])),
        "control": (np.array([3.0, 8, 9]), np.array([True, False, True])),
    }
    fig = plots.km_figure(data)
    assert set(_by_gid(fig, "km-intervention")[0].get_ydata()) == {1.0}
    assert _risk_counts(fig, "Number at risk")["intervention"][0] == 3


def test_km_of_the_analysis_matches_the_reported_medians(result: AnalysisResult) -> None:
    data = plots.overall_survival_data(result.artifacts["wide"])
    reported = result.results["secondary"]["overall_survival"]["median_days"]
    for arm, (days, dead) in data.items():
        assert KaplanMeierFitter().fit(days, dead).median_ == reported[arm]
    fig = plots.km_figure(data)
    assert sum(_risk_counts(fig, "Number at risk")[arm][0] for arm in plots.ARMS) == len(
        result.artifacts["wide"]
    )


# ------------------------------------------------------------------------- CIF
def test_cif_shows_both_causes_the_window_and_numbers_at_risk(result: AnalysisResult) -> None:
    data = plots.systemic_therapy_data(result.artifacts["wide"])
    reported = result.results["secondary"]["systemic_therapy"]["cif_w4"]
    for arm, (days, status) in data.items():
        if reported[arm] is not None:  # None: nobody in the arm followed for 28 days
            assert value_at(*cumulative_incidence(days, status), 28) == pytest.approx(reported[arm])
    fig = plots.cif_figure(data)
    for arm in plots.ARMS:
        assert _by_gid(fig, f"cif-{arm}-cause1") and _by_gid(fig, f"cif-{arm}-cause2")
    legend = fig.axes[0].get_legend()
    assert {t.get_text() for t in legend.get_texts()} >= {
        "Same-day: systemic therapy restarted",
        "Standard: death without restart",
    }
    window = [p for p in fig.axes[0].patches if p.get_x() == 0]
    assert window and window[0].get_width() == plots.PRIMARY_WINDOW_DAYS
    assert _by_gid(fig, "cif-primary-window")
    ticks = [t for t in fig.axes[0].get_xticks() if 0 <= t <= fig.axes[0].get_xlim()[1]]
    counts = _risk_counts(fig, "Number at risk (event-free)")
    for arm, (days, _) in data.items():
        assert counts[arm] == [int((days >= t).sum()) for t in ticks]
    _assert_risk_table_legible(fig, "Number at risk (event-free)")


def test_cif_with_an_arm_without_restarts() -> None:
    data = {
        "intervention": (np.array([10.0, 20, 30]), np.array([0, 2, 0])),
        "control": (np.array([5.0, 15, 40]), np.array([1, 1, 0])),
    }
    fig = plots.cif_figure(data)
    assert set(_by_gid(fig, "cif-intervention-cause1")[0].get_ydata()) == {0.0}


# ------------------------------------------------------------------ PF over time
def _scales(rows: list[tuple[str, str, float, float, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["timepoint", "arm", "mean", "std", "count"]).assign(
        scale="PF"
    )


def test_pf_over_time_has_no_empty_visit_ticks_and_n_per_visit() -> None:
    scales = _scales(
        [
            ("baseline", "intervention", 50, 20, 10),
            ("baseline", "control", 55, 18, 9),
            ("w4", "intervention", 60, 20, 8),
            ("w4", "control", 52, 15, 1),
            ("m6", "intervention", 62, 25, 3),
        ]
    )
    mmrm = {
        "model": "MMRM, unstructured covariance",
        "arm_effect_by_visit": {
            "w4": {"estimate": 5.0, "ci95": [1.0, 9.0]},
            "m6": {"estimate": None, "ci95": [None, None]},
        },
    }
    fig = plots.scale_over_time_figure(scales, "PF", [("MMRM", mmrm["arm_effect_by_visit"])])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["BL", "W4", "M6"]
    counts = _risk_counts(fig, "Number of questionnaires")
    assert counts == {"intervention": [10, 8, 3], "control": [9, 1, 0]}
    _assert_risk_table_legible(fig, "Number of questionnaires")
    model = next(a for a in fig.axes if a.get_label() == "model estimates")
    assert [t.get_text() for t in model.get_xticklabels()] == ["W4", "M6"]
    assert "MMRM" in [t.get_text() for t in model.get_legend().get_texts()]
    assert _by_gid(fig, "model-not-estimable")  # m6 has no estimate


def test_pf_over_time_when_no_model_visit_is_estimable(recwarn: pytest.WarningsRecorder) -> None:
    scales = _scales([("w4", "intervention", 60, 20, 5), ("w4", "control", 50, 10, 4)])
    fig = plots.scale_over_time_figure(scales, "PF", [("MMRM", {"w4": None})])
    assert _by_gid(fig, "model-not-estimable")
    assert not [w for w in recwarn if "legend" in str(w.message)]


def test_pf_over_time_uses_the_t_interval() -> None:
    scales = _scales([("w4", "intervention", 60, 20, 5), ("w4", "control", 50, 10, 1)])
    fig = plots.scale_over_time_figure(scales, "PF", [])
    bars = [c for c in fig.axes[0].collections if len(c.get_segments())]
    (segment,) = bars[0].get_segments()
    half = 2.7764451051977987 * 20 / math.sqrt(5)  # qt(0.975, 4)
    assert segment[1][1] - segment[0][1] == pytest.approx(2 * half, rel=1e-9)
    assert _by_gid(fig, "model-not-estimable")  # no model: said, not left blank


def test_pf_over_time_of_the_analysis(result: AnalysisResult) -> None:
    models = plots.longitudinal_models(result.results)
    assert any(by_visit for _, by_visit in models)
    fig = plots.scale_over_time_figure(result.artifacts["scales"], "PF", models)
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    scales = result.artifacts["scales"]
    observed = set(scales.loc[(scales["scale"] == "PF") & (scales["count"] > 0), "timepoint"])
    assert ticks == [plots.VISIT_LABELS[v] for v in plots.VISIT_LABELS if v in observed]


def test_mmrm_results_are_found_first_and_labelled() -> None:
    results = {
        "secondary": {
            "pf_longitudinal": {
                "model": "PF ~ ..., random intercept per participant (REML)",
                "arm_effect_by_timepoint": {"w4": {}},
            },
            "pf_mmrm": {
                "model": "PF ~ ..., unstructured covariance (REML)",
                "arm_effect_by_timepoint": {"w4": {"estimate": 2.0, "ci95": [0.0, 4.0]}},
                "not_estimable_timepoints": {"w1": "no control participant has PF"},
            },
        }
    }
    models = plots.longitudinal_models(results)
    assert [label for label, _ in models] == ["MMRM", "Random-intercept model"]
    assert models[0][1]["w1"] is None  # a visit without an arm effect is kept, as n.e.


# ------------------------------------------------------------------------- CEA
def test_ceac_axis_is_zero_to_one_and_the_curve_at_one_is_visible() -> None:
    ceac = [[lam, 1.0] for lam in range(0, 100_001, 1000)]
    fig = plots.ceac_figure(ceac)
    ax = fig.axes[0]
    assert ax.get_ylim() == (0.0, 1.0)
    assert ax.get_xlim() == (0.0, 100_000.0)
    curve = _by_gid(fig, "ceac-curve")[0]
    assert not curve.get_clip_on() and set(curve.get_ydata()) == {1.0}
    assert not ax.spines["top"].get_visible()  # the spine would hide the curve at 1
    assert len(_by_gid(fig, "ceac-lambda")) == 3


def test_ceac_of_the_analysis(result: AnalysisResult) -> None:
    fig = plots.ceac_figure(result.results["cea"]["ceac"])
    assert fig.axes[0].get_ylim() == (0.0, 1.0)


def test_ce_plane_labels_each_quadrant_inside_it(result: AnalysisResult) -> None:
    cea = result.artifacts["cea"]
    fig = plots.ce_plane_figure(cea.replicates_, (cea.delta_qaly_, cea.delta_cost_))
    ax = fig.axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 < 0 < x1 and y0 < 0 < y1  # the origin, hence all four quadrants, is shown
    shares = result.results["cea"]["bootstrap"]["quadrants"]
    fig.canvas.draw()
    to_data = ax.transData.inverted()
    for code, (sign_x, sign_y) in {
        "NE": (1, 1),
        "NW": (-1, 1),
        "SE": (1, -1),
        "SW": (-1, -1),
    }.items():
        (label,) = _by_gid(fig, f"quadrant-{code}")
        assert f"{shares[code]:.1%} of replicates" in label.get_text()
        extent = label.get_window_extent()
        corners = to_data.transform(extent.corners())
        assert (np.sign(corners[:, 0]) == sign_x).all(), code  # wholly inside its quadrant
        assert (np.sign(corners[:, 1]) == sign_y).all(), code
        assert ax.get_window_extent().contains(*extent.p0), code
        assert ax.get_window_extent().contains(*extent.p1), code
    assert "dominant" in _by_gid(fig, "quadrant-SE")[0].get_text()
    assert "dominated" in _by_gid(fig, "quadrant-NW")[0].get_text()


def test_cea_figures_without_a_cea_say_not_estimable() -> None:
    for fig in (
        plots.ceac_figure([], "no costs"),
        plots.ce_plane_figure(None, (math.nan, math.nan), "no costs"),
    ):
        (note,) = _by_gid(fig, "not-estimable")
        assert "not estimable" in note.get_text() and "no costs" in note.get_text()


# ----------------------------------------------------------------------- forest
def test_forest_labels_say_what_each_row_is(result: AnalysisResult) -> None:
    fig = plots.forest_figure(result.results)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[:2] == ["Primary analysis", "ITT, ANCOVA, complete case"]
    assert "CACE, 2SLS (effect of receiving same-day)" in labels
    delta_rows = [label for label in labels if label.startswith("MI (MNAR)")]
    assert [label[-10:] for label in delta_rows] in (
        ["−10 points", "−20 points"],
        ["+10 points", "+20 points"],
    )
    assert not any("tipping" in label.lower() for label in labels)  # δ is not an estimate
    (note,) = _by_gid(fig, "forest-tipping-note")
    assert note.get_text().startswith(
        ("Tipping point (a departure from MAR, not an effect estimate)", "Tipping point: none (")
    )
    itt = result.results["primary"]["itt"]
    assert any(t.startswith(plots._signed(itt["estimate"])) for t in _texts(fig))


def test_forest_survives_missing_estimates(small: AnalysisResult) -> None:
    results = copy.deepcopy(small.results)
    results["primary"]["cace"] = {
        "estimate": None,
        "se": None,
        "ci95": [None, None],
        "p": None,
        "n": 12,
    }
    results["primary"]["itt_mi"]["ci95"] = [None, 3.0]
    del results["secondary"]["pf_longitudinal"]["arm_effect_by_timepoint"]["w4"]
    fig = plots.forest_figure(results)
    ax = fig.axes[0]
    rows = {t.get_text(): t.get_position()[1] for t in ax.get_yticklabels()}
    missing = {t.get_position()[1] for t in _by_gid(fig, "forest-not-estimable")}
    assert missing >= {
        rows["CACE, 2SLS (effect of receiving same-day)"],
        rows["ITT, multiple imputation (MAR)"],
        rows["Random-intercept model, week 4"],
    }
    shown = {t.get_position()[1] for t in _by_gid(fig, "forest-estimate")}
    assert rows["ITT, ANCOVA, complete case"] in shown and not shown & missing


def test_forest_shows_the_first_stage_f_and_warns_below_ten(small: AnalysisResult) -> None:
    """Everyone refuses: the CACE's CI spans ± 300,000 points; the axis ignores it."""
    results = copy.deepcopy(small.results)
    results["primary"]["cace"].update(
        estimate=-5725.5,
        ci95=[-320636.8, 309185.8],
        first_stage={"f_statistic": 0.0014, "weak": True},
    )
    results["primary"]["itt"].update(estimate=4.0, ci95=[-2.0, 10.0])
    fig = plots.forest_figure(results)
    assert any("first-stage F = 0.0014; weak instrument" in t for t in _texts(fig))
    assert any(t.startswith("−5,725.5 (−320,636.8 to 309,185.8)") for t in _texts(fig))
    xmin, xmax = fig.axes[0].get_xlim()
    assert -plots.FOREST_CAP <= xmin < -2.0 and 10.0 < xmax <= plots.FOREST_CAP
    assert len(_by_gid(fig, "forest-off-scale")) >= 2  # arrows at both edges


def test_tipping_figure_marks_the_tipping_delta(result: AnalysisResult) -> None:
    s = result.results["sensitivity"]
    fig = plots.tipping_figure(s["tipping_point"], 7.25, mcse=0.5)
    assert _by_gid(fig, "tipping-delta")[0].get_text() == (
        "tipping point δ = 7.2 (Monte-Carlo SE 0.50)"
    )
    (band,) = _by_gid(fig, "tipping-mcse")
    assert band.get_x() == pytest.approx(7.25 - 0.98)
    deltas = [r["delta"] for r in s["tipping_point"]]
    assert fig.axes[0].get_xlim() == (min(deltas) - 0.5, max(deltas) + 0.5)
    assert _by_gid(plots.tipping_figure([], None, "no data"), "not-estimable")
    for delta in (min(deltas) + 0.5, max(deltas) - 0.5):  # near either edge: still inside
        fig = plots.tipping_figure(s["tipping_point"], delta, mcse=0.5)
        fig.canvas.draw()
        (label,) = _by_gid(fig, "tipping-delta")
        width, _ = fig.canvas.get_width_height()
        extent = label.get_window_extent()
        assert extent.x0 >= 0 and extent.x1 <= width


def test_tipping_shift_direction_reaches_the_labels() -> None:
    rows = [
        {
            "delta": d,
            "shift": d,
            "estimate": -5 + d / 4,
            "ci95": [-9 + d / 4, -1 + d / 4],
            "p": 0.01,
        }
        for d in range(0, 21)
    ]
    fig = plots.tipping_figure(rows, None)
    assert "raised by δ" in fig.axes[0].get_xlabel()
    labels = [r.label for r in plots.forest_rows({"sensitivity": {"tipping_point": rows}})]
    assert "MI (MNAR), imputed same-day PF +10 points" in labels
    assert plots._tipping_sentence(
        {
            "sensitivity": {
                "tipping_point": rows,
                "tipping_delta": None,
                "notes": {"tipping_delta": "the conclusion did not change"},
            }
        }
    ) == ("Tipping point: none (the conclusion did not change).")


# ---------------------------------------------------------------------- CONSORT
def _box(fig: Figure, name: str) -> str:
    (text,) = _by_gid(fig, f"consort-{name}")
    return text.get_text()


def test_consort_boxes_hold_the_counts(result: AnalysisResult) -> None:
    c = result.results["consort"]
    fig = plots.consort_figure(c)
    i, k = c["intervention"], c["control"]
    expected = {
        "cohort": c["cohort"],
        "not_screened": c["cohort"] - c["screened"],
        "screened": c["screened"],
        "consented": c["randomization_consent"],
        "eligible": c["eligible"],
        "eligible_not_randomized": c["eligible_not_randomized"],
        "randomized": c["randomized"],
        "allocated_intervention": i["allocated"],
        "allocated_control": k["allocated"],
        "offered": i["offered"],
        "not_offered": i["not_offered"],
        "analysed_intervention": i["analysed_primary"],
        "analysed_control": k["analysed_primary"],
        "follow_up_intervention": i["allocated"] - i["analysed_primary"],
        "no_consent": c["no_consent"]["no"] + c["no_consent"]["postponed"],
        "not_eligible": c["not_eligible"]["ineligible"],
    }
    for name, n in expected.items():
        assert f"(n = {n:,})" in _box(fig, name), name
    assert f"declined: {i['refused']:,}" in _box(fig, "offered")
    assert f"accepted: {i['accepted']:,}" in _box(fig, "offered")
    assert f"died before week 4: {k['follow_up']['died_before_w4']:,}" in _box(
        fig, "follow_up_control"
    )
    assert f"Eligibility pending (n = {c['not_eligible']['pending']:,})" in _box(
        fig, "not_eligible"
    )


def _arrow_points(fig: Figure, source: str, target: str) -> tuple[np.ndarray, np.ndarray]:
    (arrow,) = _by_gid(fig, f"consort-arrow-{source}-{target}")
    return np.asarray(arrow.xyann), np.asarray(arrow.xy)


def test_consort_flow_runs_from_each_whole_arm_to_its_analysis(small: AnalysisResult) -> None:
    fig = plots.consort_figure(small.results["consort"])
    into = {(a.source, a.target) for a in FLOW_ARROWS}
    assert ("follow_up_intervention", "analysed_intervention") in into
    assert ("allocated_intervention", "follow_up_intervention") in into
    # Nothing leaves the offered/accepted box: accepting is not a route to analysis.
    assert not any(a.source in ("offered", "not_offered") for a in FLOW_ARROWS)
    allocated = _by_gid(fig, "consort-allocated_intervention")[0].get_position()
    for source, target in (
        ("allocated_intervention", "follow_up_intervention"),
        ("follow_up_intervention", "analysed_intervention"),
    ):
        start, end = _arrow_points(fig, source, target)
        assert start[0] == end[0] == pytest.approx(allocated[0])  # one vertical trunk
    for side in ("offered", "not_offered"):  # branches leave that trunk sideways
        start, end = _arrow_points(fig, "allocated_intervention", side)
        assert start[0] == pytest.approx(allocated[0]) and start[1] == end[1]


def test_consort_exclusions_sit_at_their_step(small: AnalysisResult) -> None:
    fig = plots.consort_figure(small.results["consort"])
    y = {
        name: _by_gid(fig, f"consort-{name}")[0].get_position()[1]
        for name in (
            "cohort",
            "not_screened",
            "screened",
            "no_consent",
            "consented",
            "not_eligible",
            "eligible",
            "eligible_not_randomized",
            "randomized",
        )
    }
    assert y["cohort"] > y["not_screened"] > y["screened"]
    assert y["screened"] > y["no_consent"] > y["consented"]
    assert y["consented"] > y["not_eligible"] > y["eligible"]
    assert y["eligible"] > y["eligible_not_randomized"] > y["randomized"]
    start, _ = _arrow_points(fig, "eligible", "eligible_not_randomized")
    assert start[0] == pytest.approx(_by_gid(fig, "consort-eligible")[0].get_position()[0])


@pytest.mark.parametrize("size", ["small", "large"])
def test_consort_boxes_do_not_overlap_and_fit_the_figure(
    size: str, request: pytest.FixtureRequest
) -> None:
    fig = plots.consort_figure(request.getfixturevalue(size).results["consort"])
    fig.canvas.draw()
    boxes = {
        b.name: _by_gid(fig, f"consort-{b.name}")[0].get_bbox_patch().get_window_extent()
        for b in flow_boxes(request.getfixturevalue(size).results["consort"])
    }
    width, height = fig.canvas.get_width_height()
    for name, box in boxes.items():
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height, name
    names = list(boxes)
    for a_index, a in enumerate(names):
        for b in names[a_index + 1 :]:
            assert not boxes[a].overlaps(boxes[b]), (a, b)


# ------------------------------------------------------------ whole run, degenerate
def test_every_figure_is_written_for_a_tiny_interim(tmp_path: Path) -> None:
    """4 participants: several analyses are not estimable; every figure still renders."""
    result = _analyse(4, 2, tmp_path)
    result.results["primary"]["itt"] = {
        "estimate": None,
        "se": None,
        "ci95": [None, None],
        "p": None,
        "n": 2,
    }
    out = tmp_path / "out"
    out.mkdir()
    svgs = plots.save_figures(result, out)
    assert set(svgs) == set(plots.FIGURE_CAPTIONS)
    for name in plots.FIGURE_CAPTIONS:
        assert (out / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        assert svgs[name].startswith("<svg")
    assert "not estimable" in svgs["forest"]


def test_missing_artifacts_give_not_estimable_figures() -> None:
    result = AnalysisResult(
        results={
            "meta": {
                "not_estimable": [
                    "cost-effectiveness: not estimable from these data (ValueError: empty)"
                ]
            },
            "consort": {},
            "cea": {"ceac": []},
            "sensitivity": {},
        },
        artifacts={},
    )
    makers = plots.figure_makers(result)
    for name in ("ce_plane", "ceac", "tipping_point", "pf_over_time"):
        fig = makers[name]()
        assert _by_gid(fig, "not-estimable"), name
    text = _by_gid(makers["ceac"](), "not-estimable")[0].get_text()
    assert text.endswith("not estimable\nValueError: empty")  # said once, with the reason
