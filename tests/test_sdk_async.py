"""``async def`` functions (issue 16): awaited step tools over the same kinds table, sync or
async step blocks in either kind of function, ``App.asgi`` running async functions on the
server's loop and sync ones in a bounded pool, ``App.wsgi`` on a private loop, and
``mypy --strict`` flagging a step tool called without ``await``."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from test_serve_support import KEY, uvicorn_server, wsgi_server

from inngest_core.sdk import App, LocalRunner, ManualClock, StepError, Trigger, function
from inngest_core.sdk.protocol import call_request, hash_step_id
from inngest_core.sdk.step_async import AsyncStep

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=timezone.utc)


async def later(value: Any) -> Any:
    await asyncio.sleep(0)
    return value


@function(id="flow", trigger=Trigger(event="shop/order"), retries=1)
async def flow(ctx: Any, step: AsyncStep) -> Any:
    user = await step.step("fetch", lambda: later({"id": ctx.event["data"]["id"]}))
    doubled = await step.step("double", lambda: user["id"] * 2)        # a sync block
    await step.sleep("nap", "1h")
    await step.sleep_until("until", "2024-01-01T14:00:00Z")
    confirm = await step.wait_for_event("confirm", event="shop/confirmed", timeout="1d",
                                        match="data.id")
    [sent] = await step.send_event("tell", {"name": "shop/told", "data": {}})
    child = await step.invoke("child", function=child_fn, data={"n": doubled})
    noted = await step.run("note", lambda: later("noted"))
    return {"doubled": doubled, "confirmed": confirm["data"]["id"], "sent": bool(sent),
            "child": child, "noted": noted}


@function(id="child", trigger=Trigger(event="shop/child"))
async def child_fn(ctx: Any, step: AsyncStep) -> Any:
    return await step.step("triple", lambda: later(ctx.event["data"]["n"] * 3))


def drive(runner: LocalRunner) -> str:
    [run] = runner.send({"name": "shop/order", "data": {"id": 7}})
    assert runner.status(run) == "sleeping"
    runner.advance(timedelta(hours=1))
    runner.advance(timedelta(hours=1))
    assert runner.status(run) == "waiting"
    runner.send({"name": "shop/confirmed", "data": {"id": 7}})
    return run


EXPECTED_OPS = [(None, "RunStarted"), ("fetch", "StepRun"), ("double", "StepRun"),
                ("nap", "Sleep"), ("nap", "Woke"), ("until", "Sleep"), ("until", "Woke"),
                ("confirm", "WaitForEvent"), ("confirm", "EventReceived"),
                ("tell", "StepRun"), ("child", "InvokeFunction"), ("child", "InvokeFinished"),
                (None, "RunComplete")]
EXPECTED_RESULT = {"doubled": 14, "confirmed": 7, "sent": True, "child": 42, "noted": "noted"}


def test_an_async_function_runs_every_step_kind_in_process() -> None:
    runner = LocalRunner([flow, child_fn], db=":memory:", clock=ManualClock(T0))
    run = drive(runner)
    assert runner.status(run) == "completed"
    assert runner.result(run) == EXPECTED_RESULT
    assert [(e.step, e.op) for e in runner.history(run)] == EXPECTED_OPS


@pytest.mark.parametrize("server", ["asgi", "wsgi"])
def test_an_async_function_runs_every_step_kind_over_http(server: str) -> None:
    app = App("shop", [flow, child_fn], signing_key=KEY, env={})
    # No event API here: the app's sends land in a list (as the runner's intake would).
    outbox: list[Any] = []
    app.send = lambda events, timeout=30.0: outbox.extend(events) or ["ev-told"]  # type: ignore[method-assign]
    serving = uvicorn_server(app.asgi()) if server == "asgi" else wsgi_server(app.wsgi())
    with serving as base:
        runner = LocalRunner.remote(base + "/api/inngest", KEY, clock=ManualClock(T0))
        run = drive(runner)
        assert runner.result(run) == EXPECTED_RESULT
        assert [(e.step, e.op) for e in runner.history(run)] == EXPECTED_OPS
        assert [e["name"] for e in outbox] == ["shop/told"]


def test_the_first_call_answers_206_not_a_400_about_a_coroutine() -> None:
    answer = flow.handle(call_request({"name": "shop/order", "data": {"id": 7}}, run_id="r"))
    assert (answer.status, answer.body[0]["op"], answer.body[0]["data"]) == \
        (206, "StepRun", {"id": 7})
    assert answer.body[0]["id"] == hash_step_id("fetch")


def test_an_async_block_fails_and_retries_as_a_sync_one() -> None:
    calls: list[int] = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("kaput")
        return "ok"

    @function(id="flaky", trigger=Trigger(event="a/b"), retries=1)
    async def body(ctx: Any, step: AsyncStep) -> Any:
        return await step.step("try", flaky)

    runner = LocalRunner([body], db=":memory:", clock=ManualClock(T0))
    [run] = runner.send({"name": "a/b", "data": {}})
    [started, error] = runner.history(run)
    assert (error.step, error.op, error.until) == ("try", "StepError", T0 + timedelta(seconds=15))
    assert error.error is not None and error.error["message"] == "kaput"
    runner.advance(timedelta(seconds=15))
    assert (runner.status(run), runner.result(run), len(calls)) == ("completed", "ok", 2)


def test_a_memoized_failure_raises_step_error_in_an_async_function() -> None:
    @function(id="f", trigger=Trigger(event="a/b"))
    async def body(ctx: Any, step: AsyncStep) -> Any:
        try:
            await step.step("pay", lambda: 1)
        except StepError as exc:
            return f"caught {exc.name}: {exc.message}"
        return "no"

    memo = {hash_step_id("pay"): {"error": {"name": "ValueError", "message": "no"}}}
    answer = body.handle(call_request({"name": "a/b", "data": {}}, run_id="r", steps=memo))
    assert (answer.status, answer.body) == (200, "caught ValueError: no")


def test_an_async_block_in_a_sync_function() -> None:
    @function(id="f", trigger=Trigger(event="a/b"))
    def body(ctx: Any, step: Any) -> Any:
        a = step.step("a", lambda: later(2))
        return step.run("b", lambda: later(a + 1))

    runner = LocalRunner([body], db=":memory:")
    [run] = runner.send({"name": "a/b", "data": {}})
    assert runner.result(run) == 3
    # From a thread with a running loop too (a sync function called from async code).
    async def from_loop() -> Any:
        return body.handle(call_request({"name": "a/b", "data": {}}, run_id="r")).body

    assert asyncio.run(from_loop())[0]["data"] == 2


def test_asgi_awaits_async_functions_on_the_loop_and_sync_ones_off_it() -> None:
    seen: dict[str, str] = {}
    gate = threading.Event()

    @function(id="slow", trigger=Trigger(event="a/slow"))
    def slow(ctx: Any, step: Any) -> Any:
        seen["slow"] = threading.current_thread().name
        gate.wait(10)     # holds a worker thread until the async call below is answered
        return "slow"

    @function(id="quick", trigger=Trigger(event="a/quick"))
    async def quick(ctx: Any, step: AsyncStep) -> Any:
        seen["quick"] = threading.current_thread().name
        return "quick"

    app = App("shop", [slow, quick], dev=True, env={})
    endpoint = app.asgi()

    async def call(fn_id: str) -> tuple[int, Any]:
        sent: list[dict[str, Any]] = []
        body = json.dumps(call_request({"name": "x", "data": {}}, run_id="r")).encode()

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "POST", "scheme": "http", "path": "/api/inngest",
                 "query_string": f"fnId=shop-{fn_id}&stepId=step".encode(),
                 "headers": [(b"host", b"h")]}
        await endpoint(scope, receive, send)
        return sent[0]["status"], json.loads(sent[1]["body"])

    async def main() -> list[tuple[int, Any]]:
        loop_thread = threading.current_thread().name
        slow_call = asyncio.ensure_future(call("slow"))
        await asyncio.sleep(0.05)
        quick_answer = await call("quick")          # answered while "slow" still blocks
        gate.set()
        assert seen["quick"] == loop_thread
        return [quick_answer, await slow_call]

    assert asyncio.run(main()) == [(200, "quick"), (200, "slow")]
    assert seen["slow"].startswith("inngest_core")


def test_mypy_strict_flags_a_step_tool_called_without_await(tmp_path: Path) -> None:
    snippet = tmp_path / "snippet.py"
    snippet.write_text(
        "from typing import Any\n"
        "from inngest_core.sdk import AsyncStep\n"
        "async def body(ctx: Any, step: AsyncStep) -> int:\n"
        "    step.sleep('nap', '1h')\n"
        "    n: int = await step.step('n', lambda: 1)\n"
        "    return n\n")
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--cache-dir", str(tmp_path / "cache"), str(snippet)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout
    assert 'snippet.py:4: error: Value of type "Coroutine[Any, Any, None]" must be used  ' \
           "[unused-coroutine]" in done.stdout, done.stdout
    assert "Found 1 error" in done.stdout
