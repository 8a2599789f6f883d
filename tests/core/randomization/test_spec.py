"""The configured design: parsing, validation, canonical JSON and the commitment."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest

from blend.randomization import (
    DesignSpec,
    Ratio,
    SpecError,
    commitment,
    load_spec,
    spec_from_section,
)
from blend.randomization.spec import commitment_of_json

SEED = "5eed" * 16


def test_the_shipped_default_is_bsd_mti3_one_to_one_unstratified() -> None:
    spec = load_spec()
    assert (spec.design, spec.mti, spec.ratio, spec.strata) == ("bsd", 3, Ratio(1, 1), ())
    assert spec.canonical_json() == (
        '{"algorithm":"blend-randomization/1","design":"bsd","parameters":{"mti":3},'
        '"ratio":"1:1","strata":[]}'
    )


def test_commitment_is_sha256_of_canonical_json_newline_seed_hex() -> None:
    spec = load_spec()
    expected = hashlib.sha256((spec.canonical_json() + "\n" + SEED).encode()).hexdigest()
    assert commitment(SEED, spec) == expected == commitment(bytes.fromhex(SEED), spec)
    assert commitment(SEED.upper(), spec) == expected


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs coreutils sha256sum")
def test_an_auditor_can_recompute_the_commitment_in_a_shell() -> None:
    spec = load_spec()
    out = subprocess.run(
        ["sh", "-c", 'printf "%s\\n%s" "$1" "$2" | sha256sum', "sh", spec.canonical_json(), SEED],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    assert out == commitment(SEED, spec)


def test_commitment_changes_with_any_parameter_or_the_seed() -> None:
    base = commitment(SEED, DesignSpec())
    others = {
        commitment(SEED, DesignSpec(mti=4)),
        commitment(SEED, DesignSpec(ratio=Ratio(2, 1))),
        commitment(SEED, DesignSpec(strata=(("centre", ("A", "B")),))),
        commitment("0" * 64, DesignSpec()),
    }
    assert base not in others and len(others) == 4


def test_parameters_of_unused_designs_do_not_enter_the_hash() -> None:
    assert commitment(SEED, DesignSpec(p=0.7)) == commitment(SEED, DesignSpec())


def test_a_full_section_parses() -> None:
    spec = spec_from_section(
        {
            "design": "minimisation",
            "ratio": "2:1",
            "strata": {"centre": ["UMCU", "Radboudumc"]},
            "minimisation": {"p": 0.75, "factors": {"ambulatory": ["yes", "no"]}, "weights": [2]},
        }
    )
    assert spec.build().name == "minimisation"
    assert spec.parameters() == {
        "p": 0.75,
        "factors": [{"name": "ambulatory", "levels": ["yes", "no"], "weight": 2.0}],
    }
    assert spec.strata_keys() == ["centre=UMCU", "centre=Radboudumc"]
    assert spec.stratum_of({"centre": "UMCU", "ambulatory": "no"}) == "centre=UMCU"


def test_strata_keys_cross_every_factor() -> None:
    spec = DesignSpec(strata=(("centre", ("A", "B")), ("amb", ("y", "n"))))
    assert spec.strata_keys() == [
        "centre=A|amb=y",
        "centre=A|amb=n",
        "centre=B|amb=y",
        "centre=B|amb=n",
    ]
    assert spec.stratum_of({"centre": "B", "amb": "n"}) == "centre=B|amb=n"
    with pytest.raises(
        SpecError, match=r"stratum factor amb: expected one of \['y', 'n'\], got None"
    ):
        spec.stratum_of({"centre": "B"})


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"design": "urn"},
            "design: expected one of ['bsd', 'blocks', 'minimisation', 'simple'], got 'urn'",
        ),
        ({"bsd": {"mti": 0}}, "mti: expected a positive integer, got 0"),
        ({"ratio": "1-1"}, "ratio: expected 'a:b' with positive integers"),
        ({"ratio": "2:1", "bsd": {"mti": 1}}, "mti: expected at least (a+b)/2 = 1.5"),
        (
            {"design": "blocks", "blocks": {"block_multiples": []}},
            "block_multiples: expected a non-empty",
        ),
        ({"design": "minimisation"}, "minimisation.factors: expected at least one factor"),
        (
            {"design": "minimisation", "minimisation": {"factors": {"a": ["x"]}}},
            "minimisation.factors.a: expected a list of at least 2 level names",
        ),
        (
            {"design": "minimisation", "minimisation": {"p": 0.3, "factors": {"a": ["x", "y"]}}},
            "minimisation.p: expected a probability in [0.5, 1], got 0.3",
        ),
        ({"strata": {"centre": ["A|B", "C"]}}, "strata.centre: names and levels may not contain"),
        ({"mti": 3}, "unknown keys ['mti']"),
    ],
)
def test_invalid_sections_name_the_field(section: dict, message: str) -> None:
    with pytest.raises(SpecError) as error:
        spec_from_section(section)
    assert str(error.value).startswith("randomization.toml: ")
    assert message in str(error.value)


def test_the_commitment_over_published_json_equals_the_commitment_over_the_spec() -> None:
    spec = DesignSpec(strata=(("centre", ("A", "B")),))
    assert commitment_of_json(SEED, spec.canonical_json()) == commitment(SEED, spec)


def test_the_profile_holds_the_strata_and_only_minimisation_reads_earlier_profiles() -> None:
    strata = (("centre", ("A", "B")),)
    factors = (("amb", ("y", "n")), ("age", ("young", "old")))
    minimisation = DesignSpec(design="minimisation", factors=factors, strata=strata)
    assert minimisation.profile_factors == ("centre", "amb", "age")
    assert minimisation.reads_previous_profiles
    blocks = DesignSpec(design="blocks", factors=factors, strata=strata)  # factors unused by blocks
    assert blocks.profile_factors == ("centre",) and not blocks.reads_previous_profiles
    assert DesignSpec().profile_factors == ()
