"""Cross-checks of ``step.parallel`` with the official Inngest Python SDK (``inngest``
0.5.19, test-only): the same function written in both SDKs, served over HTTP (theirs with
Flask and with FastAPI, ours with ``App.wsgi`` and ``App.asgi``), driven by our
``LocalRunner.remote`` to completion, gives the same sequence of calls (``stepId``) and of
reported ops (opcode and hashed step id) across the whole run, a failed attempt and its
retry included."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from test_serve_support import KEY, uvicorn_server, wsgi_server

from inngest_core.sdk import App, AsyncStep, LocalRunner, ManualClock, Step, Trigger, function
from inngest_core.sdk.remote import RemoteFunction
from inngest_core.sdk.transport import CallResult

inngest = pytest.importorskip("inngest")
flask = pytest.importorskip("flask")
fastapi = pytest.importorskip("fastapi")
inngest_flask = pytest.importorskip("inngest.flask")
inngest_fast_api = pytest.importorskip("inngest.fast_api")

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=timezone.utc)
EVENT = {"name": "shop/order", "data": {"n": 3}}
RESULT = {"results": [3, 30, 300], "total": 333}


class Flaky:
    """Each step's block; ``b`` fails its first attempt."""

    def __init__(self) -> None:
        self.failures = {"b": 1}

    def __call__(self, name: str, value: int) -> int:
        if self.failures.get(name):
            self.failures[name] -= 1
            raise RuntimeError(f"{name} failed")
        return value


def official_app(kind: str, flaky: Flaky) -> Any:
    client = inngest.Inngest(app_id="shop", is_production=True, signing_key=KEY,
                             api_base_url="http://127.0.0.1:1",
                             event_api_base_url="http://127.0.0.1:1",
                             logger=logging.getLogger("official"))
    trigger = inngest.TriggerEvent(event="shop/order")
    if kind == "flask":
        @client.create_function(fn_id="fan", trigger=trigger, retries=2)
        def fan(ctx: Any) -> Any:
            n = ctx.event.data["n"]
            results = ctx.group.parallel((lambda: ctx.step.run("a", lambda: flaky("a", n)),
                                          lambda: ctx.step.run("b", lambda: flaky("b", n * 10)),
                                          lambda: ctx.step.run("c", lambda: flaky("c", n * 100))))
            total = ctx.step.run("d", lambda: sum(results))
            return {"results": list(results), "total": total}

        app = flask.Flask("official")
        inngest_flask.serve(app, client, [fan])
        return app.wsgi_app

    @client.create_function(fn_id="fan", trigger=trigger, retries=2)
    async def afan(ctx: Any) -> Any:
        n = ctx.event.data["n"]

        async def block(name: str, value: int) -> int:
            return flaky(name, value)

        results = await ctx.group.parallel((lambda: ctx.step.run("a", block, "a", n),
                                            lambda: ctx.step.run("b", block, "b", n * 10),
                                            lambda: ctx.step.run("c", block, "c", n * 100)))
        total = await ctx.step.run("d", lambda: sum(results))
        return {"results": list(results), "total": total}

    api = fastapi.FastAPI()
    inngest_fast_api.serve(api, client, [afan])
    return api


def our_app(kind: str, flaky: Flaky) -> Any:
    trigger = Trigger(event="shop/order")
    if kind == "wsgi":
        @function(id="fan", trigger=trigger, retries=2)
        def fan(ctx: Any, step: Step) -> Any:
            n = ctx.event["data"]["n"]
            results = step.parallel([lambda: step.step("a", lambda: flaky("a", n)),
                                     lambda: step.step("b", lambda: flaky("b", n * 10)),
                                     lambda: step.step("c", lambda: flaky("c", n * 100))])
            total = step.step("d", lambda: sum(results))
            return {"results": list(results), "total": total}

        return App("shop", [fan], signing_key=KEY, env={}).wsgi()

    @function(id="fan", trigger=trigger, retries=2)
    async def afan(ctx: Any, step: AsyncStep) -> Any:
        n = ctx.event["data"]["n"]

        async def block(name: str, value: int) -> int:
            return flaky(name, value)

        results = await step.parallel([lambda: step.step("a", lambda: block("a", n)),
                                       lambda: step.step("b", lambda: block("b", n * 10)),
                                       lambda: step.step("c", lambda: block("c", n * 100))])
        total = await step.step("d", lambda: sum(results))
        return {"results": list(results), "total": total}

    return App("shop", [afan], signing_key=KEY, env={}).asgi()


@contextmanager
def serving(kind: str, app: Any) -> Iterator[str]:
    with (wsgi_server(app) if kind in ("flask", "wsgi") else uvicorn_server(app)) as base:
        yield base + "/api/inngest"


def record(fn: RemoteFunction) -> list[tuple[str, Any]]:
    """Every call the runner makes to ``fn``: its ``stepId`` and the answer's ops (opcode,
    hashed id) or status."""
    calls: list[tuple[str, Any]] = []
    original: Callable[..., CallResult] = fn.call

    def call(request: dict[str, Any], step_id: str = "step") -> CallResult:
        answer = original(request, step_id)
        shown = [(op["op"], op["id"]) for op in answer.body] if answer.status == 206 \
            else (answer.status, answer.body)
        calls.append((step_id, shown))
        return answer

    fn.call = call  # type: ignore[method-assign]
    return calls


def drive(kind: str, make: Callable[[str, Flaky], Any]) -> tuple[list[tuple[str, Any]], Any]:
    with serving(kind, make(kind, Flaky())) as url:
        runner = LocalRunner.remote(url, KEY, clock=ManualClock(T0))
        calls = record(runner.functions["fan"])  # type: ignore[arg-type]
        [run] = runner.send(EVENT)
        runner.advance(timedelta(seconds=15))
        assert runner.status(run) == "completed", runner.history(run)
        result = runner.result(run)
        runner.close()
    return calls, result


@pytest.mark.parametrize(("theirs", "ours"), [("flask", "wsgi"), ("fastapi", "asgi")])
def test_the_same_parallel_function_makes_the_same_calls_and_ops_in_both_sdks(
        theirs: str, ours: str) -> None:
    their_calls, their_result = drive(theirs, official_app)
    our_calls, our_result = drive(ours, our_app)
    assert their_result == our_result == RESULT
    assert our_calls == their_calls
    from inngest_core.sdk.protocol import hash_step_id
    a, b, c, d = (hash_step_id(s) for s in "abcd")
    assert our_calls == [
        ("step", [("StepPlanned", a), ("StepPlanned", b), ("StepPlanned", c)]),
        (a, [("StepRun", a)]), (b, [("StepError", b)]), (c, [("StepRun", c)]),
        (b, [("StepRun", b)]),
        ("step", [("StepPlanned", d)]), (d, [("StepRun", d)]),
        ("step", (200, RESULT))]
