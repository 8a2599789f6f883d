"""The randomization design as configured data, its canonical JSON and the commitment.

``DesignSpec`` is parsed from the protocol section ``randomization``
(``defaults/randomization.toml`` or the trial team's override). Its canonical JSON is
what the SHA-256 commitment covers, so an auditor can recompute the commitment from
the published JSON and the revealed seed:

    commitment = SHA-256( canonical_json  ‖  "\\n"  ‖  seed as 64 lowercase hex characters )

all UTF-8 (the JSON is pure ASCII). In a shell:
``printf '%s\\n%s' "$CANONICAL_JSON" "$SEED_HEX" | sha256sum``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .designs import (
    BigStick,
    Design,
    DesignError,
    Minimisation,
    PermutedBlocks,
    Profile,
    Ratio,
    SimpleRandomization,
)
from .rng import parse_seed

ALGORITHM = "blend-randomization/1"
DESIGNS = ("bsd", "blocks", "minimisation", "simple")
WHERE = "randomization.toml"

Levels = tuple[tuple[str, tuple[str, ...]], ...]


class SpecError(DesignError):
    """The ``randomization`` protocol section is malformed."""


@dataclass(frozen=True)
class DesignSpec:
    """A design name, its parameters, the allocation ratio and the stratification factors."""

    design: str = "bsd"
    ratio: Ratio = Ratio()
    mti: int = 3
    block_multiples: tuple[int, ...] = (1, 2, 3)
    p: float = 0.8
    factors: Levels = ()
    weights: tuple[float, ...] = ()
    strata: Levels = ()

    def __post_init__(self) -> None:
        if self.design not in DESIGNS:
            raise SpecError(
                f"{WHERE}: design: expected one of {list(DESIGNS)}, got {self.design!r}"
            )
        self.build()  # validates the parameters of the chosen design

    def build(self) -> Design:
        """The design object that allocates."""
        if self.design == "bsd":
            return BigStick(mti=self.mti, ratio=self.ratio)
        if self.design == "blocks":
            return PermutedBlocks(multiples=self.block_multiples, ratio=self.ratio)
        if self.design == "minimisation":
            return Minimisation(
                factors=self.factors, p=self.p, weights=self.weights, ratio=self.ratio
            )
        return SimpleRandomization(ratio=self.ratio)

    def parameters(self) -> dict[str, Any]:
        """Only the parameters the chosen design uses (the others do not enter the hash)."""
        if self.design == "bsd":
            return {"mti": self.mti}
        if self.design == "blocks":
            return {"block_multiples": list(self.block_multiples)}
        if self.design == "minimisation":
            weights = self.weights or (1.0,) * len(self.factors)
            return {
                "p": float(self.p),
                "factors": [
                    {"name": name, "levels": list(levels), "weight": float(w)}
                    for (name, levels), w in zip(self.factors, weights, strict=True)
                ],
            }
        return {}

    def as_dict(self) -> dict[str, Any]:
        return {
            "algorithm": ALGORITHM,
            "design": self.design,
            "parameters": self.parameters(),
            "ratio": str(self.ratio),
            "strata": [{"name": name, "levels": list(levels)} for name, levels in self.strata],
        }

    def canonical_json(self) -> str:
        """Sorted keys, no whitespace, ASCII only: byte-for-byte reproducible."""
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    @property
    def profile_factors(self) -> tuple[str, ...]:
        """The factors whose levels a participant's profile holds: the stratification
        factors, then (minimisation only) the balancing factors."""
        balancing = self.factors if self.reads_previous_profiles else ()
        return tuple(name for name, _ in (*self.strata, *balancing))

    @property
    def reads_previous_profiles(self) -> bool:
        """Whether the next arm depends on the earlier participants' factor levels as well as
        their arms (minimisation), so the allocator must pass ``previous_profiles``."""
        return self.design == "minimisation"

    def stratum_of(self, profile: Profile | None) -> str:
        """The stratum key, e.g. ``"centre=UMCU"`` or ``"centre=UMCU|ambulatory=no"``; "" unstratified."""
        if not self.strata:
            return ""
        parts = []
        for name, levels in self.strata:
            value = None if profile is None else profile.get(name)
            if value not in levels:
                raise SpecError(
                    f"stratum factor {name}: expected one of {list(levels)}, got {value!r}"
                )
            parts.append(f"{name}={value}")
        return "|".join(parts)

    def strata_keys(self) -> list[str]:
        """Every stratum key, in configuration order."""
        keys = [""]
        for name, levels in self.strata:
            keys = [f"{k}|{name}={v}" if k else f"{name}={v}" for k in keys for v in levels]
        return keys


def commitment(seed: bytes | str, spec: DesignSpec) -> str:
    """SHA-256 hex of canonical JSON ‖ LF ‖ seed hex (lowercase); see the module docstring."""
    return commitment_of_json(seed, spec.canonical_json())


def commitment_of_json(seed: bytes | str, canonical_json: str) -> str:
    """The commitment over a design's canonical JSON as published (or as recorded), so an
    auditor checks the recorded digest without parsing the design again."""
    seed_hex = parse_seed(seed).hex()
    return hashlib.sha256(f"{canonical_json}\n{seed_hex}".encode()).hexdigest()


def _levels(value: Any, where: str) -> Levels:
    if not isinstance(value, Mapping):
        raise SpecError(f"{WHERE}: {where}: expected a table of factor = [levels], got {value!r}")
    out = []
    for name, levels in value.items():
        if (
            not isinstance(levels, list)
            or len(levels) < 2
            or not all(isinstance(v, str) for v in levels)
        ):
            raise SpecError(
                f"{WHERE}: {where}.{name}: expected a list of at least 2 level names, got {levels!r}"
            )
        if any(c in name + "".join(levels) for c in "|=\x00"):
            raise SpecError(
                f"{WHERE}: {where}.{name}: names and levels may not contain '|', '=' or NUL"
            )
        out.append((str(name), tuple(levels)))
    return tuple(out)


def _table(section: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    table = section.get(name, {})
    if not isinstance(table, Mapping):
        raise SpecError(f"{WHERE}: [{name}]: expected a table, got {table!r}")
    return table


def _int_list(value: Any, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
        raise SpecError(f"{WHERE}: {where}: expected a list of integers, got {value!r}")
    return tuple(value)


def spec_from_section(section: Mapping[str, Any]) -> DesignSpec:
    """Parse and validate the ``randomization`` protocol section."""
    known = {"design", "ratio", "strata", "bsd", "blocks", "minimisation"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise SpecError(f"{WHERE}: unknown keys {unknown}; expected some of {sorted(known)}")
    bsd, blocks, mini = (_table(section, n) for n in ("bsd", "blocks", "minimisation"))
    weights = mini.get("weights", [])
    if not isinstance(weights, list) or not all(isinstance(w, int | float) for w in weights):
        raise SpecError(
            f"{WHERE}: minimisation.weights: expected a list of numbers, got {weights!r}"
        )
    try:
        return DesignSpec(
            design=str(section.get("design", "bsd")),
            ratio=Ratio.parse(section.get("ratio", "1:1")),
            mti=bsd.get("mti", 3),
            block_multiples=_int_list(
                blocks.get("block_multiples", [1, 2, 3]), "blocks.block_multiples"
            ),
            p=mini.get("p", 0.8),
            factors=_levels(mini.get("factors", {}), "minimisation.factors"),
            weights=tuple(float(w) for w in weights),
            strata=_levels(section.get("strata", {}), "strata"),
        )
    except SpecError:
        raise
    except DesignError as error:
        raise SpecError(f"{WHERE}: {error}") from error


def load_spec() -> DesignSpec:
    """The trial's design from the protocol configuration."""
    from blend.protocol import load_protocol

    return spec_from_section(load_protocol().section("randomization"))
