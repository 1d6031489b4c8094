"""A group holding a sleep, a wait or an invoke in the local runner (issue 16's gap): as
Inngest's server runs one (``executor.go``: ``handleGeneratorGroup`` hands every op to its
own handler; ``SavePending`` / ``shouldEnqueueDiscovery``), each member is pending on its
own -- a planned block runs in its own call, a sleep wakes at its time, a wait takes its
event or times out, an invoke ends with the invoked run or times out -- and the run is called
to discover what follows once, when the last member is resolved."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from inngest_core.sdk import App, LocalRunner, ManualClock, Step, StepError, Trigger, function
from inngest_core.sdk.protocol import hash_step_id
from inngest_core.sdk.transport import CallResult, InProcess

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=timezone.utc)
EVENT = {"name": "shop/order", "data": {"n": 3}}
A, AFTER = hash_step_id("a"), hash_step_id("after")


class Recorder(InProcess):
    """Records every call: its stepId and the ops (or status) of the answer."""

    def __init__(self, fn: Any) -> None:
        super().__init__(fn)
        self.calls: list[tuple[str, Any]] = []

    def call(self, request: dict[str, Any], step_id: str = "step") -> CallResult:
        answer = super().call(request, step_id)
        shown = [(op["op"], op["name"]) for op in answer.body] if answer.status == 206 \
            else answer.status
        self.calls.append(("step" if step_id == "step" else step_id[:6], shown))
        return answer


@function(id="child", trigger=Trigger(event="shop/child"))
def child(ctx: Any, step: Step) -> Any:
    return step.step("c", lambda: ctx.event["data"]["x"] * 10)


@function(id="slow-child", trigger=Trigger(event="shop/slow"))
def slow_child(ctx: Any, step: Step) -> Any:
    step.sleep("forever", "1d")
    return "late"


@function(id="mixed", trigger=Trigger(event="shop/order"))
def mixed(ctx: Any, step: Step) -> Any:
    out = step.parallel([
        lambda: step.step("a", lambda: ctx.event["data"]["n"]),
        lambda: step.sleep("nap", "1h"),
        lambda: step.wait_for_event("confirm", event="shop/confirmed", timeout="2h",
                                    match="data.n"),
        lambda: step.invoke("score", function=child, data={"x": 2}, timeout="3h"),
    ])
    return [list(out), step.step("after", lambda: "done")]


def names(runner: LocalRunner, run: str) -> list[tuple[str | None, str, datetime]]:
    return [(e.step, e.op, e.at) for e in runner.history(run)]


def test_each_member_is_pending_on_its_own_and_discovery_comes_once_all_are_resolved() -> None:
    target = Recorder(mixed)
    runner = LocalRunner([target, child], db=":memory:", clock=ManualClock(T0))
    [run] = runner.send(EVENT)
    # The planned block ran and the invoked run ended; the sleep and the wait are pending.
    assert target.calls == [
        ("step", [("StepPlanned", "a"), ("Sleep", "nap"), ("WaitForEvent", "shop/confirmed"),
                  ("InvokeFunction", "score")]),
        (A[:6], [("StepRun", "a")])]
    assert runner.status(run) == "running"
    assert runner.next_due() == T0 + timedelta(hours=1)
    runner.advance(timedelta(minutes=30))
    runner.send({"name": "shop/confirmed", "data": {"n": 3}})
    assert len(target.calls) == 2                   # no discovery: the sleep is pending
    runner.advance(timedelta(minutes=30))
    confirmed = runner.result(run)[0][2]
    assert runner.result(run) == [[3, None, confirmed, 20], "done"]
    assert confirmed["name"] == "shop/confirmed"
    assert target.calls[2:] == [("step", [("StepPlanned", "after")]),
                                (AFTER[:6], [("StepRun", "after")]),
                                ("step", 200)]
    t1, t2 = T0 + timedelta(minutes=30), T0 + timedelta(hours=1)
    assert names(runner, run) == [
        (None, "RunStarted", T0), ("a", "StepPlanned", T0), ("nap", "Sleep", T0),
        ("confirm", "WaitForEvent", T0), ("score", "InvokeFunction", T0),
        ("a", "StepRun", T0), ("score", "InvokeFinished", T0),
        ("confirm", "EventReceived", t1), ("nap", "Woke", t2),
        ("after", "StepPlanned", t2), ("after", "StepRun", t2), (None, "RunComplete", t2)]
    assert runner.history(run)[2].until == T0 + timedelta(hours=1)
    assert runner.history(run)[3].until == T0 + timedelta(hours=2)


def test_a_wait_and_an_invoke_of_a_group_time_out_on_their_own() -> None:
    @function(id="timeouts", trigger=Trigger(event="shop/order"))
    def body(ctx: Any, step: Step) -> Any:
        def slow() -> Any:
            try:
                return step.invoke("slow", function=slow_child, timeout="2h")
            except StepError as exc:
                return exc.name
        return list(step.parallel([
            lambda: step.wait_for_event("confirm", event="shop/confirmed", timeout="1h"),
            slow,
        ]))

    target = Recorder(body)
    runner = LocalRunner([target, slow_child], db=":memory:", clock=ManualClock(T0))
    [run] = runner.send(EVENT)
    runner.advance(timedelta(hours=1))
    assert runner.status(run) == "running" and len(target.calls) == 1
    runner.advance(timedelta(hours=1))
    assert runner.result(run) == [None, "InngestInvokeTimeoutError"]
    assert target.calls == [("step", [("WaitForEvent", "shop/confirmed"), ("InvokeFunction", "slow")]),
                            ("step", 200)]
    assert [(s, op, at) for s, op, at in names(runner, run)
            if op in ("TimedOut", "InvokeTimedOut")] == [
        ("confirm", "TimedOut", T0 + timedelta(hours=1)),
        ("slow", "InvokeTimedOut", T0 + timedelta(hours=2))]
    # A timed-out wait takes no event later.
    runner.send({"name": "shop/confirmed", "data": {}})
    assert runner.result(run) == [None, "InngestInvokeTimeoutError"]


def test_two_waits_in_one_group_each_take_their_own_event() -> None:
    @function(id="two", trigger=Trigger(event="shop/order"))
    def body(ctx: Any, step: Step) -> Any:
        return [e and e["name"] for e in step.parallel([
            lambda: step.wait_for_event("paid", event="shop/paid", timeout="1d"),
            lambda: step.wait_for_event("shipped", event="shop/shipped", timeout="1d")])]

    runner = LocalRunner([body], db=":memory:", clock=ManualClock(T0))
    [run] = runner.send(EVENT)
    runner.send({"name": "shop/shipped"})
    assert runner.status(run) == "running"
    runner.send({"name": "shop/paid"})
    assert runner.result(run) == ["shop/paid", "shop/shipped"]


def test_a_member_that_fails_for_good_is_memoized_and_raised_at_discovery() -> None:
    @function(id="bad-wait", trigger=Trigger(event="shop/order"))
    def body(ctx: Any, step: Step) -> Any:
        def bad() -> Any:
            try:
                return step.wait_for_event("w", event="x", timeout="1h", if_="event.data ==")
            except StepError as exc:
                return exc.name
        return list(step.parallel([bad, lambda: step.sleep("nap", "1s")]))

    target = Recorder(body)
    runner = LocalRunner([target], db=":memory:", clock=ManualClock(T0))
    [run] = runner.send(EVENT)
    runner.advance(timedelta(seconds=1))
    assert runner.result(run) == ["ExpressionSyntaxError", None]
    assert target.calls == [("step", [("StepFailed", "w"), ("Sleep", "nap")]), ("step", 200)]


def test_a_restarted_runner_carries_on_with_a_group_in_the_middle(tmp_path: Path) -> None:
    db = str(tmp_path / "runs.db")
    with LocalRunner([mixed, child], db=db, clock=ManualClock(T0)) as runner:
        [run] = runner.send(EVENT)
        assert runner.next_due() == T0 + timedelta(hours=1)
    clock = ManualClock(T0 + timedelta(minutes=10))
    with LocalRunner([mixed, child], db=db, clock=clock) as runner:
        # The wait was filed again from the file: the event resumes it.
        runner.send({"name": "shop/confirmed", "data": {"n": 3}})
        assert runner.status(run) == "running"
    with LocalRunner([mixed, child], db=db, clock=clock) as runner:
        runner.advance(timedelta(minutes=50))
        assert runner.status(run) == "completed"
        result = runner.result(run)
        assert (result[0][0], result[0][1], result[0][2]["name"], result[0][3], result[1]) == \
            (3, None, "shop/confirmed", 20, "done")


def test_a_cancelled_run_drops_its_group() -> None:
    runner = LocalRunner([mixed, child], db=":memory:", clock=ManualClock(T0))
    [run] = runner.send(EVENT)
    assert runner.cancel(run)
    runner.send({"name": "shop/confirmed", "data": {"n": 3}})
    runner.advance(timedelta(hours=3))
    assert runner.status(run) == "cancelled"
    assert [op for _, op, _ in names(runner, run)][-1] == "RunCancelled"
    assert runner.store.conn.execute("SELECT COUNT(*) FROM planned_steps").fetchone()[0] == 0


def test_a_file_written_before_group_members_gains_their_columns(tmp_path: Path) -> None:
    db = str(tmp_path / "old.db")
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE planned_steps (run_id TEXT NOT NULL, seq INTEGER NOT NULL, "
                     "step TEXT NOT NULL, display TEXT NOT NULL, attempt INTEGER NOT NULL "
                     "DEFAULT 0, due_at INTEGER NOT NULL, PRIMARY KEY (run_id, step))")
    with LocalRunner([mixed, child], db=db, clock=ManualClock(T0)) as runner:
        [run] = runner.send(EVENT)
        runner.send({"name": "shop/confirmed", "data": {"n": 3}})
        runner.advance(timedelta(hours=1))
        assert runner.result(run)[1] == "done"


def test_a_served_group_with_a_sleep_and_a_wait_runs_over_http() -> None:
    from test_serve_support import KEY, wsgi_server

    app = App("shop", [mixed, child], signing_key=KEY, env={})
    with wsgi_server(app.wsgi()) as base:
        runner = LocalRunner.remote(base + "/api/inngest", KEY, clock=ManualClock(T0))
        [run] = runner.send(EVENT)
        runner.advance(timedelta(minutes=5))
        runner.send({"name": "shop/confirmed", "data": {"n": 3}})
        assert runner.status(run) == "running"
        runner.advance(timedelta(minutes=55))
        result = runner.result(run)
        assert (result[0][0], result[0][1], result[0][2]["name"], result[0][3], result[1]) == \
            (3, None, "shop/confirmed", 20, "done")
        assert [op for _, op, _ in names(runner, run)] == [
            "RunStarted", "StepPlanned", "Sleep", "WaitForEvent", "InvokeFunction",
            "StepRun", "InvokeFinished", "EventReceived", "Woke", "StepPlanned", "StepRun",
            "RunComplete"]
