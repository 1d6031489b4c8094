"""The step-kind table read by every layer: each tool of ``Step`` has its declaration, the
runner resolves every op a function reports through it, and an op it does not know (or
several in one answer) fails the run as a protocol error; and the one event check that
``App.send``, the runner and the dev inbox share."""

from __future__ import annotations

import inspect
from datetime import datetime, timezone
from typing import Any

import pytest

from inngest_core.sdk import App, LocalRunner, ManualClock, Step, Trigger, kinds, protocol
from inngest_core.sdk.devloop import events_from
from inngest_core.sdk.transport import CallResult, Target

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def test_every_step_tool_but_run_is_a_kind_and_every_kind_a_tool() -> None:
    tools = {name for name, _ in inspect.getmembers(Step, inspect.isfunction)
             if not name.startswith("_")}
    # run is the non-memoized block; parallel groups steps of the other kinds.
    assert tools - {"run", "parallel"} == set(kinds.KINDS)


def test_every_reported_opcode_has_a_resolver() -> None:
    assert set(kinds.RESOLVERS) == {protocol.STEP_RUN, protocol.STEP_ERROR,
                                    protocol.STEP_FAILED, protocol.SLEEP,
                                    protocol.WAIT_FOR_EVENT, protocol.INVOKE_FUNCTION}
    assert set(kinds.RESOLVERS) == set(protocol.OPCODES)


def test_a_step_interrupt_reports_every_op_it_carries() -> None:
    ops = [kinds.op("a", "Sleep", "a", "a", {"duration": "1s"}),
           kinds.failure_op("b", "b", RuntimeError("x"), final=True)]
    response = protocol.step_response(ops)
    assert (response.status, response.body) == (206, ops)
    assert response.headers[protocol.HEADER_NO_RETRY] == "true"


class Scripted(Target):
    """A function that answers with a fixed body."""

    def __init__(self, body: Any) -> None:
        self.slug = "scripted"
        self.trigger = Trigger(event="go")
        self.max_attempts = 1
        self.body = body

    def call(self, request: dict[str, Any]) -> CallResult:
        return CallResult(206, False, self.body)


@pytest.mark.parametrize("body,message", [
    ([{"id": "s", "op": "Teleport"}], "unknown op 'Teleport'"),
    ([{"op": "StepRun"}], "an op without a step id"),
    ([{"id": "w", "op": "WaitForEvent", "opts": {"timeout": "1h"}}],
     "a WaitForEvent op without an event name"),
    ([{"id": "a", "op": "StepRun"}, {"id": "b", "op": "StepRun"}],
     "the local runner takes one op per response"),
])
def test_ops_the_runner_cannot_resolve_fail_the_run(body: Any, message: str) -> None:
    runner = LocalRunner([Scripted(body)], db=":memory:", clock=ManualClock(T0))
    [run] = runner.send({"name": "go"})
    error = runner.error(run)
    assert runner.status(run) == "failed"
    assert error is not None and error["name"] == "ProtocolError"
    assert message in error["message"]


@pytest.mark.parametrize("bad", [{"data": {}}, {"name": ""}, {"name": 1}, "auth/signup",
                                 {"name": "a", "data": [1]}])
def test_one_event_check_everywhere(bad: Any) -> None:
    runner = LocalRunner([], db=":memory:")
    app = App("shop", [], dev="http://127.0.0.1:1", env={})
    with pytest.raises(ValueError):
        runner.send(bad)
    with pytest.raises(ValueError):
        app.send(bad, timeout=0.1)
    with pytest.raises(ValueError):
        events_from(bad)
