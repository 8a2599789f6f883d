"""A simulation scenario: data-generating mechanism, methods and run settings.

Scenarios come from command-line arguments or a TOML grid (``load_grid``). Each has its
own seed, derived from the root seed and a hash of its own parameters, so that adding,
removing or reordering scenarios changes no other scenario's result.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

MECHANISMS = ("mcar", "mar", "mnar")
DESIGNS = ("bsd", "blocks", "simple")
SE_TYPES = ("model", "robust")
# Not part of a scenario's identity: changing them must not change the random streams.
RUN_SETTINGS = ("name", "reps")


class ScenarioError(ValueError):
    """A scenario parameter is out of range or unknown."""


@dataclass(frozen=True)
class Scenario:
    """One ADEMP scenario. Proportions are of the randomized participants unless stated."""

    name: str = ""
    n: int = 100  # total randomized
    delta: float = 10.0  # effect of receiving the intervention, among acceptors
    sd: float = 20.0  # SD of PF (baseline and 4 weeks, latent scale)
    rho: float = 0.5  # baseline–4-week correlation
    mean: float = 40.0  # mean PF (latent scale) at baseline and, untreated, at 4 weeks
    refusal: float = 0.0  # proportion of the intervention arm refusing the offer
    refusal_prognosis: float = 0.0  # probit slope of refusal on poor prognosis X (0 = random)
    noncompletion: float = 0.0  # accepted but not completed (among acceptors)
    death: float = 0.0  # death before week 4
    death_prognosis: float = 1.0  # probit slope of death on poor prognosis X
    missing: float = 0.0  # PROM non-response among survivors
    missing_mechanism: str = "mar"  # mcar | mar (on baseline PF) | mnar (on the 4-week PF)
    missing_strength: float = 0.5  # probit slope of non-response on its driver
    prognosis_corr: float = 0.5  # correlation of poor prognosis X with low baseline PF
    effect_prognosis: float = 0.0  # Δ_i = Δ + this × X (effect heterogeneity)
    continuous: bool = False  # False: PF snapped to the C15-PAL grid, clipped to [0, 100]
    design: str = "bsd"  # randomization design (blend.randomization)
    mti: int = 3
    alpha: float = 0.05
    se: str = "model"  # model (OLS / unadjusted 2SLS) | robust (HC3 / robust 2SLS)
    mi: int = 0  # imputations for MI-ITT (0 = off)
    reps: int = 5000
    seed: int = 3  # root seed
    population: int = 1_000_000  # size of the population for the true estimands

    def __post_init__(self) -> None:
        self._check_ranges()
        for key, allowed in (
            ("missing_mechanism", MECHANISMS),
            ("design", DESIGNS),
            ("se", SE_TYPES),
        ):
            if getattr(self, key) not in allowed:
                raise ScenarioError(
                    f"{key}: expected one of {list(allowed)}, got {getattr(self, key)!r}"
                )
        if not self.name:
            object.__setattr__(self, "name", self.default_name())

    def _check_ranges(self) -> None:
        proportions = ("refusal", "noncompletion", "death", "missing")
        for key in proportions:
            value = getattr(self, key)
            if not 0 <= value < 1:
                raise ScenarioError(f"{key}: expected a proportion in [0, 1), got {value!r}")
        rules = {
            "n": (self.n >= 8, "an integer of at least 8"),
            "sd": (self.sd > 0, "a positive number"),
            "rho": (-1 < self.rho < 1, "a correlation in (-1, 1)"),
            "prognosis_corr": (-1 < self.prognosis_corr < 1, "a correlation in (-1, 1)"),
            "alpha": (0 < self.alpha < 1, "a probability in (0, 1)"),
            "reps": (self.reps >= 2, "an integer of at least 2"),
            "mi": (self.mi == 0 or self.mi >= 2, "0 (off) or at least 2 imputations"),
            "population": (self.population >= 1000, "an integer of at least 1000"),
            "mti": (self.mti >= 1, "a positive integer"),
        }
        for key, (ok, expected) in rules.items():
            if not ok:
                raise ScenarioError(f"{key}: expected {expected}, got {getattr(self, key)!r}")

    def default_name(self) -> str:
        return (
            f"n={self.n} delta={self.delta:g} refusal={self.refusal:g} "
            f"death={self.death:g} missing={self.missing:g}"
        )

    def identity(self) -> dict[str, Any]:
        """The parameters that define the random streams (everything but name and reps)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in RUN_SETTINGS}

    def entropy(self) -> list[int]:
        """Root seed plus 4 words of SHA-256 of the canonical identity JSON."""
        text = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(text.encode()).digest()
        return [self.seed, *(int.from_bytes(digest[i : i + 4], "big") for i in range(0, 16, 4))]


# The annotations are strings ("int", "float" ...): the module uses postponed evaluation.
FIELD_TYPES: dict[str, str] = {f.name: str(f.type) for f in fields(Scenario)}
_CASTS = {"int": int, "float": float, "bool": bool, "str": str}


def make_scenario(values: Mapping[str, Any], where: str = "scenario") -> Scenario:
    """A Scenario from a mapping, naming unknown keys and wrongly typed values."""
    unknown = sorted(set(values) - set(FIELD_TYPES))
    if unknown:
        raise ScenarioError(
            f"{where}: unknown keys {unknown}; expected some of {sorted(FIELD_TYPES)}"
        )
    clean: dict[str, Any] = {}
    for key, value in values.items():
        kind = FIELD_TYPES[key]
        if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, _CASTS[kind]) or (kind == "int" and isinstance(value, bool)):
            raise ScenarioError(f"{where}.{key}: expected {kind}, got {value!r}")
        clean[key] = value
    try:
        return Scenario(**clean)
    except ScenarioError as error:
        raise ScenarioError(f"{where}: {error}") from error


def expand(values: Mapping[str, Any], where: str) -> list[Scenario]:
    """Every combination of list-valued parameters (a grid) as one Scenario each."""
    grid = {k: v if isinstance(v, list) else [v] for k, v in values.items()}
    varied = [k for k, v in grid.items() if len(v) > 1 and k != "name"]
    out = []
    for combo in itertools.product(*grid.values()):
        chosen = dict(zip(grid, combo, strict=True))
        label = " ".join(
            f"{k}={chosen[k]:g}" if isinstance(chosen[k], float) else f"{k}={chosen[k]}"
            for k in varied
        )
        if "name" in chosen:
            chosen["name"] = f"{chosen['name']} {label}".strip()
        out.append(make_scenario(chosen, where))
    return out


def load_grid(path: str | Path, overrides: Mapping[str, Any] | None = None) -> list[Scenario]:
    """Scenarios from a TOML file: top-level keys are defaults, ``[[scenario]]`` tables the grid.

    Any value may be a list; a table expands to every combination of its lists.
    ``overrides`` (e.g. ``reps`` or ``seed`` from the command line) replace the defaults.
    """
    import tomllib  # only a grid is TOML: a run from arguments skips its import (issue 15)

    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ScenarioError(f"{path}: cannot read the scenario grid ({error})") from error
    tables = data.pop("scenario", [{}])
    if not isinstance(tables, list):
        raise ScenarioError(f"{path}: expected [[scenario]] tables, got {type(tables).__name__}")
    defaults = {**data, **(overrides or {})}
    scenarios: list[Scenario] = []
    for i, table in enumerate(tables):
        scenarios += expand({**defaults, **table}, f"{path}: scenario[{i}]")
    names = [s.name for s in scenarios]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ScenarioError(f"{path}: scenario names must be unique, repeated: {duplicates}")
    return scenarios
