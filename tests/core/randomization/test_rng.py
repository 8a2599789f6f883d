"""The HMAC-SHA256 counter-mode stream: reproducible, documented bytes, clear seed errors."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from blend.randomization.rng import HmacStream, SeedError, new_seed_hex, parse_seed

SEED = "5eed" * 16


def test_same_seed_stratum_and_k_give_the_same_uniform() -> None:
    a, b = HmacStream(SEED), HmacStream(bytes.fromhex(SEED))
    assert [a.uniform("centre=UMCU", k) for k in range(50)] == [
        b.uniform("centre=UMCU", k) for k in range(50)
    ]


def test_uniform_follows_the_documented_formula() -> None:
    """Recompute u_k exactly as docs/randomization-designs.md tells an auditor to."""
    seed = bytes.fromhex(SEED)
    for stratum, k in [("", 0), ("", 17), ("centre=UMCU", 3)]:
        msg = b"blend-randomization/1\x00" + stratum.encode() + b"\x00" + k.to_bytes(8, "big")
        digest = hmac.new(seed, msg, hashlib.sha256).digest()
        expected = (int.from_bytes(digest[:8], "big") >> 11) / 2**53
        assert HmacStream(SEED).uniform(stratum, k) == expected


def test_strata_seeds_and_counters_give_different_streams() -> None:
    stream = HmacStream(SEED)
    first = stream.uniforms("", 20)
    assert first != stream.uniforms("centre=A", 20)
    assert first != HmacStream("0" * 63 + "1").uniforms("", 20)
    assert len(set(first)) == 20
    assert stream.uniforms("", 5, start=3) == first[3:8]


def test_uniforms_are_uniform_on_0_1() -> None:
    values = HmacStream(SEED).uniforms("", 20000)
    assert all(0.0 <= v < 1.0 for v in values)
    # Each decile holds 2000 ± 4.5 SD (SD = sqrt(20000 · 0.1 · 0.9) ≈ 42).
    counts = [sum(1 for v in values if d / 10 <= v < (d + 1) / 10) for d in range(10)]
    assert all(abs(c - 2000) < 190 for c in counts), counts


def test_seed_parsing_accepts_hex_with_whitespace_and_raw_bytes() -> None:
    assert parse_seed(SEED.upper() + "\n") == bytes.fromhex(SEED)
    assert parse_seed(bytes(range(32))) == bytes(range(32))
    assert parse_seed(SEED.encode()) == bytes.fromhex(SEED)
    assert len(parse_seed(new_seed_hex())) == 32


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "expected 64 hexadecimal characters (a 256-bit seed), got 3 characters"),
        ("g" * 64, "expected only hexadecimal characters 0-9a-f, got 'g'"),
        (b"\xff" * 5, "got 5 non-ASCII bytes"),
    ],
)
def test_bad_seeds_are_refused_with_what_was_expected(value: str | bytes, message: str) -> None:
    with pytest.raises(SeedError, match="seed: ") as error:
        parse_seed(value)
    assert message in str(error.value)


def test_the_seed_never_appears_in_the_repr() -> None:
    assert SEED not in repr(HmacStream(SEED))


def test_stratum_with_nul_is_refused() -> None:
    with pytest.raises(ValueError, match="stratum"):
        HmacStream(SEED).uniform("a\x00b", 0)


def test_lazy_uniforms_equal_the_eager_ones_and_compute_only_what_is_read() -> None:
    stream = HmacStream(SEED)
    lazy = stream.lazy("s", 50)
    assert lazy[-1] == stream.uniform("s", 49)
    assert len(lazy._cache) == 1  # only u_49 was computed
    assert list(lazy) == stream.uniforms("s", 50)
    assert lazy[3:6] == stream.uniforms("s", 3, start=3)
    with pytest.raises(IndexError):
        lazy[50]
