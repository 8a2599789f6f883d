"""``blend randomization assess | sequence`` (``verify`` is the Django command's)."""

from __future__ import annotations

import json

import pytest

from blend.cli import main as blend
from blend.randomization import DesignSpec, sequence
from blend.randomization.cli import main

SEED = "5eed" * 16


def test_sequence_prints_one_arm_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        blend(
            [
                "randomization",
                "sequence",
                "--design",
                "bsd",
                "--mti",
                "3",
                "--n",
                "12",
                "--seed",
                SEED,
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.splitlines() == sequence(DesignSpec(mti=3), SEED, 12)


def test_sequence_of_blocks_with_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            ["sequence", "--design", "blocks", "--block-multiples", "2", "--n", "8", "--seed", SEED]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines == sequence(DesignSpec(design="blocks", block_multiples=(2,)), SEED, 8)
    assert lines[:4].count("intervention") == 2 and lines[4:].count("intervention") == 2


def test_sequence_of_minimisation_reads_profiles(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    profiles = [{"amb": "yn"[i % 2]} for i in range(6)]
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps(profiles))
    argv = [
        "sequence",
        "--design",
        "minimisation",
        "--factor",
        "amb=y,n",
        "--n",
        "6",
        "--seed",
        SEED,
    ]
    assert main([*argv, "--profiles", str(path)]) == 0
    spec = DesignSpec(design="minimisation", factors=(("amb", ("y", "n")),))
    assert capsys.readouterr().out.splitlines() == sequence(spec, SEED, 6, "", profiles)
    assert main(argv) == 2
    assert "minimisation needs the participant's factor levels" in capsys.readouterr().err


def test_assess_json_reports_balance_ratio_and_guesses(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "assess",
        "--design",
        "bsd",
        "--mti",
        "3",
        "--n",
        "100",
        "--sequences",
        "2000",
        "--seed",
        "7",
        "--json",
    ]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["max_imbalance"]["distribution"] == {"3": 1.0}
    assert set(result["final_imbalance"]["distribution"]) <= {"0", "2"}
    assert abs(result["allocation_ratio"]["intervention_fraction"] - 0.5) < 0.002
    assert 0.57 < result["correct_guesses"]["proportion"] < 0.59


def test_assess_prints_a_readable_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["assess", "--design", "minimisation", "--factor", "amb=y,n", "--sequences", "200"])
        == 0
    )
    out = capsys.readouterr().out
    assert "expected correct guesses" in out and "marginal covariate imbalance" in out


def test_a_bad_seed_is_reported_on_stderr_with_exit_code_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sequence", "--seed", "12ab"]) == 2
    assert "seed: expected 64 hexadecimal characters" in capsys.readouterr().err


def test_verify_is_delegated_to_the_django_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import blend.cli

    calls: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(
        blend.cli, "_run_django", lambda name, rest: calls.append((name, rest)) or 0
    )
    assert blend.cli.main(["randomization", "verify", "--seed-file", "/secret/seed"]) == 0
    assert calls == [("randomization_verify", ["--seed-file", "/secret/seed"])]
