"""matplotlib for the analysis' figures: 2-D only, the Agg canvas, imported when drawn.

Every module that draws (plots, acceptance_plot, engagement) takes matplotlib from here,
and only modules that draw import this one, so `blend analyze` pays for matplotlib in the
step that writes the figures and an analysis without figures never imports it.

Importing `matplotlib.figure` imports `matplotlib.projections`, which imports the 3-D
toolkit `mpl_toolkits.mplot3d` only to register a "3d" projection: a sizeable part of
matplotlib's import (issue 15) that no figure here uses. matplotlib treats a toolkit that
cannot be imported as "3-D not available", so while the projections are imported the
toolkit is hidden (`sys.modules[name] = None` makes importing it fail) and the warning
matplotlib gives for that is silenced; the entry is removed again afterwards. The one
consequence: in a process that drew a BLEND figure first, `projection="3d"` is unknown.
"""

from __future__ import annotations

import sys
import warnings

_TOOLKIT_3D = "mpl_toolkits.mplot3d"


def _import_projections_without_3d() -> None:
    if "matplotlib.projections" in sys.modules:
        return  # imported before us (with or without 3-D): nothing left to decide
    hide = _TOOLKIT_3D not in sys.modules
    if hide:
        sys.modules[_TOOLKIT_3D] = None  # type: ignore[assignment]
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Unable to import Axes3D")
            import matplotlib.projections  # noqa: F401
    finally:
        if hide and sys.modules.get(_TOOLKIT_3D, ...) is None:
            del sys.modules[_TOOLKIT_3D]


_import_projections_without_3d()

# The figure machinery itself, after the projections (hence not at the top of the module).
import matplotlib  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402

__all__ = [
    "AutoDateLocator",
    "ConciseDateFormatter",
    "Figure",
    "FigureCanvasAgg",
    "FuncFormatter",
    "MaxNLocator",
    "PercentFormatter",
    "blended_transform_factory",
    "matplotlib",
]
