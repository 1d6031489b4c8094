"""``step.send_event`` and ``step.invoke`` (issue 15): the ops they report, cross-checked
with the official SDK (``inngest`` 0.5.19, test-only), and the local runner resolving them
under its manual clock -- in process and over HTTP (``LocalRunner.remote``, the app's
``send_event`` posting through ``App.send`` to an event inbox in front of the runner).

Differences from the official SDK, on purpose:

- every op: the official SDK adds ``userland`` and ``data: null``; we send neither.
- ``invoke`` without ``data``: the official SDK sends ``payload.data: null``; we send ``{}``
  (an event's ``data`` is an object, SDK spec 1.3.4).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from test_serve_support import KEY, Recorder, wsgi_server

from inngest_core.sdk import App, Context, LocalRunner, ManualClock, NonRetriableError, Step, \
    StepError, StepUsageError, Trigger, calling, function, kinds
from inngest_core.sdk.devloop import Inbox
from inngest_core.sdk.protocol import call_request
from inngest_core.sdk.step import StepInterrupt

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=timezone.utc)
APP = "shop"


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------- the functions

@function(id="scorer", trigger=Trigger(event="score/never-sent"))
def scorer(ctx: Context, step: Step) -> Any:
    n = ctx.event["data"]["n"]
    if n < 0:
        raise NonRetriableError(f"cannot score {n}")
    if n == 0:
        step.sleep("think", "2h")
    return step.step("double", lambda: n * 2)


@function(id="caller", trigger=Trigger(event="demo/go"))
def caller(ctx: Context, step: Step) -> Any:
    ids = step.send_event("tell", {"name": "demo/told", "data": {"n": ctx.event["data"]["n"]}})
    try:
        score = step.invoke("score", function=scorer, data={"n": ctx.event["data"]["n"]},
                            timeout="1h")
    except StepError as exc:
        score = f"{exc.name}: {exc.message}"
    return {"ids": ids, "score": score}


@function(id="strict-caller", trigger=Trigger(event="demo/strict"))
def strict_caller(ctx: Context, step: Step) -> Any:
    return step.invoke("score", function="scorer", data=ctx.event["data"])


@function(id="lost-caller", trigger=Trigger(event="demo/lost"))
def lost_caller(ctx: Context, step: Step) -> Any:
    try:
        return step.invoke("call", function="nope")
    except StepError as exc:
        return [exc.name, exc.message]


@function(id="listener", trigger=Trigger(event="demo/told"))
def listener(ctx: Context, step: Step) -> Any:
    return {"heard": ctx.event["data"]["n"], "event_id": ctx.event["id"]}


FUNCTIONS = (scorer, caller, strict_caller, lost_caller, listener)


@pytest.fixture(params=["in process", "over HTTP"])
def runner(request: pytest.FixtureRequest) -> Iterator[LocalRunner]:
    """The same runner, calling the functions in process or as an app served on loopback
    (signed), whose ``App.send`` posts to an inbox that hands events to the runner."""
    with ExitStack() as stack:
        if request.param == "in process":
            made = LocalRunner(FUNCTIONS, db=":memory:", clock=ManualClock(T0), app_id=APP)
        else:
            holder: list[LocalRunner] = []
            inbox = stack.enter_context(Inbox(port=0, accept=lambda e: holder[0].accept(e)))
            app = App(APP, FUNCTIONS, signing_key=KEY, event_key="ek", base_url=inbox.url,
                      env={})
            base = stack.enter_context(wsgi_server(app.wsgi()))
            made = LocalRunner.remote(base + "/api/inngest", KEY, clock=ManualClock(T0))
            holder.append(made)
        stack.callback(made.close)
        yield made


def ops(runner: LocalRunner, run_id: str) -> list[tuple[str | None, str]]:
    return [(e.step, e.op) for e in runner.history(run_id)]


def runs_of(runner: LocalRunner, fn_id: str) -> list[str]:
    return [run for run, fn, _ in runner.runs() if fn == fn_id]


# ---------------------------------------------------------------------- the runner


def test_send_event_and_invoke_in_one_run(runner: LocalRunner) -> None:
    [run] = runner.send({"name": "demo/go", "data": {"n": 21}})
    result = runner.result(run)
    assert runner.status(run) == "completed"
    assert result["score"] == 42
    [told] = runs_of(runner, "listener")
    assert runner.result(told) == {"heard": 21, "event_id": result["ids"][0]}
    assert ops(runner, run) == [
        (None, "RunStarted"), ("tell", "StepRun"), ("score", "InvokeFunction"),
        ("score", "InvokeFinished"), (None, "RunComplete")]
    history = runner.history(run)
    assert history[1].result == result["ids"]
    [child] = runs_of(runner, "scorer")
    assert history[2].result == {"function_id": "shop-scorer", "run_id": child}
    assert history[2].until == T0 + timedelta(hours=1)
    assert history[3].result == 42
    # The invoked run's event, as Inngest's server makes it (pkg/event/invoke.go).
    event = runner.history(child)[0].result
    assert event["name"] == "inngest/function.invoked"
    assert event["data"]["n"] == 21
    assert event["data"]["_inngest"] == {
        "fn_id": "shop-scorer", "correlation_id": f"{run}.{sha1('score')}",
        "expire": int((T0 + timedelta(hours=1)).timestamp() * 1000), "name": "score",
        "source_fn_id": "caller"}


def test_sent_events_are_sent_once(runner: LocalRunner) -> None:
    [run] = runner.send({"name": "demo/go", "data": {"n": 0}})
    assert runner.status(run) == "invoking"
    runner.advance(timedelta(hours=3))
    assert runner.status(run) == "completed"
    # Replays of "tell" (three more calls of the caller) sent nothing more.
    assert len(runs_of(runner, "listener")) == 1


def test_an_invoked_run_that_fails_raises_step_error(runner: LocalRunner) -> None:
    [run] = runner.send({"name": "demo/go", "data": {"n": -1}})
    assert runner.result(run)["score"] == "NonRetriableError: cannot score -1"
    assert ops(runner, run)[3] == ("score", "InvokeFailed")
    assert runner.history(run)[3].error["message"] == "cannot score -1"


def test_an_uncaught_invoke_failure_fails_the_caller(runner: LocalRunner) -> None:
    [run] = runner.send({"name": "demo/strict", "data": {"n": -2}})
    assert runner.status(run) == "failed"
    error = runner.error(run)
    assert error is not None
    assert (error["name"], error["message"]) == ("NonRetriableError", "cannot score -2")


def test_an_invoke_times_out(runner: LocalRunner) -> None:
    [run] = runner.send({"name": "demo/go", "data": {"n": 0}})
    [child] = runs_of(runner, "scorer")
    assert (runner.status(run), runner.status(child)) == ("invoking", "sleeping")
    runner.advance(timedelta(minutes=59, seconds=59))
    assert runner.status(run) == "invoking"
    runner.advance(timedelta(seconds=1))
    assert runner.result(run)["score"] == (
        "InngestInvokeTimeoutError: Timed out waiting for invoked function to complete")
    timed_out = runner.history(run)[3]
    assert (timed_out.op, timed_out.at, timed_out.error) == (
        "InvokeTimedOut", T0 + timedelta(hours=1), kinds.INVOKE_TIMEOUT_ERROR)
    # The invoked run goes on; its end no longer concerns the caller.
    runner.advance(timedelta(hours=1))
    assert (runner.status(child), runner.result(child)) == ("completed", 0)
    assert [op for _, op in ops(runner, run)].count("InvokeFinished") == 0


def test_invoking_an_unknown_function(runner: LocalRunner) -> None:
    [run] = runner.send({"name": "demo/lost", "data": {}})
    # As the server's runner (pkg/execution/runner/runner.go, FindInvokedFunction).
    assert runner.result(run) == ["Error", "could not find function with ID: shop-nope"]


def test_invoke_over_the_default_wait_of_a_year() -> None:
    @function(id="patient", trigger=Trigger(event="demo/patient"))
    def patient(ctx: Context, step: Step) -> Any:
        return step.invoke("wait", function=scorer, data={"n": 0})

    runner = LocalRunner([patient, scorer], db=":memory:", clock=ManualClock(T0))
    [run] = runner.send({"name": "demo/patient"})
    assert runner.history(run)[1].until == T0 + timedelta(days=365)
    assert runner.history(run)[1].result["function_id"] == "local-scorer"
    runner.advance(timedelta(hours=2))
    assert runner.result(run) == 0


def test_cli_run_shows_the_invoked_and_triggered_runs(tmp_path: Any,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    from inngest_core.cli import main

    path = tmp_path / "flows.py"
    path.write_text(
        "from inngest_core.sdk import function, Trigger\n"
        "@function(id='child', trigger=Trigger(event='never'))\n"
        "def child(ctx, step):\n"
        "    return ctx.event['data']['n'] + 1\n"
        "@function(id='parent', trigger=Trigger(event='go'))\n"
        "def parent(ctx, step):\n"
        "    step.send_event('note', {'name': 'noted', 'id': 'ev-n'})\n"
        "    return step.invoke('add', function=child, data={'n': 1})\n"
        "@function(id='noter', trigger=Trigger(event='noted'))\n"
        "def noter(ctx, step):\n"
        "    return ctx.event['id']\n")
    assert main(["run", str(path), "--event", '{"name": "go"}']) == 0
    out = capsys.readouterr().out
    lines = [line.split("  ", 1)[-1] for line in out.splitlines()]
    assert [line.split(":")[0].split()[-1] for line in out.splitlines()
            if line.startswith("run ")] == ["parent", "noter", "child"]
    assert any(line.endswith('note  StepRun  result=["ev-n"]') for line in lines)
    assert any('add  InvokeFunction  result={"function_id": "local-child"' in line
               for line in lines)
    assert any(line.endswith("add  InvokeFinished  result=2") for line in lines)


# ---------------------------------------------------------------------- the step tools


def test_send_event_checks_its_events_and_needs_somewhere_to_send() -> None:
    step = Step({}, attempt=0, max_attempts=5)
    with pytest.raises(StepUsageError) as info:
        step.send_event("tell", {"data": {}})
    assert str(info.value) == (
        'step "tell": send_event: an event is a mapping with a "name" (a non-empty str)')
    with pytest.raises(StepUsageError, match='step "tell": send_event needs at least one'):
        step.send_event("tell", [])
    with pytest.raises(StepInterrupt) as stop:
        step.send_event("tell", {"name": "a/b"})
    assert stop.value.op["op"] == "StepFailed"
    assert stop.value.op["error"]["message"] == (
        "send_event has nowhere to send events: serve the function with App, or run it with "
        "LocalRunner")


def test_a_failed_send_is_a_step_error_then_a_replay_returns_the_memo() -> None:
    def down(events: list[dict[str, Any]]) -> list[str]:
        raise OSError("event API unreachable")

    with calling(APP, down), pytest.raises(StepInterrupt) as stop:
        Step({}, attempt=0, max_attempts=5).send_event("tell", {"name": "a/b"})
    assert (stop.value.op["op"], stop.value.op["error"]["message"]) == (
        "StepError", "event API unreachable")
    memo = {sha1("tell"): {"data": ["e1"]}}
    with calling(APP, down):
        assert Step(memo, attempt=0, max_attempts=5).send_event("tell", {"name": "a"}) == ["e1"]


@pytest.mark.parametrize("kwargs,message", [
    ({"function": 7}, "invoke needs function= (a Function, or a function id as str), not int"),
    ({"function": "f", "data": [1]}, "invoke's data must be a mapping, not list"),
    ({"function": "f", "timeout": "soon"}, 'invoke timeout: '),
    ({"function": "f", "timeout": "400d"}, "invoke timeout must be at most 366 days"),
    ({"function": "f", "v": 2}, "invoke's v must be a str, not int"),
])
def test_invoke_checks_its_arguments(kwargs: dict[str, Any], message: str) -> None:
    with calling(APP), pytest.raises(StepUsageError) as info:
        Step({}, attempt=0, max_attempts=1).invoke("i", **kwargs)
    assert str(info.value).startswith(f'step "i": {message}')


def test_invoke_needs_an_app_id() -> None:
    with pytest.raises(StepUsageError, match="invoke names the function by its app's id"):
        Step({}, attempt=0, max_attempts=1).invoke("i", function="f")
    with pytest.raises(StepInterrupt) as stop:
        Step({}, attempt=0, max_attempts=1).invoke("i", function="f", app_id="billing")
    assert stop.value.op["opts"]["function_id"] == "billing-f"


@pytest.mark.parametrize("memo,expected", [
    ({"data": {"score": 1}}, {"score": 1}),
    ({"data": None}, None),
])
def test_invoke_replays_its_memo(memo: Any, expected: Any) -> None:
    with calling(APP):
        got = Step({sha1("i"): memo}, attempt=0, max_attempts=1).invoke("i", function="f")
    assert got == expected


# ---------------------------------------------------------------------- the official SDK

inngest = pytest.importorskip("inngest")
comm_lib = pytest.importorskip("inngest._internal.comm_lib")
server_lib = pytest.importorskip("inngest._internal.server_lib")

EVENT = {"name": "demo/go", "data": {"n": 3}}


def official_call(body_fn: Callable[[Any, Any], Any], steps: dict[str, Any],
                  event_api: str = "http://127.0.0.1:9") -> tuple[int, dict[str, str], Any]:
    client = inngest.Inngest(app_id=APP, is_production=False,
                             api_base_url="http://127.0.0.1:9", event_api_base_url=event_api,
                             logger=logging.getLogger("o"))
    target = client.create_function(fn_id="scorer", trigger=inngest.TriggerEvent(event="x"))(
        lambda ctx: None)
    fn = client.create_function(fn_id="caller", retries=4,
                                trigger=inngest.TriggerEvent(event="demo/go"))(
        lambda ctx: body_fn(ctx, target))
    handler = comm_lib.CommHandler(client=client, enable_unauthed_sync=None,
                                   framework=server_lib.Framework.FLASK, functions=[fn, target],
                                   streaming=None)
    raw = comm_lib.CommRequest(
        body=json.dumps(request(steps)).encode("utf-8"), headers={}, is_connect=False,
        public_path=None, query_params={"fnId": f"{APP}-caller", "stepId": "step"},
        raw_request=None, request_url="", serve_origin=None, serve_path=None)
    answer = handler.post_sync(raw)
    return (answer.status_code, {k.lower(): v for k, v in answer.headers.items()},
            json.loads(json.dumps(answer.body)))


def our_call(body_fn: Callable[[Context, Step], Any], steps: dict[str, Any],
             send: Callable[[list[dict[str, Any]]], list[str]] | None = None
             ) -> tuple[int, dict[str, str], Any]:
    fn = function(id="caller", trigger=Trigger(event="demo/go"))(body_fn)
    with calling(APP, send):
        answer = fn.handle(request(steps))
    return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.body


def request(steps: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(call_request(EVENT, run_id="run-1", steps=steps,
                                              max_attempts=5)))


def test_invoke_reports_the_official_op() -> None:
    theirs = official_call(lambda ctx, target: ctx.step.invoke(
        "score", function=target, data={"n": 3}, timeout=timedelta(hours=1)), {})
    mine = our_call(lambda ctx, step: step.invoke(
        "score", function=scorer, data={"n": 3}, timeout="1h"), {})
    assert mine[0] == theirs[0] == 206
    [op] = mine[2]
    [their_op] = theirs[2]
    assert {k: v for k, v in their_op.items() if k not in ("userland", "data")} == op
    assert op == {"id": sha1("score"), "op": "InvokeFunction", "name": "score",
                  "displayName": "score",
                  "opts": {"function_id": "shop-scorer", "payload": {"data": {"n": 3}, "v": None},
                           "timeout": "1h"}}
    # Without a timeout both send null.
    theirs = official_call(lambda ctx, target: ctx.step.invoke(
        "score", function=target, data={"n": 3}), {})
    mine = our_call(lambda ctx, step: step.invoke("score", function="scorer", data={"n": 3}), {})
    assert mine[2][0]["opts"] == theirs[2][0]["opts"]


@pytest.mark.parametrize("memo", [
    {"data": {"points": 6}},
    {"error": {"name": "ValueError", "message": "bad n", "stack": ""}},
    {"error": kinds.INVOKE_TIMEOUT_ERROR},
], ids=["result", "failed", "timed-out"])
def test_invoke_memos_read_as_the_official_sdk_reads_them(memo: Any) -> None:
    def theirs_body(ctx: Any, target: Any) -> Any:
        try:
            return {"got": ctx.step.invoke("score", function=target, data={"n": 3})}
        except inngest.StepError as exc:
            return {"error": [exc.name, exc.message]}

    def our_body(ctx: Context, step: Step) -> Any:
        try:
            return {"got": step.invoke("score", function=scorer, data={"n": 3})}
        except StepError as exc:
            return {"error": [exc.name, exc.message]}

    steps = {sha1("score"): memo}
    theirs, mine = official_call(theirs_body, steps), our_call(our_body, steps)
    assert mine[0] == theirs[0] == 200
    assert mine[2] == theirs[2]


def test_send_event_reports_the_official_op_and_posts_the_same_events() -> None:
    stand_in = Recorder(lambda m, p, h, b: (200, {"ids": ["id-1", "id-2"], "status": 200}))
    events = [{"name": "demo/told", "data": {"n": 1}}, {"name": "demo/told", "data": {"n": 2}}]
    with wsgi_server(stand_in) as api:
        theirs = official_call(lambda ctx, target: ctx.step.send_event(
            "tell", [inngest.Event(name=e["name"], data=e["data"]) for e in events]), {},
            event_api=api)
        app = App(APP, [], dev=api, env={})
        mine = our_call(lambda ctx, step: step.send_event("tell", events), {}, app.send)
    assert mine[0] == theirs[0] == 206
    [op] = mine[2]
    assert {k: v for k, v in theirs[2][0].items() if k != "userland"} == op
    assert op == {"id": sha1("tell"), "op": "StepRun", "name": "tell", "displayName": "tell",
                  "opts": None, "data": ["id-1", "id-2"]}
    (t_method, t_path, t_headers, t_body), (method, path, headers, body) = stand_in.seen
    assert (method, path) == (t_method, t_path) == ("POST", "/e/NO_EVENT_KEY_SET")
    assert [{k: e[k] for k in ("name", "data")} for e in json.loads(t_body)] == (
        json.loads(body)) == events
    for sent in (t_headers, headers):
        seed = sent["x-inngest-event-id-seed"]
        millis, entropy = seed.split(",")
        assert millis.isdigit() and len(entropy) == 16 and entropy.endswith("==")


def test_send_event_replay_matches_the_official_sdk() -> None:
    steps = {sha1("tell"): {"data": ["id-1"]}}
    theirs = official_call(lambda ctx, target: ctx.step.send_event(
        "tell", inngest.Event(name="a/b")), steps)
    mine = our_call(lambda ctx, step: step.send_event("tell", {"name": "a/b"}), steps)
    assert mine[0] == theirs[0] == 200
    assert mine[2] == theirs[2] == ["id-1"]
