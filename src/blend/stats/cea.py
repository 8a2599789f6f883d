"""Trial-based cost-effectiveness: QALYs by area under the curve, costs, ICER, INB, bootstrap.

QALYs follow the contract exactly (see `qalys`). The bootstrap resamples
participants with replacement within each arm, keeping each participant's cost
and QALY together (paired), with a seeded `numpy` generator: the same seed gives
the same replicates, the CE plane and the CEAC.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

LAMBDAS = (20_000, 50_000, 80_000)
CEAC_LAMBDAS = np.arange(0, 100_001, 1_000)
_CHUNK = 250  # replicates drawn per batch; fixed so results do not depend on memory


def qalys(participants: pd.DataFrame, assessments: pd.DataFrame, horizon_days: int
          ) -> pd.Series:
    """QALYs per study_id from EQ-5D-5L index values (NaN when no value lies in the horizon).

    - Days are counted from randomized_on; the baseline assessment is placed at day 0.
    - Assessments after the horizon are ignored; there is no interpolation to the horizon.
    - Death on or before the horizon: utility falls linearly from the last value to 0
      at death_date and stays 0.
    - Otherwise the last value is carried forward to the horizon or last_contact,
      whichever comes first.
    - Trapezoids between successive days; days / 365.25 gives years.
    """
    import pandas as pd

    p = participants.set_index("study_id")
    eq = assessments[(assessments["instrument"] == "eq5d5l-nl") & (assessments["scale"] == "index")]
    day = (eq["assessed_on"] - eq["study_id"].map(p["randomized_on"])).dt.days
    day = day.where(eq["timepoint"] != "baseline", 0)
    points = pd.DataFrame({"sid": eq["study_id"], "day": day, "u": eq["value"]})
    points = points[(points["day"] >= 0) & (points["day"] <= horizon_days)]
    ends = _end_points(p, points, horizon_days)
    allp = pd.concat([points, ends], ignore_index=True).sort_values(["sid", "day"], kind="stable")
    same = allp["sid"].eq(allp["sid"].shift())
    width = allp["day"].diff().where(same, 0.0)
    height = (allp["u"] + allp["u"].shift()).where(same, 0.0) / 2
    area = (width * height).groupby(allp["sid"]).sum() / 365.25
    return area.reindex(participants["study_id"]).rename("qaly")


def _end_points(p: pd.DataFrame, points: pd.DataFrame, horizon: int) -> pd.DataFrame:
    import pandas as pd

    last = points.sort_values("day", kind="stable").groupby("sid").last()
    info = p.loc[last.index]
    death_day = (info["death_date"] - info["randomized_on"]).dt.days
    contact_day = (info["last_contact"] - info["randomized_on"]).dt.days
    died = death_day.notna() & (death_day <= horizon)
    end_day = np.where(died, death_day, np.minimum(horizon, contact_day))
    end_day = np.maximum(end_day, last["day"].to_numpy())
    end_u = np.where(died, 0.0, last["u"].to_numpy())
    return pd.DataFrame({"sid": last.index, "day": end_day, "u": end_u})


def costs(participants: pd.DataFrame, cost_rows: pd.DataFrame) -> pd.Series:
    """Total cost per study_id; a participant without cost rows costs 0."""
    total = cost_rows.groupby("study_id")["amount_eur"].sum()
    return total.reindex(participants["study_id"]).fillna(0.0).rename("cost")


class CostEffectivenessAnalysis:
    """Incremental costs and QALYs of intervention vs control with a paired bootstrap.

    fit(df) expects columns `z` (1 = intervention), `cost` and `qaly` (rows with a
    missing QALY are left out of both, so costs and effects share one sample).
    """

    def __init__(self, bootstrap: int = 5000, seed: int = 20260701,
                 lambdas: tuple[int, ...] = LAMBDAS) -> None:
        self.bootstrap = bootstrap
        self.seed = seed
        self.lambdas = lambdas

    def fit(self, df: pd.DataFrame) -> CostEffectivenessAnalysis:
        data = df.dropna(subset=["qaly"])
        z = data["z"].to_numpy() == 1
        self.n_ = {"intervention": int(z.sum()), "control": int((~z).sum()),
                   "excluded_missing_qaly": int(len(df) - len(data))}
        c, e = data["cost"].to_numpy(float), data["qaly"].to_numpy(float)
        self.mean_cost_ = {"intervention": float(c[z].mean()), "control": float(c[~z].mean())}
        self.mean_qaly_ = {"intervention": float(e[z].mean()), "control": float(e[~z].mean())}
        self.delta_cost_ = self.mean_cost_["intervention"] - self.mean_cost_["control"]
        self.delta_qaly_ = self.mean_qaly_["intervention"] - self.mean_qaly_["control"]
        self.icer_ = self.delta_cost_ / self.delta_qaly_ if self.delta_qaly_ != 0 else math.nan
        self.inb_ = {lam: lam * self.delta_qaly_ - self.delta_cost_ for lam in self.lambdas}
        self.replicates_ = self._bootstrap(c[z], e[z], c[~z], e[~z])
        return self

    def _bootstrap(self, c1: np.ndarray, e1: np.ndarray, c0: np.ndarray, e0: np.ndarray
                   ) -> np.ndarray:
        """(B, 2) array of (ΔE_b, ΔC_b) from resampling within arms."""
        rng = np.random.default_rng(self.seed)
        out = np.empty((self.bootstrap, 2))
        # One gather of (QALY, cost) pairs per draw keeps the pairing and halves the work.
        pairs1, pairs0 = np.column_stack([e1, c1]), np.column_stack([e0, c0])
        for start in range(0, self.bootstrap, _CHUNK):
            size = min(_CHUNK, self.bootstrap - start)
            i1 = rng.integers(0, len(c1), (size, len(c1)))
            i0 = rng.integers(0, len(c0), (size, len(c0)))
            out[start:start + size] = (pairs1[i1].mean(axis=1) - pairs0[i0].mean(axis=1))
        return out

    def ceac(self) -> list[list[float]]:
        """P(INB > 0) across the bootstrap for λ = 0 … 100,000 in steps of 1,000."""
        de, dc = self.replicates_[:, 0], self.replicates_[:, 1]
        prob = ((CEAC_LAMBDAS[:, None] * de[None, :] - dc[None, :]) > 0).mean(axis=1)
        return [[int(lam), float(pr)] for lam, pr in zip(CEAC_LAMBDAS, prob, strict=True)]

    def bootstrap_summary(self) -> dict[str, Any]:
        de, dc = self.replicates_[:, 0], self.replicates_[:, 1]
        quadrants = {"NE": (de > 0) & (dc > 0), "SE": (de > 0) & (dc <= 0),
                     "SW": (de <= 0) & (dc <= 0), "NW": (de <= 0) & (dc > 0)}
        return {
            "replicates": self.bootstrap, "seed": self.seed,
            "delta_cost_ci95": np.percentile(dc, [2.5, 97.5]).tolist(),
            "delta_qaly_ci95": np.percentile(de, [2.5, 97.5]).tolist(),
            "inb_ci95": {str(lam): np.percentile(lam * de - dc, [2.5, 97.5]).tolist()
                         for lam in self.lambdas},
            "quadrants": {k: float(v.mean()) for k, v in quadrants.items()},
        }

    @property
    def summary(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame({
            "intervention": [self.mean_cost_["intervention"], self.mean_qaly_["intervention"]],
            "control": [self.mean_cost_["control"], self.mean_qaly_["control"]],
            "difference": [self.delta_cost_, self.delta_qaly_]}, index=["cost", "qaly"])
