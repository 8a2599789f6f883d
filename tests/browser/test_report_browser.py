"""The analysis report opens from disk in Chromium, renders every figure, needs no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from blend.stats.cli import main_analyze
from blend.stats.synthetic import make_dataset

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    data = make_dataset(120, 4, root / "data")
    out = root / "out"
    assert (
        main_analyze(
            [
                str(data),
                "--out",
                str(out),
                "--imputations",
                "5",
                "--bootstrap",
                "500",
                "--no-progress",
            ]
        )
        == 0
    )
    return out / "report.html"


def test_report_renders_offline_with_every_figure(page, report: Path) -> None:  # type: ignore[no-untyped-def]
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(report.as_uri())
    assert page.title() == "BLEND trial analysis report"
    assert page.locator("h2", has_text="Participant flow").is_visible()
    figures = page.locator("figure svg")
    assert figures.count() == 8
    for i in range(figures.count()):
        box = figures.nth(i).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 150
    assert page.locator("table").count() >= 8
    assert page.get_by_text("Randomized").first.is_visible()
    # Only the file itself is loaded: no fonts, scripts or images from anywhere else.
    assert requests == [report.as_uri()]
    shot = report.with_name("report.png")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
