"""Trial design for BLEND (pure; no Django): analytic sample size and ADEMP power simulation.

- :mod:`.samplesize`: ANCOVA sample size with refusal and loss inflation, and its reverse.
- :mod:`.scenario`: simulation scenarios and TOML grids, with a seed per scenario.
- :mod:`.dgm`: the data-generating mechanism and the true estimands.
- :mod:`.estimators`: closed-form OLS, 2SLS and MI batched over replicates.
- :mod:`.simulate`: running scenarios in parallel and the performance measures.
- :mod:`.output`: CSV, JSON and the power-versus-n plot.

Documented in ``docs/design.md``.
"""

from __future__ import annotations

from .samplesize import Assumptions, DesignInputError, analytic_power, detectable_delta, sample_size
from .scenario import Scenario, ScenarioError, load_grid

__all__ = [
    "Assumptions",
    "DesignInputError",
    "Scenario",
    "ScenarioError",
    "analytic_power",
    "detectable_delta",
    "load_grid",
    "sample_size",
]
