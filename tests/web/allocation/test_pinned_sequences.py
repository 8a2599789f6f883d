"""The live allocator's arms, pinned: the first 50 allocations of each design for the
test seed, recorded from the service before it was moved onto the pure engine. Any
change to how the service reads the seed, the stratum history or the earlier profiles
shows here as a different string (I = intervention, C = control)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from blend.apps.allocation.services import randomize
from blend.apps.allocation.verification import verify
from blend.apps.screening.services import confirm_eligibility
from blend.protocol import load_protocol
from tests.web.screening.flow import PASSWORD, screen

pytestmark = pytest.mark.django_db
TEST_SEED = "5eed" * 16  # blend.web.test_settings
N = 50

DESIGNS = {
    "bsd": 'design = "bsd"\n[bsd]\nmti = 3\n',
    "blocks stratified": 'design = "blocks"\nstrata = { levels_to_bridge = ["3", "4"] }\n',
    "minimisation": (
        'design = "minimisation"\nstrata = { levels_to_bridge = ["3", "4"] }\n'
        '[minimisation]\np = 0.8\nfactors = { bilsky_grade = ["1a", "1b"], '
        'sins_total = ["8", "9", "10"] }\nweights = [2, 1]\n'
    ),
    "simple 2:1 stratified": 'design = "simple"\nratio = "2:1"\nstrata = { levels_to_bridge = ["3", "4"] }\n',
}

PINNED = {
    "bsd": "IICCICCCIICIICIIICICICICICCCICICCCCIIICICIICCIIIIC",
    "blocks stratified": "IICCCCCIICIICICIIICCICCICIICCICICIICIICCICICICCIIC",
    "minimisation": "IICCIIIICICCICICCICCICIIIICCICIICCCCCIICCIICIICICC",
    "simple 2:1 stratified": "IIIIICCIIIIICICIIIIICCCICICCIICIIIIICIIIICICIIIIII",
}


@pytest.fixture
def design(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A trial team's randomization.toml (BLEND_PROTOCOL_DIR) for the length of one test."""
    (tmp_path / "randomization.toml").write_text(DESIGNS[request.param], encoding="utf-8")
    monkeypatch.setenv("BLEND_PROTOCOL_DIR", str(tmp_path))
    load_protocol.cache_clear()
    yield request.param
    monkeypatch.delenv("BLEND_PROTOCOL_DIR")
    load_protocol.cache_clear()


def _screening_facts(rng: random.Random) -> dict[str, object]:
    """Factor levels that leave the participant eligible, varied so strata and minimisation matter."""
    return {
        "levels_to_bridge": rng.choice([3, 4]),
        "bilsky_grade": rng.choice(["1a", "1b"]),
        "sins_total": rng.choice([8, 9, 10]),
    }


@pytest.mark.parametrize("design", list(DESIGNS), indirect=True)
def test_the_first_fifty_arms_of_each_design_are_unchanged(
    design, make_participant, personas
) -> None:
    rng = random.Random(20250310)
    arms = []
    for _ in range(N):
        participant = make_participant()
        screen(participant, personas["nurse_nina"], **_screening_facts(rng))
        confirm_eligibility(participant, user=personas["investigator_ivo"], password=PASSWORD)
        arms.append(randomize(participant, user=personas["nurse_nina"]).arm)
    assert "".join("I" if arm == "intervention" else "C" for arm in arms) == PINNED[design]
    report = verify(TEST_SEED)
    assert report.ok and report.regenerated, report.problems
