"""`blend analyze` imports what it draws when it draws it (issue 15), and the faster
bootstrap sums give the very numbers the earlier gather gave."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from blend.stats.cea import _resample_means


def _loaded_after(code: str) -> set[str]:
    probe = (
        f"{code}\nimport sys\n"
        "print(' '.join(m for m in ('matplotlib', 'mpl_toolkits.mplot3d') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_the_analysis_and_its_report_do_not_import_matplotlib() -> None:
    assert (
        _loaded_after("import blend.stats.analysis, blend.stats.report, blend.stats.cli") == set()
    )


def test_drawing_imports_matplotlib_but_never_the_3d_toolkit() -> None:
    code = (
        "from blend.stats.plots import new_figure\n"
        "fig = new_figure(2, 2)\nfig.add_subplot().plot([0, 1], [1, 0])\n"
        "import io\nfig.savefig(io.BytesIO(), format='png')"
    )
    assert _loaded_after(code) == {"matplotlib"}


def test_resample_means_equal_the_paired_gather_to_the_bit() -> None:
    """The earlier code took pairs[index].mean(axis=1) on a (replicates, n, 2) gather."""
    rng = np.random.default_rng(15)
    for n in (1, 7, 250, 4001):
        qaly, cost = rng.random(n), rng.gamma(2.0, 5000.0, n)
        index = rng.integers(0, n, (37, n))
        earlier = np.column_stack([qaly, cost])[index].mean(axis=1)
        assert np.array_equal(_resample_means(index, qaly, cost), earlier)
