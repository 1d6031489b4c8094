"""The local runner: the seed's examples end to end, retries with backoff, waits, cron,
history and status, resuming on the same database, and a SIGKILLed process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import inngest_core
from inngest_core.sdk import (
    Context,
    LocalRunner,
    ManualClock,
    NonRetriableError,
    Step,
    StepError,
    Trigger,
    function,
)

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=timezone.utc)


def runner_for(*functions: Any, db: str = ":memory:", start: datetime = T0) -> LocalRunner:
    return LocalRunner(functions, db=db, clock=ManualClock(start))


def ops(runner: LocalRunner, run_id: str) -> list[tuple[str | None, str]]:
    return [(e.step, e.op) for e in runner.history(run_id)]


# ---------------------------------------------------------------------- run and step


def test_run_runs_every_execution_step_runs_once() -> None:
    counts = {"run": 0, "step": 0}

    def bump(name: str) -> int:
        counts[name] += 1
        return counts[name]

    @function(id="seed", trigger=Trigger(event="seed/run"))
    def seed(ctx: Context, step: Step) -> Any:
        seen = step.run("non deterministic code block", lambda: bump("run"))
        once = step.step("idempotent code block", lambda: bump("step"))
        step.sleep("pause", "2s")
        again = step.step("second step", lambda: seen)
        return {"once": once, "again": again}

    runner = runner_for(seed)
    [run] = runner.send({"name": "seed/run", "data": {}})
    runner.advance(timedelta(seconds=2))
    assert runner.status(run) == "completed"
    # executions: step 1, sleep, (wake) step 2, finish: run block each time, step block once
    assert counts == {"run": 4, "step": 1}
    assert runner.result(run) == {"once": 1, "again": 3}


@pytest.mark.parametrize("text,delta", [("2s", timedelta(seconds=2)), ("1d", timedelta(days=1)),
                                        ("5m", timedelta(minutes=5)),
                                        ("1h30m", timedelta(hours=1, minutes=30))])
def test_seed_sleeps(text: str, delta: timedelta) -> None:
    @function(id="sleeper", trigger=Trigger(event="seed/sleep"))
    def sleeper(ctx: Context, step: Step) -> str:
        step.sleep("nap", text)
        return "awake"

    runner = runner_for(sleeper)
    [run] = runner.send({"name": "seed/sleep"})
    assert runner.status(run) == "sleeping"
    [_, slept] = runner.history(run)
    assert (slept.step, slept.op, slept.at, slept.until) == ("nap", "Sleep", T0, T0 + delta)
    runner.advance(delta - timedelta(microseconds=1))
    assert runner.status(run) == "sleeping"
    runner.advance(timedelta(microseconds=1))
    assert (runner.status(run), runner.result(run)) == ("completed", "awake")
    assert ops(runner, run) == [(None, "RunStarted"), ("nap", "Sleep"), ("nap", "Woke"),
                                (None, "RunComplete")]
    assert runner.history(run)[-1].at == T0 + delta


@pytest.mark.parametrize("when", [
    "2024-01-02T07:31:00Z",
    "Tue, 02 Jan 2024 07:31:00 GMT",
    datetime(2024, 1, 2, 8, 31, tzinfo=timezone(timedelta(hours=1))),
    lambda: "2024-01-02T07:31:00Z",
], ids=["string", "rfc1123", "datetime", "block"])
def test_seed_sleep_until(when: Any) -> None:
    @function(id="until", trigger=Trigger(event="seed/until"))
    def until(ctx: Context, step: Step) -> str:
        step.sleep_until("sleep until 2024-01-02", when)
        return "morning"

    runner = runner_for(until)
    [run] = runner.send({"name": "seed/until"})
    assert runner.status(run) == "sleeping"
    assert runner.history(run)[1].until == datetime(2024, 1, 2, 7, 31, tzinfo=timezone.utc)
    runner.advance(timedelta(hours=19, minutes=30))
    assert runner.status(run) == "sleeping"
    runner.advance(timedelta(minutes=1))
    assert runner.status(run) == "completed"


def test_sleep_until_the_past_does_not_sleep() -> None:
    @function(id="past", trigger=Trigger(event="seed/past"))
    def past(ctx: Context, step: Step) -> str:
        step.sleep_until("long ago", "2023-07-18T07:31:00Z")
        return "done"

    runner = runner_for(past)
    [run] = runner.send({"name": "seed/past"})
    assert runner.status(run) == "completed"
    assert all(e.at == T0 for e in runner.history(run))


# ---------------------------------------------------------------------- waits


def waiter(**wait: Any) -> Any:
    @function(id="waiter", trigger=Trigger(event="auth/signup"))
    def fn(ctx: Context, step: Step) -> Any:
        got = step.wait_for_event("confirm", event="auth/signup.email.confirmed",
                                  timeout="1d", **wait)
        return {"confirmed": got is not None, "event": got}

    return fn


def test_wait_for_event_matched_and_timed_out_without_expression() -> None:
    runner = runner_for(waiter())
    [matched] = runner.send({"name": "auth/signup", "data": {"user": {"id": 1}}})
    assert runner.status(matched) == "waiting"
    runner.advance(timedelta(hours=1))
    confirm = {"name": "auth/signup.email.confirmed", "data": {"user": {"id": 1}}, "id": "c1",
               "ts": 5}
    assert runner.send(confirm) == []
    assert runner.status(matched) == "completed"
    assert runner.result(matched) == {"confirmed": True, "event": confirm}

    [timed_out] = runner.send({"name": "auth/signup", "data": {"user": {"id": 2}}})
    runner.advance(timedelta(days=1))
    assert runner.result(timed_out) == {"confirmed": False, "event": None}
    assert ops(runner, timed_out)[-2:] == [("confirm", "TimedOut"), (None, "RunComplete")]


def test_wait_for_event_with_match() -> None:
    runner = runner_for(waiter(match="data.user.id"))
    [ann] = runner.send({"name": "auth/signup", "data": {"user": {"id": 1}}})
    [bob] = runner.send({"name": "auth/signup", "data": {"user": {"id": 2}}})
    runner.send({"name": "auth/signup.email.confirmed", "data": {"user": {"id": 2}}})
    assert (runner.status(ann), runner.status(bob)) == ("waiting", "completed")
    assert runner.result(bob)["event"]["data"] == {"user": {"id": 2}}
    runner.send({"name": "auth/other", "data": {"user": {"id": 1}}})
    assert runner.status(ann) == "waiting"
    runner.advance(timedelta(days=1))
    assert runner.result(ann) == {"confirmed": False, "event": None}


def test_wait_for_event_with_if() -> None:
    runner = runner_for(waiter(if_="event.data.user.id == async.data.user.id && "
                                   "async.data.ok == true"))
    [run] = runner.send({"name": "auth/signup", "data": {"user": {"id": 1}}})
    runner.send({"name": "auth/signup.email.confirmed", "data": {"user": {"id": 1}, "ok": False}})
    assert runner.status(run) == "waiting"
    runner.send({"name": "auth/signup.email.confirmed", "data": {"user": {"id": 1}, "ok": True}})
    assert runner.result(run)["confirmed"] is True


def test_bad_if_fails_the_step_and_the_run_with_the_caret_message() -> None:
    runner = runner_for(waiter(if_="event.data.user.id == == 1"))
    [run] = runner.send({"name": "auth/signup", "data": {}})
    assert runner.status(run) == "failed"
    assert ops(runner, run) == [(None, "RunStarted"), ("confirm", "StepFailed"),
                                (None, "RunFailed")]
    error = runner.error(run)
    assert error is not None and error["name"] == "ExpressionSyntaxError"
    assert "^" in error["message"]


def test_earliest_wait_resumes_first() -> None:
    order: list[str] = []

    @function(id="w", trigger=Trigger(event="w/start"))
    def w(ctx: Context, step: Step) -> None:
        step.wait_for_event("go", event="w/go", timeout="1h")
        step.step("record", lambda: order.append(ctx.event["data"]["n"]))

    runner = runner_for(w)
    for n in ("a", "b", "c"):
        runner.send({"name": "w/start", "data": {"n": n}})
    runner.send({"name": "w/go"})
    assert order == ["a", "b", "c"]


# ---------------------------------------------------------------------- failures


def test_step_fails_twice_then_succeeds_with_backoff() -> None:
    attempts: list[int] = []

    @function(id="flaky", trigger=Trigger(event="seed/flaky"))
    def flaky(ctx: Context, step: Step) -> Any:
        def charge() -> str:
            attempts.append(ctx.attempt)
            if len(attempts) < 3:
                raise RuntimeError(f"try {len(attempts)}")
            return "charged"
        return step.step("charge", charge)

    runner = runner_for(flaky)
    [run] = runner.send({"name": "seed/flaky"})
    assert runner.status(run) == "running"
    runner.advance(timedelta(minutes=5))
    assert (runner.status(run), runner.result(run)) == ("completed", "charged")
    assert attempts == [0, 1, 2]
    history = runner.history(run)
    assert [(e.op, e.at - T0, e.until and e.until - T0) for e in history[1:4]] == [
        ("StepError", timedelta(0), timedelta(seconds=15)),
        ("StepError", timedelta(seconds=15), timedelta(seconds=45)),
        ("StepRun", timedelta(seconds=45), None),
    ]
    assert history[1].error is not None and history[1].error["message"] == "try 1"


def test_step_always_fails_five_attempts_then_step_failed_then_run_fails() -> None:
    calls: list[int] = []

    @function(id="doomed", trigger=Trigger(event="seed/doomed"))
    def doomed(ctx: Context, step: Step) -> Any:
        return step.step("charge", lambda: calls.append(ctx.attempt) or 1 / 0)

    runner = runner_for(doomed)
    [run] = runner.send({"name": "seed/doomed"})
    runner.advance(timedelta(hours=1))
    assert calls == [0, 1, 2, 3, 4]
    assert runner.status(run) == "failed"
    assert [op for _, op in ops(runner, run)] == [
        "RunStarted", "StepError", "StepError", "StepError", "StepError", "StepFailed",
        "RunFailed"]
    delays = [e.until - e.at for e in runner.history(run) if e.op == "StepError"
              if e.until is not None]
    assert delays == [timedelta(seconds=s) for s in (15, 30, 60, 120)]
    error = runner.error(run)
    assert error is not None and error["name"] == "ZeroDivisionError"


def test_retries_option() -> None:
    calls: list[int] = []

    @function(id="twice", trigger=Trigger(event="seed/twice"), retries=1)
    def twice(ctx: Context, step: Step) -> Any:
        return step.step("charge", lambda: calls.append(1) or 1 / 0)

    runner = runner_for(twice)
    [run] = runner.send({"name": "seed/twice"})
    runner.advance(timedelta(hours=1))
    assert (len(calls), runner.status(run)) == (2, "failed")


def test_non_retriable_failure() -> None:
    calls: list[int] = []

    @function(id="declined", trigger=Trigger(event="seed/declined"))
    def declined(ctx: Context, step: Step) -> Any:
        def charge() -> None:
            calls.append(1)
            raise NonRetriableError("card declined")
        return step.step("charge", charge)

    runner = runner_for(declined)
    [run] = runner.send({"name": "seed/declined"})
    assert calls == [1]
    assert runner.status(run) == "failed"
    assert [op for _, op in ops(runner, run)] == ["RunStarted", "StepFailed", "RunFailed"]
    assert runner.error(run) == {"name": "NonRetriableError", "message": "card declined",
                                 "stack": runner.error(run)["stack"]}  # type: ignore[index]


def test_caught_step_failure_lets_the_run_complete() -> None:
    @function(id="forgiving", trigger=Trigger(event="seed/forgive"), retries=0)
    def forgiving(ctx: Context, step: Step) -> Any:
        try:
            step.step("charge", lambda: 1 / 0)
        except StepError as exc:
            return step.step("refund", lambda: f"refunded after {exc.name}")
        return "charged"

    runner = runner_for(forgiving)
    [run] = runner.send({"name": "seed/forgive"})
    assert runner.result(run) == "refunded after ZeroDivisionError"


def test_function_error_is_retried_then_fails() -> None:
    calls: list[int] = []

    @function(id="broken", trigger=Trigger(event="seed/broken"), retries=2)
    def broken(ctx: Context, step: Step) -> Any:
        calls.append(ctx.attempt)
        raise KeyError("boom")

    runner = runner_for(broken)
    [run] = runner.send({"name": "seed/broken"})
    runner.advance(timedelta(minutes=1))
    assert calls == [0, 1, 2]
    assert [op for _, op in ops(runner, run)] == [
        "RunStarted", "FunctionError", "FunctionError", "RunFailed"]


# ---------------------------------------------------------------------- triggers


def test_cron_trigger_fires_at_its_next_time() -> None:
    fired: list[str] = []

    @function(id="digest", trigger=Trigger(cron="TZ=Europe/Paris 0 9 * * *"))
    def digest(ctx: Context, step: Step) -> Any:
        return step.step("send", lambda: fired.append(ctx.event["name"]) or len(fired))

    start = datetime(2024, 1, 1, 7, 0, tzinfo=timezone.utc)  # 08:00 in Paris (winter)
    runner = runner_for(digest, start=start)
    assert runner.next_due() == datetime(2024, 1, 1, 8, 0, tzinfo=timezone.utc)
    runner.advance(timedelta(minutes=59))
    assert runner.runs() == []
    runner.advance(timedelta(minutes=1))
    [(run, fn_id, status)] = runner.runs()
    assert (fn_id, status) == ("digest", "completed")
    assert fired == ["inngest/scheduled.timer"]
    assert runner.history(run)[0].at == datetime(2024, 1, 1, 8, 0, tzinfo=timezone.utc)
    runner.advance(timedelta(days=2))
    assert len(runner.runs()) == 3
    assert runner.next_due() == datetime(2024, 1, 4, 8, 0, tzinfo=timezone.utc)


def test_cron_fires_missed_while_down_collapse_into_one(tmp_path: Path) -> None:
    def make() -> Any:
        return function(id="tick", trigger=Trigger(cron="0 * * * *"))(lambda ctx, step: 1)

    db = str(tmp_path / "cron.db")
    runner_for(make(), db=db).close()  # next fire stored: 13:00
    later = runner_for(make(), db=db, start=T0 + timedelta(days=3, minutes=30))
    later.run_until_idle()
    assert len(later.runs()) == 1
    assert later.next_due() == T0 + timedelta(days=3, hours=1)


def test_cron_next_fire_and_validation() -> None:
    paris = Trigger(cron="TZ=Europe/Paris 0 9 * * *")
    summer = datetime(2024, 7, 1, 0, 0, tzinfo=timezone.utc)
    assert paris.next_fire(summer) == datetime(2024, 7, 1, 7, 0, tzinfo=timezone.utc)
    monday = Trigger(cron="0 9 * * MON")
    assert monday.next_fire(T0) == datetime(2024, 1, 8, 9, 0, tzinfo=timezone.utc)
    assert Trigger(cron="@hourly").next_fire(T0) == T0 + timedelta(hours=1)
    for bad, message in [("0 9 * *", "expected 5 fields"), ("0 25 * * *", "Bad hour"),
                         ("TZ=Mars/Olympus 0 9 * * *", 'unknown time zone "Mars/Olympus"'),
                         ("0 9 * * FUNDAY", "Bad day-of-week")]:
        with pytest.raises(ValueError, match=message):
            Trigger(cron=bad)


def test_event_trigger_with_if() -> None:
    @function(id="big", trigger=Trigger(event="shop/order", if_="event.data.total > 100"))
    def big(ctx: Context, step: Step) -> Any:
        return ctx.event["data"]["total"]

    runner = runner_for(big)
    assert runner.send({"name": "shop/order", "data": {"total": 50}}) == []
    [run] = runner.send({"name": "shop/order", "data": {"total": 150}})
    assert runner.result(run) == 150


def test_send_starts_every_triggered_function_and_accepts_a_batch() -> None:
    a = function(id="a", trigger=Trigger(event="x/y"))(lambda ctx, step: "a")
    b = function(id="b", trigger=Trigger(event="x/y"))(lambda ctx, step: "b")
    c = function(id="c", trigger=Trigger(event="x/z"))(lambda ctx, step: "c")
    runner = runner_for(a, b, c)
    started = runner.send([{"name": "x/y"}, {"name": "x/z"}, {"name": "nobody"}])
    assert [runner.result(r) for r in started] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="name"):
        runner.send({"data": {}})


# ---------------------------------------------------------------------- persistence


def test_a_new_runner_on_the_same_file_resumes_every_pending_run(tmp_path: Path) -> None:
    counts = {"create": 0, "welcome": 0}

    def make() -> Any:
        @function(id="flow", trigger=Trigger(event="auth/signup"))
        def flow(ctx: Context, step: Step) -> Any:
            step.step("create", lambda: counts.__setitem__("create", counts["create"] + 1))
            step.sleep("cool down", "1h")
            got = step.wait_for_event("confirm", event="auth/confirmed", timeout="1d")
            step.step("welcome", lambda: counts.__setitem__("welcome", counts["welcome"] + 1))
            return got is not None

        return flow

    db = str(tmp_path / "runs.db")
    first = runner_for(make(), db=db)
    [sleeping] = first.send({"name": "auth/signup"})
    [waiting] = first.send({"name": "auth/signup"})
    first.advance(timedelta(hours=1))
    [later] = first.send({"name": "auth/signup"})
    first.close()

    second = runner_for(make(), db=db, start=T0 + timedelta(hours=1, minutes=30))
    assert (second.status(sleeping), second.status(waiting), second.status(later)) == (
        "waiting", "waiting", "sleeping")
    second.send({"name": "auth/confirmed"})
    assert second.result(sleeping) is True and second.result(waiting) is True
    second.advance(timedelta(days=2))
    assert second.result(later) is False
    assert counts == {"create": 3, "welcome": 3}
    second.close()


CRASHY = textwrap.dedent("""
    import json, os, sys, time
    from datetime import datetime, timezone
    from inngest_core.sdk import LocalRunner, ManualClock, Trigger, function

    db, log, mode = sys.argv[1], sys.argv[2], sys.argv[3]

    def mark(text):
        with open(log, "a") as f:
            f.write(text + "\\n")
            f.flush()
            os.fsync(f.fileno())

    def two():
        mark("two-start")
        if mode == "first":
            time.sleep(60)
        mark("two-done")
        return 2

    @function(id="crashy", trigger=Trigger(event="t/crash"))
    def crashy(ctx, step):
        a = step.step("one", lambda: mark("one") or 1)
        b = step.step("two", two)
        c = step.step("three", lambda: mark("three") or 3)
        return a + b + c

    runner = LocalRunner([crashy], db=db,
                         clock=ManualClock(datetime(2024, 1, 1, tzinfo=timezone.utc)))
    if mode == "first":
        runner.send({"name": "t/crash"})
    else:
        runner.run_until_idle()
        [(run, _, status)] = runner.runs()
        print(json.dumps({"status": status, "result": runner.result(run),
                          "ops": [[e.step, e.op] for e in runner.history(run)]}))
""")


def test_sigkilled_runner_resumes_on_the_same_database(tmp_path: Path) -> None:
    script = tmp_path / "crashy.py"
    script.write_text(CRASHY)
    db, log = str(tmp_path / "crash.db"), tmp_path / "steps.log"
    log.write_text("")
    child = subprocess.Popen([sys.executable, str(script), db, str(log), "first"],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while "two-start" not in log.read_text():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the child never reached step two"
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    assert log.read_text().split() == ["one", "two-start"]

    done = subprocess.run([sys.executable, str(script), db, str(log), "second"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == "completed" and report["result"] == 6
    # "one" finished before the kill and is never run again; "two" had not finished.
    assert log.read_text().split() == ["one", "two-start", "two-start", "two-done", "three"]
    assert report["ops"] == [[None, "RunStarted"], ["one", "StepRun"], ["two", "StepRun"],
                             ["three", "StepRun"], [None, "RunComplete"]]


# ---------------------------------------------------------------------- scale


def test_a_thousand_concurrent_runs_with_sleeps_and_waits(tmp_path: Path) -> None:
    @function(id="many", trigger=Trigger(event="load/start"))
    def many(ctx: Context, step: Step) -> Any:
        n = ctx.event["data"]["n"]
        doubled = step.step("double", lambda: n * 2)
        step.sleep("pause", f"{n % 7 + 1}m")
        got = step.wait_for_event("go", event="load/go", timeout="1h")
        return {"n": n, "doubled": doubled, "go": got is not None}

    runner = runner_for(many, db=str(tmp_path / "load.db"))
    started = runner.send([{"name": "load/start", "data": {"n": n}} for n in range(1000)])
    assert len(started) == 1000
    assert {runner.status(r) for r in started} == {"sleeping"}
    runner.advance(timedelta(minutes=10))
    assert {runner.status(r) for r in started} == {"waiting"}
    runner.send({"name": "load/go"})
    results = [runner.result(r) for r in started]
    assert results == [{"n": n, "doubled": n * 2, "go": True} for n in range(1000)]
    runner.close()


def test_a_thousand_concurrent_matched_waits() -> None:
    @function(id="matched", trigger=Trigger(event="load/start"))
    def matched(ctx: Context, step: Step) -> Any:
        step.sleep("pause", "1m")
        got = step.wait_for_event("go", event="load/go", timeout="1h", match="data.n")
        return None if got is None else got["data"]["n"]

    runner = runner_for(matched)
    started = runner.send([{"name": "load/start", "data": {"n": n}} for n in range(1000)])
    runner.advance(timedelta(minutes=1))
    runner.send([{"name": "load/go", "data": {"n": n}} for n in range(0, 1000, 2)])
    runner.advance(timedelta(hours=1))
    assert [runner.result(r) for r in started] == [n if n % 2 == 0 else None
                                                   for n in range(1000)]


def test_history_as_dict_is_json() -> None:
    @function(id="h", trigger=Trigger(event="h/h"))
    def h(ctx: Context, step: Step) -> Any:
        step.sleep("nap", "1m")
        return step.step("done", lambda: {"ok": True})

    runner = runner_for(h)
    [run] = runner.send({"name": "h/h", "data": {"x": 1}})
    runner.advance(timedelta(minutes=1))
    timeline = [e.as_dict() for e in runner.history(run)]
    assert json.loads(json.dumps(timeline)) == timeline
    assert timeline[1] == {"step": "nap", "op": "Sleep", "at": "2024-01-01T12:00:00Z",
                           "until": "2024-01-01T12:01:00Z"}
    assert timeline[3] == {"step": "done", "op": "StepRun", "at": "2024-01-01T12:01:00Z",
                           "result": {"ok": True}}
    with pytest.raises(KeyError):
        runner.history("nope")
