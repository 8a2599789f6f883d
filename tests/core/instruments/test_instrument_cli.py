"""``blend score CODE``: JSON in, JSON out, exit 2 with a clear message on bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from blend.instruments.cli import main

ALL_ONES = {f"q{i}": 1 for i in range(1, 16)}


def run(argv: list[str], stdin: str, capsys, monkeypatch) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_one_object_from_stdin(capsys, monkeypatch) -> None:
    code, out, err = run(["qlq-c15-pal"], json.dumps(ALL_ONES), capsys, monkeypatch)
    assert code == 0 and err == ""
    result = json.loads(out)
    assert round(result["PF"], 2) == 93.33 and result["QL"] == 0.0


def test_answers_argument_and_null_for_unscorable(capsys, monkeypatch) -> None:
    code, out, _ = run(["qlq-c15-pal", "--answers", '{"q9": 3}'], "", capsys, monkeypatch)
    result = json.loads(out)
    assert code == 0 and result["NV"] == 50.0 and result["PF"] is None


def test_json_lines_print_one_object_per_input(capsys, monkeypatch) -> None:
    lines = (
        "\n".join(
            json.dumps(s)
            for s in (
                {
                    "mobility": 1,
                    "self_care": 1,
                    "usual_activities": 1,
                    "pain_discomfort": 1,
                    "anxiety_depression": 1,
                    "vas": 90,
                },
                {
                    "mobility": 3,
                    "self_care": 3,
                    "usual_activities": 3,
                    "pain_discomfort": 3,
                    "anxiety_depression": 3,
                },
            )
        )
        + "\n\n"
    )
    code, out, _ = run(["eq5d5l-nl"], lines, capsys, monkeypatch)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and rows == [{"index": 1.0, "vas": 90.0}, {"index": 0.511, "vas": None}]


@pytest.mark.parametrize(
    "flags",
    [
        ["--coefficients", "unrounded"],
        ["--coefficients=unrounded"],
        ["-o", "coefficients=unrounded"],
    ],
)
def test_options_on_the_command_line(flags: list[str], capsys, monkeypatch) -> None:
    state = (
        '{"mobility": 3, "self_care": 3, "usual_activities": 3, "pain_discomfort": 3, '
        '"anxiety_depression": 3}'
    )
    code, out, _ = run(["eq5d5l-nl", *flags, "--answers", state], "", capsys, monkeypatch)
    assert code == 0 and json.loads(out)["index"] == 0.5126986


def test_numeric_option_values_are_parsed_as_json(capsys, monkeypatch) -> None:
    answers = (
        '{"baseline_worst_pain": 1, "baseline_omed": 0, "followup_worst_pain": 0, '
        '"followup_omed": 0}'
    )
    code, out, _ = run(
        ["pain-response", "--min-baseline-pain", "2", "--answers", answers], "", capsys, monkeypatch
    )
    assert code == 0 and json.loads(out) == {"category": None}


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (
            ["qlq-c15-pal"],
            '{"q1": 9}',
            "item 'q1': expected an integer from 1 to 4, or null; received 9 (int)",
        ),
        (["qlq-c15-pal"], '{"q99": 1}', "unknown item 'q99'"),
        (["qlq-c15-pal"], '{"q1": "a lot"}', "received 'a lot' (str)"),
        (["qlq-c15-pal"], "[1, 2]", "expected a JSON object"),
        (["qlq-c15-pal"], "{not json", "input line 1: expected a JSON object"),
        (["qlq-c15-pal"], "", "received nothing"),
        (["qlq-c15-pal"], '{"q1": 1}\n{"q1": 0}\n', "input 2: qlq-c15-pal: item 'q1'"),
        (["nonsense"], "{}", "instrument code: expected one of"),
        (["eq5d5l-nl", "--coefficients", "exact"], "{}", "option 'coefficients'"),
        (["eq5d5l-nl", "--coefficients"], "{}", "option --coefficients: expected a value"),
        (["eq5d5l-nl", "-o", "coefficients"], "{}", "--option: expected NAME=VALUE"),
    ],
)
def test_invalid_input_exits_2_with_a_message_and_no_output(
    argv: list[str], stdin: str, message: str, capsys, monkeypatch
) -> None:
    code, out, err = run(argv, stdin, capsys, monkeypatch)
    assert code == 2 and out == ""
    assert message in err


def test_the_blend_console_script_dispatches_to_score() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "blend.cli", "score", "sins"],
        input='{"location": "mobile", "pain": "mechanical", "bone_lesion": "lytic", '
        '"alignment": "normal", "collapse": "under_50", "posterolateral": "unilateral"}',
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["total"] == 10.0 and result["category"] == "indeterminate"
    bad = subprocess.run(
        [sys.executable, "-m", "blend.cli", "score", "sins"],
        input='{"pain": 3}',
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "item 'pain'" in bad.stderr
