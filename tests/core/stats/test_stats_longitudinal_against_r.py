"""The random-intercept REML model against R `nlme::lme` on `data/longitudinal.csv`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest

from blend.stats.linear import design_matrix
from blend.stats.longitudinal import RandomInterceptModel

DATA = Path(__file__).parent / "data"
TPS = ["w1", "w2", "w4", "w6", "w8", "w12", "m6", "m12"]


def test_random_intercept_model_matches_nlme_lme() -> None:
    """R (nlme 3.1):

    l <- read.csv("longitudinal.csv")
    l$tp <- factor(l$tp, levels = c("w1","w2","w4","w6","w8","w12","m6","m12"))
    for (t in levels(l$tp)) l[[paste0("arm_", t)]] <- as.numeric(l$tp == t & l$z == 1)
    f <- lme(pf ~ pf_baseline + tp + arm_w1 + arm_w2 + arm_w4 + arm_w6 + arm_w8 + arm_w12
             + arm_m6 + arm_m12 + factor(stratum), random = ~1 | study_id, data = l,
             method = "REML")
    fixef(f)[c("arm_w4", "arm_m12", "pf_baseline")]
    sqrt(diag(vcov(f)))[c("arm_w4", "arm_m12", "pf_baseline")]
    VarCorr(f)   # intercept variance 18.9458851621373, residual 192.8596182749185
    """
    long = pd.read_csv(DATA / "longitudinal.csv")
    covariates = ["pf_baseline"]
    for t in TPS[1:]:
        long[f"time_{t}"] = (long["tp"] == t).astype(float)
        covariates.append(f"time_{t}")
    for t in TPS:
        long[f"arm_{t}"] = ((long["tp"] == t) & (long["z"] == 1)).astype(float)
        covariates.append(f"arm_{t}")
    x, names = design_matrix(long, covariates, "stratum")
    fit = RandomInterceptModel().fit(x, long["pf"].to_numpy(float), long["study_id"], names)
    table = fit.summary.loc[["arm_w4", "arm_m12", "pf_baseline"]]
    # REML is maximised numerically by both programs: agreement to 1e-5 relative.
    npt.assert_allclose(
        table["estimate"], [7.587852370652927, 13.081517697150247, 0.625308584027771], rtol=1e-5
    )
    npt.assert_allclose(
        table["se"], [3.3517915462637053, 4.9757768012024499, 0.0463620003616735], rtol=1e-5
    )
    npt.assert_allclose([fit.tau2_, fit.sigma2_], [18.9458851621373, 192.8596182749185], rtol=1e-4)


def test_a_saturated_design_has_no_residual_variance_to_estimate() -> None:
    """Found by fuzzing a 4-participant interim: "math domain error" before."""
    from blend.stats.errors import NotEstimable

    rng = np.random.default_rng(0)
    x = np.column_stack([np.ones(6), rng.normal(size=(6, 4))])
    y = x @ np.arange(5.0)  # exactly in the column space
    with pytest.raises(NotEstimable, match="residual variance is zero"):
        RandomInterceptModel().fit(x, y, [1, 1, 2, 2, 3, 3], [f"b{i}" for i in range(5)])
