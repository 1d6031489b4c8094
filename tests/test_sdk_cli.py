"""``inngest-core run FILE.py --event JSON [--db PATH] [--fast-forward]`` and the examples."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

import inngest_core
from inngest_core.cli import main
from inngest_core.sdk import LocalRunner, ManualClock
from inngest_core.sdk.cli import load_functions

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

FLOW = textwrap.dedent("""
    from inngest_core.sdk import Trigger, function

    @function(id="greet", trigger=Trigger(event="demo/greet"))
    def greet(ctx, step):
        name = step.step("name", lambda: ctx.event["data"]["who"].title())
        step.sleep("pause", "1h30m")
        return "hello " + name

    @function(id="broken", trigger=Trigger(event="demo/broken"), retries=1)
    def broken(ctx, step):
        return step.step("explode", lambda: 1 / 0)
""")


@pytest.fixture()
def flow(tmp_path: Path) -> Path:
    path = tmp_path / "flow.py"
    path.write_text(FLOW)
    return path


def test_run_prints_the_timeline(flow: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(flow), "--event", '{"name": "demo/greet", "data": {"who": "ann"}}'])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("run ") and lines[0].endswith(" greet: sleeping")
    assert "  name  StepRun  result=\"Ann\"" in lines[2]
    assert "  pause  Sleep  until=" in lines[3]


def test_run_fast_forward_json(flow: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(flow), "--fast-forward", "--json",
                 "--event", '{"name": "demo/greet", "data": {"who": "bob"}}'])
    assert code == 0
    [run] = json.loads(capsys.readouterr().out)
    assert (run["function"], run["status"]) == ("greet", "completed")
    assert [e["op"] for e in run["history"]] == ["RunStarted", "StepRun", "Sleep", "Woke",
                                                 "RunComplete"]
    assert run["history"][-1]["result"] == "hello Bob"


def test_failed_run_exits_1(flow: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(flow), "--fast-forward", "--event", '{"name": "demo/broken"}']) == 1
    out = capsys.readouterr().out
    assert "broken: failed" in out
    assert "error=ZeroDivisionError: division by zero" in out


def test_db_keeps_the_runs(flow: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "runs.db"
    assert main(["run", str(flow), "--db", str(db),
                 "--event", '{"name": "demo/greet", "data": {"who": "cy"}}']) == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM runs").fetchall() == [("sleeping",)]


@pytest.mark.parametrize("args,message", [
    (["--event", "{nope"], "--event is not valid JSON"),
    (["--event", "[]"], 'must be a JSON object with a "name"'),
])
def test_bad_event_exits_2(flow: Path, args: list[str], message: str,
                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(flow), *args]) == 2
    assert message in capsys.readouterr().err


def test_bad_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "missing.py"), "--event", '{"name": "a"}']) == 2
    assert "cannot load" in capsys.readouterr().err
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    assert main(["run", str(empty), "--event", '{"name": "a"}']) == 2
    assert "defines no functions" in capsys.readouterr().err
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('no')\n")
    assert main(["run", str(broken), "--event", '{"name": "a"}']) == 2
    assert "cannot load" in capsys.readouterr().err


def test_no_triggered_function(flow: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(flow), "--event", '{"name": "demo/nothing"}']) == 0
    assert "no function is triggered by 'demo/nothing'" in capsys.readouterr().out


def test_example_defines_the_seed_flow() -> None:
    [sign_up] = load_functions(str(EXAMPLES / "sign_up.py"))
    assert (sign_up.name, sign_up.slug, sign_up.trigger.event) == (
        "Sign up flow", "sign-up-flow", "auth/signup")


def test_example_sign_up_flow_confirmed_and_not() -> None:
    [sign_up] = load_functions(str(EXAMPLES / "sign_up.py"))
    runner = LocalRunner([sign_up], db=":memory:", clock=ManualClock())
    user = {"user": {"id": 7, "email": "ann@example.com"}}
    [confirmed] = runner.send({"name": "auth/signup", "data": user})
    [ignored] = runner.send({"name": "auth/signup", "data": {"user": {"id": 8, "email": "b@x"}}})
    runner.advance(timedelta(hours=1, minutes=30))
    assert runner.status(confirmed) == runner.status(ignored) == "waiting"
    runner.send({"name": "auth/signup.email.confirmed", "data": {"user": {"id": 7}}})
    assert runner.result(confirmed)["confirmed"] is True
    assert runner.status(ignored) == "waiting"
    runner.advance(timedelta(days=1))
    assert runner.result(ignored)["confirmed"] is False


def test_example_runs_from_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "inngest_core", "run", str(EXAMPLES / "sign_up.py"),
         "--fast-forward", "--json", "--event",
         '{"name": "auth/signup", "data": {"user": {"id": 7, "email": "ann@example.com"}}}'],
        capture_output=True, text=True, timeout=60, cwd="/")
    assert done.returncode == 0, done.stderr
    [run] = json.loads(done.stdout)
    assert run["status"] == "completed"
    assert run["history"][-1]["result"]["confirmed"] is False
