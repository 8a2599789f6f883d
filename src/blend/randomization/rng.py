"""Concealed, reproducible uniforms: HMAC-SHA256 in counter mode from a secret seed.

The k-th uniform of a stratum is

    u_k = (first 8 bytes of HMAC-SHA256(key=seed, msg=DOMAIN ‖ 0x00 ‖ stratum ‖ 0x00 ‖ k)) >> 11
          ------------------------------------------------------------------------------
                                            2^53

with ``stratum`` UTF-8 encoded and ``k`` an 8-byte big-endian unsigned integer.
Nothing is pre-stored: the allocation service recomputes u_k on demand, an auditor
given the revealed seed recomputes every u_k, and without the seed u_k is
cryptographically unpredictable (HMAC is a PRF). Using the top 53 bits gives every
double in [0, 1) on the grid j / 2^53 with equal probability.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from collections.abc import Sequence
from typing import overload

DOMAIN = b"blend-randomization/1"
SEED_BYTES = 32
_TWO_53 = float(2**53)


class SeedError(ValueError):
    """The randomization seed is missing or malformed."""


def parse_seed(value: str | bytes, *, field: str = "seed") -> bytes:
    """Return the 32 raw seed bytes from 64 hex characters (str) or 32 raw bytes.

    Surrounding whitespace (e.g. a trailing newline in a secret file) is ignored.
    """
    if isinstance(value, bytes | bytearray):
        if len(value) == SEED_BYTES:
            return bytes(value)
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            raise SeedError(
                f"{field}: expected {SEED_BYTES} raw bytes or 64 hex characters, "
                f"got {len(value)} non-ASCII bytes"
            ) from None
    text = value.strip()
    if len(text) != 2 * SEED_BYTES:
        raise SeedError(
            f"{field}: expected 64 hexadecimal characters (a 256-bit seed), got {len(text)} characters"
        )
    bad = sorted({c for c in text if c not in string.hexdigits})
    if bad:
        raise SeedError(
            f"{field}: expected only hexadecimal characters 0-9a-f, got {''.join(bad)!r}"
        )
    return bytes.fromhex(text)


def new_seed_hex() -> str:
    """A fresh secret seed from the OS CSPRNG, as 64 lowercase hex characters."""
    return secrets.token_hex(SEED_BYTES)


def _message(stratum: str, k: int) -> bytes:
    if "\x00" in stratum:
        raise ValueError(f"stratum: expected no NUL character, got {stratum!r}")
    if not 0 <= k < 2**64:
        raise ValueError(f"k: expected an integer in [0, 2^64), got {k!r}")
    return DOMAIN + b"\x00" + stratum.encode("utf-8") + b"\x00" + k.to_bytes(8, "big")


class HmacStream:
    """Deterministic uniforms u(stratum, k) in [0, 1) keyed by a secret 256-bit seed."""

    __slots__ = ("_keyed",)

    def __init__(self, seed: bytes | str) -> None:
        # Keyed once; each uniform copies the keyed state (cheaper than re-keying).
        self._keyed = hmac.new(parse_seed(seed), digestmod=hashlib.sha256)

    def __repr__(self) -> str:  # never print the seed
        return "HmacStream(<secret seed>)"

    def uniform(self, stratum: str, k: int) -> float:
        """The k-th (0-based) uniform of ``stratum``; same seed, stratum and k → same value."""
        mac = self._keyed.copy()
        mac.update(_message(stratum, k))
        digest = mac.digest()
        return (int.from_bytes(digest[:8], "big") >> 11) / _TWO_53

    def uniforms(self, stratum: str, n: int, start: int = 0) -> list[float]:
        """u(stratum, start), ..., u(stratum, start + n - 1)."""
        return [self.uniform(stratum, k) for k in range(start, start + n)]

    def lazy(self, stratum: str, n: int) -> LazyUniforms:
        """u(stratum, 0 … n−1) computed only when read (BSD and minimisation read only the last)."""
        return LazyUniforms(self, stratum, n)


class LazyUniforms(Sequence[float]):
    """A read-only sequence u_0 … u_{n−1} of one stratum, each computed on first access."""

    def __init__(self, stream: HmacStream, stratum: str, n: int) -> None:
        self._stream, self._stratum, self._n = stream, stratum, n
        self._cache: dict[int, float] = {}

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> float: ...
    @overload
    def __getitem__(self, index: slice) -> list[float]: ...

    def __getitem__(self, index: int | slice) -> float | list[float]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._n))]
        k = index + self._n if index < 0 else index
        if not 0 <= k < self._n:
            raise IndexError(f"uniform index {index} out of range for {self._n} uniforms")
        if k not in self._cache:
            self._cache[k] = self._stream.uniform(self._stratum, k)
        return self._cache[k]
