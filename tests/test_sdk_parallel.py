"""``step.parallel`` (issue 16): a group reported as ``StepPlanned`` ops in one 206, each
step then run alone in a call that targets it (``?stepId=``), results in the order given;
``disable_immediate_execution``; and the local runner executing a planned group as Inngest's
server does -- one call per step, each with its own retries -- then discovering what
follows."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from inngest_core.sdk import App, AsyncStep, LocalRunner, ManualClock, Step, Trigger, function
from inngest_core.sdk.protocol import call_request, hash_step_id
from inngest_core.sdk.step import StepInterrupt
from inngest_core.sdk.transport import CallResult, InProcess

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=timezone.utc)
EVENT = {"name": "shop/order", "data": {"n": 3}}
A, B, C, D = (hash_step_id(s) for s in ("a", "b", "c", "d"))


def planned(name: str) -> dict[str, Any]:
    return {"id": hash_step_id(name), "op": "StepPlanned", "name": name, "displayName": name,
            "opts": None}


def ran(name: str, data: Any) -> dict[str, Any]:
    return {"id": hash_step_id(name), "op": "StepRun", "name": name, "displayName": name,
            "opts": None, "data": data}


blocks: list[str] = []


def block(name: str, value: Any) -> Any:
    blocks.append(name)
    return value


@function(id="fan", trigger=Trigger(event="shop/order"))
def fan(ctx: Any, step: Step) -> Any:
    n = ctx.event["data"]["n"]
    results = step.parallel([lambda: step.step("a", lambda: block("a", n)),
                             lambda: step.step("b", lambda: block("b", n * 10)),
                             lambda: step.step("c", lambda: block("c", n * 100))])
    total = step.step("d", lambda: block("d", sum(results)))
    return {"results": list(results), "total": total}


def call(fn: Any, steps: dict[str, Any] | None = None, step_id: str = "step",
         plan: bool = False) -> Any:
    request = call_request(EVENT, run_id="r", steps=steps, max_attempts=3)
    request["ctx"]["disable_immediate_execution"] = plan
    return fn.handle(request, step_id)


def test_the_first_call_reports_the_group_as_planned_steps_in_one_206() -> None:
    blocks.clear()
    answer = call(fan)
    assert (answer.status, answer.body) == (206, [planned("a"), planned("b"), planned("c")])
    assert blocks == []


def test_a_call_targeting_a_step_runs_only_that_step() -> None:
    blocks.clear()
    answer = call(fan, {A: {"data": 3}}, step_id=B, plan=True)
    assert (answer.status, answer.body) == (206, [ran("b", 30)])
    assert blocks == ["b"]


def test_results_come_back_in_the_order_given_and_a_lone_step_after_is_planned() -> None:
    blocks.clear()
    memos = {C: {"data": 300}, A: {"data": 3}, B: {"data": 30}}
    assert call(fan, memos, plan=True).body == [planned("d")]
    assert call(fan, memos, step_id=D, plan=True).body == [ran("d", 333)]
    done = call(fan, {**memos, D: {"data": 333}}, plan=True)
    assert (done.status, done.body) == (200, {"results": [3, 30, 300], "total": 333})
    assert blocks == ["d"]


def test_a_lone_step_left_in_a_group_runs_at_once_when_the_server_allows() -> None:
    blocks.clear()
    memos = {A: {"data": 3}, B: {"data": 30}}
    assert call(fan, memos).body == [ran("c", 300)]
    assert call(fan, memos, plan=True).body == [planned("c")]
    assert blocks == ["c"]


def test_a_targeted_step_that_is_not_reached_is_step_not_found() -> None:
    answer = call(fan, {}, step_id=D, plan=True)
    assert (answer.status, answer.body) == (206, [{"id": D, "op": "StepNotFound"}])


def test_a_group_inside_a_group_is_an_error_at_the_call() -> None:
    @function(id="nest", trigger=Trigger(event="shop/order"))
    def nest(ctx: Any, step: Step) -> Any:
        return step.parallel([lambda: step.parallel([lambda: step.step("a", lambda: 1)])])

    answer = call(nest)
    assert (answer.status, answer.no_retry, answer.body["name"], answer.body["message"]) == \
        (400, True, "StepUsageError",
         "step.parallel inside step.parallel: a group cannot hold another group")


def test_other_kinds_in_a_group_report_their_own_op() -> None:
    step = Step({}, attempt=0, max_attempts=1)
    with pytest.raises(StepInterrupt) as stop:
        step.parallel([lambda: step.step("a", lambda: 1), lambda: step.sleep("nap", "1h")])
    assert [(op["op"], op["name"], op["opts"]) for op in stop.value.ops] == \
        [("StepPlanned", "a", None), ("Sleep", "nap", {"duration": "1h"})]


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


def test_the_runner_runs_each_planned_step_in_its_own_call_with_its_own_retries() -> None:
    failures = {"b": 1}

    def flaky(name: str, value: int) -> int:
        if failures.get(name):
            failures[name] -= 1
            raise RuntimeError(f"{name} failed")
        return value

    @function(id="fan", trigger=Trigger(event="shop/order"), retries=2)
    def body(ctx: Any, step: Step) -> Any:
        results = step.parallel([lambda: step.step("a", lambda: flaky("a", 1)),
                                 lambda: step.step("b", lambda: flaky("b", 2)),
                                 lambda: step.step("c", lambda: flaky("c", 3))])
        return step.step("d", lambda: sum(results))

    target = Recorder(body)
    runner = LocalRunner([target], db=":memory:", clock=ManualClock(T0))
    [run] = runner.send(EVENT)
    assert runner.status(run) == "running"
    runner.advance(timedelta(seconds=15))
    assert (runner.status(run), runner.result(run)) == ("completed", 6)
    assert target.calls == [
        ("step", [("StepPlanned", "a"), ("StepPlanned", "b"), ("StepPlanned", "c")]),
        (A[:6], [("StepRun", "a")]),
        (B[:6], [("StepError", "b")]),
        (C[:6], [("StepRun", "c")]),
        (B[:6], [("StepRun", "b")]),            # its own retry, 15 s later
        ("step", [("StepPlanned", "d")]),       # planning is forced after a group
        (D[:6], [("StepRun", "d")]),
        ("step", 200)]
    assert [(e.step, e.op) for e in runner.history(run)] == [
        (None, "RunStarted"), ("a", "StepPlanned"), ("b", "StepPlanned"), ("c", "StepPlanned"),
        ("a", "StepRun"), ("b", "StepError"), ("c", "StepRun"), ("b", "StepRun"),
        ("d", "StepPlanned"), ("d", "StepRun"), (None, "RunComplete")]
    assert runner.history(run)[5].until == T0 + timedelta(seconds=15)


def test_a_planned_step_that_fails_for_good_is_memoized_as_its_error() -> None:
    @function(id="fan", trigger=Trigger(event="shop/order"), retries=0)
    def body(ctx: Any, step: Step) -> Any:
        results = step.parallel([lambda: step.step("a", lambda: 1),
                                 lambda: step.step("b", lambda: 1 // 0)])
        return list(results)

    runner = LocalRunner([body], db=":memory:", clock=ManualClock(T0))
    [run] = runner.send(EVENT)
    assert runner.status(run) == "failed"
    assert [(e.step, e.op) for e in runner.history(run)][-3:] == \
        [("a", "StepRun"), ("b", "StepFailed"), (None, "RunFailed")]
    assert runner.error(run)["name"] == "ZeroDivisionError"


def test_an_async_group_runs_its_steps_the_same_way() -> None:
    async def later(value: int) -> int:
        await asyncio.sleep(0)
        return value

    @function(id="afan", trigger=Trigger(event="shop/order"))
    async def body(ctx: Any, step: AsyncStep) -> Any:
        results = await step.parallel([lambda: step.step("a", lambda: later(1)),
                                       lambda: step.step("b", lambda: 2)])
        return list(results)

    target = Recorder(body)
    runner = LocalRunner([target], db=":memory:", clock=ManualClock(T0))
    [run] = runner.send(EVENT)
    assert runner.result(run) == [1, 2]
    assert target.calls == [("step", [("StepPlanned", "a"), ("StepPlanned", "b")]),
                            (A[:6], [("StepRun", "a")]), (B[:6], [("StepRun", "b")]),
                            ("step", 200)]


def test_a_restarted_runner_carries_on_with_a_planned_group(tmp_path: Path) -> None:
    failures = {"b": 1}

    @function(id="fan", trigger=Trigger(event="shop/order"))
    def body(ctx: Any, step: Step) -> Any:
        def b() -> int:
            if failures["b"]:
                failures["b"] -= 1
                raise RuntimeError("b failed")
            return 2
        return list(step.parallel([lambda: step.step("a", lambda: 1),
                                   lambda: step.step("b", b)]))

    db = str(tmp_path / "runs.db")
    with LocalRunner([body], db=db, clock=ManualClock(T0)) as runner:
        [run] = runner.send(EVENT)
        assert runner.next_due() == T0 + timedelta(seconds=15)
    with LocalRunner([body], db=db, clock=ManualClock(T0)) as runner:
        runner.advance(timedelta(seconds=15))
        assert (runner.status(run), runner.result(run)) == ("completed", [1, 2])


def test_a_served_group_runs_over_http() -> None:
    from test_serve_support import KEY, wsgi_server

    app = App("shop", [fan], signing_key=KEY, env={})
    with wsgi_server(app.wsgi()) as base:
        runner = LocalRunner.remote(base + "/api/inngest", KEY, clock=ManualClock(T0))
        [run] = runner.send(EVENT)
        assert runner.result(run) == {"results": [3, 30, 300], "total": 333}
        assert [e.op for e in runner.history(run)].count("StepPlanned") == 4
