"""Randomization designs for BLEND (pure; no Django).

- :mod:`.rng`: concealed, reproducible uniforms (HMAC-SHA256 counter mode, secret seed).
- :mod:`.designs`: big-stick, permuted blocks with random sizes, minimisation, simple.
- :mod:`.spec`: the configured design (protocol section ``randomization``) and the commitment.
- :mod:`.engine`: the next arm of a stratum, a sequence, and replay for verification.
- :mod:`.chain`: the hash chain of the allocation log (computing and checking each record's hash).
- :mod:`.assessment`: balance and predictability by simulation.

Documented in ``docs/randomization-designs.md``.
"""

from __future__ import annotations

from .assessment import assess
from .designs import ARMS, CONTROL, INTERVENTION, DesignError, Ratio
from .engine import allocate_next, replay, sequence
from .rng import HmacStream, SeedError, new_seed_hex, parse_seed
from .spec import (
    ALGORITHM,
    DesignSpec,
    SpecError,
    commitment,
    commitment_of_json,
    load_spec,
    spec_from_section,
)

__all__ = [
    "ALGORITHM",
    "ARMS",
    "CONTROL",
    "INTERVENTION",
    "DesignError",
    "DesignSpec",
    "HmacStream",
    "Ratio",
    "SeedError",
    "SpecError",
    "allocate_next",
    "assess",
    "commitment",
    "commitment_of_json",
    "load_spec",
    "new_seed_hex",
    "parse_seed",
    "replay",
    "sequence",
    "spec_from_section",
]
