"""Fixtures of the analysis tests: the fixed CSV data of `data/` and synthetic datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def synthetic_100(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid 100-participant contract dataset (seed 1), written once per session."""
    from blend.stats.synthetic import make_dataset

    return make_dataset(100, 1, tmp_path_factory.mktemp("synthetic") / "s100")
