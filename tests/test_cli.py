"""The ``inngest-core`` command: output, JSON, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from inngest_core.cli import main


def test_duration_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["duration", "1h30m"]) == 0
    assert capsys.readouterr().out == (
        "nanoseconds: 5400000000000\nseconds:     5400\ncanonical:   1h30m\n"
    )


def test_duration_fraction_is_exact(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["duration", "--", "-1.000000001s"]) == 0
    assert "seconds:     -1.000000001\n" in capsys.readouterr().out


def test_duration_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["duration", "1.5s", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "input": "1.5s", "nanoseconds": 1_500_000_000, "seconds": 1.5, "canonical": "1s500ms",
    }


def test_duration_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["duration", "1x"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == 'inngest-core duration: unknown unit "x" at position 1 in duration "1x"\n'


def test_console_entry_points() -> None:
    out = subprocess.run([sys.executable, "-m", "inngest_core", "duration", "2w3d", "--json"],
                         capture_output=True, text=True, cwd="/")
    assert out.returncode == 0
    assert json.loads(out.stdout)["canonical"] == "2w3d"
    bad = subprocess.run([sys.executable, "-m", "inngest_core", "duration", ""],
                         capture_output=True, text=True, cwd="/")
    assert bad.returncode == 2
    assert bad.stderr == "inngest-core duration: empty duration at position 0 in duration \"\"\n"


def test_usage_error_exits_2() -> None:
    with pytest.raises(SystemExit) as info:
        main(["nope"])
    assert info.value.code == 2


def test_datetime_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datetime", "2023-07-18T07:31:00+02:00"]) == 0
    assert capsys.readouterr().out == (
        "format: RFC3339\nutc:    2023-07-18T05:31:00Z\nepoch:  1689658260\n"
    )


def test_datetime_json_with_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datetime", "1689665460000", "--format", "EPOCH_MS", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "input": "1689665460000", "format": "EPOCH_MS", "utc": "2023-07-18T07:31:00Z",
        "epoch": 1689665460.0, "epoch_text": "1689665460",
    }


def test_datetime_detects_rfc1123(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datetime", "Tue, 18 Jul 2023 07:31:00 GMT", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["format"], out["utc"], out["epoch_text"]) == (
        "RFC1123", "2023-07-18T07:31:00Z", "1689665460")


def test_datetime_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datetime", "Tue, 18 Jux 2023 07:31:00 GMT"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        'inngest-core datetime: RFC1123: expected a month name at position 8 in '
        '"Tue, 18 Jux 2023 07:31:00 GMT"\n')


def test_eval_with_variables(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"data": {"amount": 150}}')
    assert main(["eval", "event.data.amount > 100 && size(xs) == 2",
                 "--var", f"event=@{event}", "--var", "xs=[1, 2]"]) == 0
    assert capsys.readouterr().out == "true\n"


def test_eval_renders_cel_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", 'timestamp("2023-07-18T07:31:00Z") + duration("90m")']) == 0
    assert capsys.readouterr().out == '"2023-07-18T09:01:00Z"\n'
    assert main(["eval", '[1u, b"hi", type(1), 1.0/0.0, duration("36h")]']) == 0
    assert json.loads(capsys.readouterr().out) == [1, "aGk=", "int", "Infinity", "1d12h"]


def test_eval_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "1/0"]) == 1
    assert capsys.readouterr().err == "inngest-core eval: division by zero\n"
    assert main(["eval", "a +"]) == 2
    assert capsys.readouterr().err == (
        "inngest-core eval: unexpected end of expression at line 1, column 4\n  a +\n     ^\n")
    assert main(["eval", "x", "--var", "x={"]) == 2
    assert capsys.readouterr().err.startswith("inngest-core eval: --var x: invalid JSON: ")
    assert main(["eval", "x", "--var", "novalue"]) == 2
    assert capsys.readouterr().err == (
        "inngest-core eval: --var 'novalue': expected NAME=JSON or NAME=@file.json\n")


def test_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "a.b == c"]) == 0
    assert capsys.readouterr().out == "ok: a.b == c\nvariables: a, c\n"
    assert main(["check", "a.b =="]) == 2
    assert capsys.readouterr().err.startswith("inngest-core check: unexpected end of expression")


def test_match(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["match", "--expr", "event.data.id == async.data.id", "--event", '{"data": {"id": "x"}}']
    assert main([*argv, "--async", '{"data": {"id": "x"}}']) == 0
    assert capsys.readouterr().out == 'substituted: "x" == async.data.id\nmatch: the wait resumes\n'
    assert main([*argv, "--async", '{"data": {"id": "y"}}', "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == {
        "substituted": '"x" == async.data.id', "matches": False}
    assert main([*argv, "--async", "{"]) == 2
    assert capsys.readouterr().err.startswith("inngest-core match: invalid JSON: ")
