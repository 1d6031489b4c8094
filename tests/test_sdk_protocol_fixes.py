"""Protocol corrections (issue 15): ``RetryAfterError`` and ``Retry-After`` read as the server
reads it; ``use_api`` calls fetching the run from Inngest's API; Inngest's size and step
limits; ``App.send`` retrying with the event-id seed; a call to an unknown function or with
a bad signature left retriable, so a run outlives a rolling deploy or a key rotation.
Cross-checked with the official SDK (``inngest`` 0.5.19, test-only) where it has the same
behaviour; where it differs, the SDK specification wins and the test says so:

- ``RetryAfterError``: the official SDK always writes an ISO date and no
  ``X-Inngest-No-Retry``; we write seconds or an HTTP date, with ``X-Inngest-No-Retry:
  false`` (SDK spec 4.4.3); a step's one goes out with its ``StepError`` (206), which the
  server retries at that time, where the official SDK fails the whole call with a 500.
- the API token: the official SDK drops the ``signkey-<env>-`` prefix; the spec (4.1.4)
  keeps it.
- a bad signature on a call: the official SDK answers 401; the spec (4.1.3) says 500.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from test_serve_support import FALLBACK, KEY, OTHER, Recorder, wsgi_server

from inngest_core.sdk import App, Context, LocalRunner, ManualClock, RetryAfterError, \
    SendError, Step, Trigger, function
from inngest_core.sdk.protocol import MAX_OUTPUT_BYTES, call_request
from inngest_core.sdk.scheduler import retry_after_at
from inngest_core.sdk.signing import hash_signing_key, sign_request
from inngest_core.sdk.step import StepInterrupt
from inngest_core.sdk.transport import CallResult, Target

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=timezone.utc)
EVENT = {"name": "demo/go", "data": {"who": "ann"}}


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------- Retry-After

TRIES: list[int] = []


@function(id="flaky-step", trigger=Trigger(event="demo/flaky-step"))
def flaky_step(ctx: Context, step: Step) -> Any:
    def call() -> str:
        TRIES.append(ctx.attempt)
        if ctx.attempt == 0:
            raise RetryAfterError("rate limited", 120)
        return "ok"

    return step.step("call api", call)


@function(id="flaky-run", trigger=Trigger(event="demo/flaky-run"), retries=1)
def flaky_run(ctx: Context, step: Step) -> Any:
    TRIES.append(ctx.attempt)
    if ctx.attempt == 0:
        raise RetryAfterError("down for maintenance",
                              datetime(2024, 1, 1, 13, 30, tzinfo=timezone.utc))
    return "back"


@pytest.fixture(autouse=True)
def _clear() -> None:
    TRIES.clear()


@pytest.fixture(params=["in process", "over HTTP"])
def runner(request: pytest.FixtureRequest) -> Iterator[LocalRunner]:
    with ExitStack() as stack:
        if request.param == "in process":
            made = LocalRunner([flaky_step, flaky_run], db=":memory:", clock=ManualClock(T0))
        else:
            app = App("shop", [flaky_step, flaky_run], signing_key=KEY, env={})
            base = stack.enter_context(wsgi_server(app.wsgi()))
            made = LocalRunner.remote(base + "/api/inngest", KEY, clock=ManualClock(T0))
        stack.callback(made.close)
        yield made


def test_retry_after_error_header_values() -> None:
    assert RetryAfterError("x", 0).retry_after == "1"
    assert RetryAfterError("x", 2.01).retry_after == "3"
    assert RetryAfterError("x", 10**9).retry_after == "86400"
    assert RetryAfterError("x", timedelta(minutes=2)).retry_after == "120"
    with pytest.raises(ValueError, match="aware datetime"):
        RetryAfterError("x", datetime(2024, 1, 1))
    with pytest.raises(TypeError, match="not str"):
        RetryAfterError("x", "120")  # type: ignore[arg-type]


def test_a_function_raising_retry_after_answers_500_with_the_header() -> None:
    answer = flaky_run.handle(call_request(EVENT, run_id="r", max_attempts=2))
    assert answer.status == 500
    assert answer.headers["Retry-After"] == "Mon, 01 Jan 2024 13:30:00 GMT"
    assert answer.headers["X-Inngest-No-Retry"] == "false"
    assert (answer.body["name"], answer.body["message"]) == (
        "RetryAfterError", "down for maintenance")


def test_a_step_raising_retry_after_reports_step_error_with_the_header() -> None:
    answer = flaky_step.handle(call_request(EVENT, run_id="r", max_attempts=5))
    assert answer.status == 206 and answer.body[0]["op"] == "StepError"
    assert (answer.headers["Retry-After"], answer.headers["X-Inngest-No-Retry"]) == (
        "120", "false")
    # On the last attempt the step fails for good: no retry, no Retry-After.
    def always(ctx: Context, step: Step) -> Any:
        def call() -> Any:
            raise RetryAfterError("rate limited", 120)
        return step.step("call api", call)

    fn = function(id="always", trigger=Trigger(event="a"))(always)
    last = fn.handle(call_request(EVENT, run_id="r", attempt=4, max_attempts=5))
    assert last.body[0]["op"] == "StepFailed" and "Retry-After" not in last.headers
    assert last.headers["X-Inngest-No-Retry"] == "true"


def test_the_runner_waits_as_long_as_retry_after_says(runner: LocalRunner) -> None:
    [run] = runner.send({"name": "demo/flaky-step"})
    error = runner.history(run)[1]
    assert (error.op, error.until) == ("StepError", T0 + timedelta(seconds=120))
    runner.advance(timedelta(seconds=119))
    assert TRIES == [0] and runner.status(run) == "running"
    runner.advance(timedelta(seconds=1))
    assert TRIES == [0, 1] and runner.result(run) == "ok"

    [run] = runner.send({"name": "demo/flaky-run"})
    failed = runner.history(run)[1]
    assert (failed.op, failed.until) == ("FunctionError", datetime(2024, 1, 1, 13, 30,
                                                                   tzinfo=timezone.utc))
    runner.advance(timedelta(hours=1, minutes=27, seconds=59))  # to 13:29:59
    assert runner.status(run) == "running" and TRIES == [0, 1, 0]
    runner.advance(timedelta(seconds=1))
    assert runner.result(run) == "back"


@pytest.mark.parametrize("value,expected", [
    ("120", T0 + timedelta(seconds=120)),
    ("+5", T0 + timedelta(seconds=5)),
    ("0", None),
    ("-5", None),
    ("1.5", None),
    ("", None),
    ("soon", None),
    ("9999999", T0 + timedelta(hours=24)),
    ("Mon, 01 Jan 2024 12:30:00 GMT", T0 + timedelta(minutes=30)),
    ("2024-01-01T12:10:00.000Z", T0 + timedelta(minutes=10)),
    ("2024-01-01T12:00:00Z", T0 + timedelta(seconds=1)),
    ("2030-01-01T00:00:00Z", T0 + timedelta(hours=24)),
])
def test_retry_after_is_read_as_the_server_reads_it(value: str, expected: Any) -> None:
    # httpdriver/parse.go ParseRetry: short positive integers are seconds, else a date in
    # pkg/dateutil's formats, kept within consts.MinRetryDuration and MaxRetryDuration.
    assert retry_after_at(value, T0 + timedelta(microseconds=300)) == expected


# ---------------------------------------------------------------------- limits


def test_a_step_output_over_4_mb_fails_the_step_with_its_size() -> None:
    at_limit = "x" * (MAX_OUTPUT_BYTES - 2)
    with pytest.raises(StepInterrupt) as stop:
        Step({}, attempt=0, max_attempts=5).step("big", lambda: at_limit)
    assert stop.value.op["op"] == "StepRun"
    with pytest.raises(StepInterrupt) as stop:
        Step({}, attempt=0, max_attempts=5).step("big", lambda: at_limit + "é")
    assert (stop.value.op["op"], stop.value.no_retry) == ("StepFailed", True)
    assert stop.value.op["error"]["name"] == "OutputTooLargeError"
    assert stop.value.op["error"]["message"] == (
        'step "big" returned 4194306 bytes of JSON; the limit is 4194304 bytes (4 MB)')


def test_a_function_result_over_4_mb_fails_the_run() -> None:
    fn = function(id="huge", trigger=Trigger(event="a"))(lambda ctx, step: ["y" * 4_200_000])
    answer = fn.handle(call_request(EVENT, run_id="r"))
    assert (answer.status, answer.headers["X-Inngest-No-Retry"]) == (400, "true")
    assert answer.body["message"] == (
        'function "huge" returned 4200004 bytes of JSON; the limit is 4194304 bytes (4 MB)')


class Scripted(Target):
    """A function (of another SDK, say) that answers with a fixed result."""

    def __init__(self, result: CallResult, max_attempts: int = 2) -> None:
        self.slug = "scripted"
        self.trigger = Trigger(event="go")
        self.max_attempts = max_attempts
        self.result = result

    def call(self, request: dict[str, Any]) -> CallResult:
        if request["steps"]:
            # Replayed with a memo: end the run with what it got.
            return CallResult(200, False, request["steps"])
        return self.result


def test_the_runner_refuses_a_step_output_over_4_mb() -> None:
    op = {"id": sha1("big"), "op": "StepRun", "name": "big", "displayName": "big",
          "data": "z" * MAX_OUTPUT_BYTES}
    runner = LocalRunner([Scripted(CallResult(206, False, [op]))], db=":memory:",
                         clock=ManualClock(T0))
    [run] = runner.send({"name": "go"})
    failed = runner.history(run)[1]
    assert (failed.step, failed.op) == ("big", "StepFailed")
    message = 'step "big" returned 4194306 bytes of JSON; the limit is 4194304 bytes (4 MB)'
    assert failed.error is not None and failed.error["message"] == message
    assert runner.result(run) == {sha1("big"): {"error": {
        "name": "OutputTooLargeError", "message": message, "stack": ""}}}


def test_the_runner_refuses_an_answer_over_8_mb() -> None:
    runner = LocalRunner([Scripted(CallResult(200, False, "fine", None, 9_000_000))],
                         db=":memory:", clock=ManualClock(T0))
    [run] = runner.send({"name": "go"})
    entry = runner.history(run)[1]
    assert (entry.op, entry.until) == ("FunctionError", T0 + timedelta(seconds=15))
    assert entry.error == {"name": "OutputTooLargeError",
                           "message": "the answer's body is 9000000 bytes; the limit is "
                                      "8388608 bytes (8 MB)"}
    runner.advance(timedelta(seconds=15))
    assert runner.status(run) == "failed"


def test_a_run_over_the_step_limit_fails_as_on_the_server() -> None:
    @function(id="loop", trigger=Trigger(event="go"))
    def loop(ctx: Context, step: Step) -> Any:
        return [step.step("n", lambda i=i: i) for i in range(5)]  # type: ignore[misc]

    assert LocalRunner.max_steps == 1000
    runner = LocalRunner([loop], db=":memory:", clock=ManualClock(T0))
    runner.max_steps = 3
    [run] = runner.send({"name": "go"})
    assert runner.status(run) == "failed"
    assert runner.error(run) == {"error": "function has too many steps",
                                 "name": "InngestErrFunctionOverflowed",
                                 "message": "The function run exceeded the step limit of 3 "
                                            "steps."}
    assert [e.op for e in runner.history(run)].count("StepRun") == 3


# ---------------------------------------------------------------------- unknown function,
# bad signature: retried, so the run survives


def test_a_run_survives_a_key_rotation_and_a_missing_function() -> None:
    seen: list[str] = []

    @function(id="hello", trigger=Trigger(event="demo/go"))
    def hello(ctx: Context, step: Step) -> Any:
        seen.append(ctx.run_id)
        return "hi"

    app = App("shop", [hello], signing_key=KEY, env={})
    with wsgi_server(app.wsgi()) as base:
        runner = LocalRunner.remote(base + "/api/inngest", KEY, clock=ManualClock(T0))
        [target] = runner.functions.values()
        target.signing_key = OTHER  # type: ignore[attr-defined]  # the server has a new key
        [run] = runner.send({"name": "demo/go"})
        failed = runner.history(run)[1]
        assert (failed.op, failed.until) == ("FunctionError", T0 + timedelta(seconds=15))
        assert seen == []
        target.signing_key = KEY  # type: ignore[attr-defined]  # the app has it now
        target.url = target.url.replace("shop-hello", "shop-gone")  # type: ignore[attr-defined]
        runner.advance(timedelta(seconds=15))
        error = runner.history(run)[2].error
        assert error is not None and error["name"] == "FunctionNotFound"
        assert runner.status(run) == "running"
        target.url = target.url.replace("shop-gone", "shop-hello")  # type: ignore[attr-defined]
        runner.advance(timedelta(seconds=30))
        assert (runner.status(run), runner.result(run)) == ("completed", "hi")


# ---------------------------------------------------------------------- use_api

MEMO = {sha1("greet"): {"data": "hi bob"}}
BATCH = [{"name": "demo/go", "data": {"who": "bob"}, "id": "e1", "ts": 1}]


@function(id="greeter", trigger=Trigger(event="demo/go"))
def greeter(ctx: Context, step: Step) -> Any:
    greeting = step.step("greet", lambda: "hi " + ctx.event["data"]["who"])
    return {"greeting": greeting, "events": len(ctx.events)}


def trimmed_call() -> dict[str, Any]:
    body = call_request({"name": "demo/go", "data": {}}, run_id="run 1", steps={})
    body["use_api"] = body["ctx"]["use_api"] = True
    body["events"] = []
    return body


def api_answer(rejected: set[str]) -> Any:
    def answer(method: str, path: str, headers: dict[str, str], body: bytes
               ) -> tuple[int, Any]:
        if headers.get("authorization") in rejected:
            return 401, {"error": "bad key"}
        if path.endswith("/batch"):
            return 200, BATCH
        if path.endswith("/actions"):
            return 200, MEMO
        return 404, {"error": "no such run"}
    return answer


def post(app: App, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    raw = json.dumps(body).encode()
    status, headers, answer = app.handle_http(
        "POST", "http://h/api/inngest?fnId=shop-greeter&stepId=step",
        {"X-Inngest-Signature": sign_request(raw, KEY)}, raw)
    return status, {k.lower(): v for k, v in headers.items()}, json.loads(answer)


def test_use_api_fetches_the_run_then_executes() -> None:
    main = "Bearer " + hash_signing_key(KEY)
    stand_in = Recorder(api_answer({main}))
    with wsgi_server(stand_in) as api:
        app = App("shop", [greeter], signing_key=KEY, signing_key_fallback=FALLBACK,
                  base_url=api, env={})
        status, _, answer = post(app, trimmed_call())
    assert (status, answer) == (200, {"greeting": "hi bob", "events": 1})
    # Refused with the main key, each request is made again with the fallback key.  (The
    # run id is quoted in the URL; the stand-in sees the decoded PATH_INFO.)
    assert [(m, p, h["authorization"]) for m, p, h, _ in stand_in.seen] == [
        ("GET", "/v0/runs/run 1/batch", main),
        ("GET", "/v0/runs/run 1/batch", "Bearer " + hash_signing_key(FALLBACK)),
        ("GET", "/v0/runs/run 1/actions", main),
        ("GET", "/v0/runs/run 1/actions", "Bearer " + hash_signing_key(FALLBACK))]


def test_use_api_failures_answer_500_retriable() -> None:
    stand_in = Recorder(lambda m, p, h, b: (404, {"error": "run not found"}))
    with wsgi_server(stand_in) as api:
        app = App("shop", [greeter], signing_key=KEY, base_url=api, env={})
        status, headers, answer = post(app, trimmed_call())
    assert (status, headers["x-inngest-no-retry"]) == (500, "false")
    assert answer == {"name": "RunApiError", "message": (
        f"cannot fetch the events of run run 1: GET {api}/v0/runs/run%201/batch answered "
        '404: {"error": "run not found"}')}


def test_use_api_asks_what_the_official_sdk_asks() -> None:
    inngest = pytest.importorskip("inngest")
    comm_lib = pytest.importorskip("inngest._internal.comm_lib")
    server_lib = pytest.importorskip("inngest._internal.server_lib")
    stand_in = Recorder(api_answer(set()))
    body = trimmed_call()
    body["ctx"]["run_id"] = "run-1"
    with wsgi_server(stand_in) as api:
        client = inngest.Inngest(app_id="shop", is_production=True, signing_key=KEY,
                                 api_base_url=api, logger=logging.getLogger("o"))

        def theirs_body(ctx: Any) -> Any:
            greeting = ctx.step.run("greet", lambda: "hi " + ctx.event.data["who"])
            return {"greeting": greeting, "events": len(ctx.events)}

        fn = client.create_function(fn_id="greeter", trigger=inngest.TriggerEvent(
            event="demo/go"))(theirs_body)
        handler = comm_lib.CommHandler(client=client, enable_unauthed_sync=None,
                                       framework=server_lib.Framework.FLASK, functions=[fn],
                                       streaming=None)
        raw = json.dumps(body).encode()
        theirs = handler.post_sync(comm_lib.CommRequest(
            body=raw, headers={"x-inngest-signature": sign_request(raw, KEY)},
            is_connect=False, public_path=None,
            query_params={"fnId": "shop-greeter", "stepId": "step"}, raw_request=None,
            request_url="", serve_origin=None, serve_path=None))
        their_requests = [(m, p, h["authorization"]) for m, p, h, _ in stand_in.seen]
        stand_in.seen.clear()
        status, _, answer = post(App("shop", [greeter], signing_key=KEY, base_url=api,
                                     env={}), body)
    assert theirs.status_code == status == 200
    assert json.loads(json.dumps(theirs.body)) == answer == {"greeting": "hi bob", "events": 1}
    ours = [(m, p, h["authorization"]) for m, p, h, _ in stand_in.seen]
    # The same requests; the token differs on purpose: the official SDK
    # (transforms.hash_signing_key) drops the "signkey-test-" prefix, the SDK specification
    # (4.1.4) keeps it, and so do we.
    token = hash_signing_key(KEY)
    assert sorted(ours) == [("GET", "/v0/runs/run-1/actions", "Bearer " + token),
                            ("GET", "/v0/runs/run-1/batch", "Bearer " + token)]
    assert sorted(their_requests) == [
        (m, p, h.replace("signkey-test-", "")) for m, p, h in sorted(ours)]


# ---------------------------------------------------------------------- App.send


@pytest.fixture()
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    import time

    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    return slept


def flaky_api(failures: int, status: int = 503) -> Recorder:
    count = {"n": 0}

    def answer(method: str, path: str, headers: dict[str, str], body: bytes
               ) -> tuple[int, Any]:
        count["n"] += 1
        if count["n"] <= failures:
            return status, {"error": "try later"}
        return 200, {"ids": ["id-1"], "status": 200}
    return Recorder(answer)


def test_send_retries_5xx_with_backoff_and_one_seed(sleeps: list[float]) -> None:
    stand_in = flaky_api(2)
    with wsgi_server(stand_in) as api:
        assert App("shop", [], dev=api, env={}).send({"name": "a/b"}) == ["id-1"]
    seeds = {headers["x-inngest-event-id-seed"] for _, _, headers, _ in stand_in.seen}
    assert len(stand_in.seen) == 3 and len(seeds) == 1
    assert len(sleeps) == 2
    assert 0.1 <= sleeps[0] < 0.2 and 0.2 <= sleeps[1] < 0.3


def test_send_gives_up_after_5_attempts_and_never_retries_a_4xx(sleeps: list[float]) -> None:
    stand_in = flaky_api(10, 502)
    with wsgi_server(stand_in) as api:
        app = App("shop", [], dev=api, env={})
        with pytest.raises(SendError, match="answered 502: "):
            app.send({"name": "a/b"})
        assert len(stand_in.seen) == 5 and len(sleeps) == 4
        stand_in.seen.clear()
        stand_in.answer = lambda m, p, h, b: (400, {"error": "bad event"})
        with pytest.raises(SendError, match="answered 400"):
            app.send({"name": "a/b"})
        assert len(stand_in.seen) == 1
    with pytest.raises(SendError, match=r"cannot reach http://127.0.0.1:1/e/NO_EVENT_KEY_SET: "
                                        r".* \(5 attempts\)"):
        App("shop", [], dev="http://127.0.0.1:1", env={}).send({"name": "a/b"}, timeout=0.5)


def test_send_retries_as_the_official_client_does(sleeps: list[float]) -> None:
    inngest = pytest.importorskip("inngest")
    stand_in = flaky_api(2)
    with wsgi_server(stand_in) as api:
        client = inngest.Inngest(app_id="shop", is_production=False, event_api_base_url=api,
                                 logger=logging.getLogger("o"))
        assert client.send_sync(inngest.Event(name="a/b")) == ["id-1"]
        theirs = list(stand_in.seen)
        stand_in.seen.clear()
        stand_in.answer = flaky_api(2).answer
        assert App("shop", [], dev=api, env={}).send({"name": "a/b"}) == ["id-1"]
    assert len(theirs) == len(stand_in.seen) == 3
    for requests in (theirs, stand_in.seen):
        seeds = {headers["x-inngest-event-id-seed"] for _, _, headers, _ in requests}
        assert len(seeds) == 1
    their_delays, our_delays = sleeps[:2], sleeps[-2:]
    assert [int(d * 10) for d in their_delays] == [int(d * 10) for d in our_delays] == [1, 2]


# ---------------------------------------------------------------------- the official SDK


def official_post(body_fn: Any, fn_id: str = "shop-flaky") -> tuple[int, dict[str, str], Any]:
    inngest = pytest.importorskip("inngest")
    comm_lib = pytest.importorskip("inngest._internal.comm_lib")
    server_lib = pytest.importorskip("inngest._internal.server_lib")
    client = inngest.Inngest(app_id="shop", is_production=False,
                             api_base_url="http://127.0.0.1:9", logger=logging.getLogger("o"))
    fn = client.create_function(fn_id="flaky", retries=1, trigger=inngest.TriggerEvent(
        event="demo/go"))(lambda ctx: body_fn(inngest, ctx))
    handler = comm_lib.CommHandler(client=client, enable_unauthed_sync=None,
                                   framework=server_lib.Framework.FLASK, functions=[fn],
                                   streaming=None)
    answer = handler.post_sync(comm_lib.CommRequest(
        body=json.dumps(call_request(EVENT, run_id="r", max_attempts=2)).encode(), headers={},
        is_connect=False, public_path=None, query_params={"fnId": fn_id, "stepId": "step"},
        raw_request=None, request_url="", serve_origin=None, serve_path=None))
    return (answer.status_code, {k.lower(): v for k, v in answer.headers.items()},
            json.loads(json.dumps(answer.body)))


def test_an_unknown_function_is_a_500_as_in_the_official_sdk() -> None:
    status, headers, body = official_post(lambda inngest, ctx: None, fn_id="shop-nope")
    raw = json.dumps(call_request(EVENT, run_id="r")).encode()
    mine = App("shop", [], dev=True, env={}).handle_http(
        "POST", "http://h/api?fnId=shop-nope&stepId=step", {}, raw)
    assert status == mine[0] == 500
    assert headers.get("x-inngest-no-retry") != "true"
    assert mine[1]["X-Inngest-No-Retry"] == "false"
    assert (body["name"], json.loads(mine[2])["name"]) == ("FunctionNotFoundError",
                                                          "FunctionNotFound")


def test_retry_after_from_a_function_as_in_the_official_sdk() -> None:
    def theirs(inngest: Any, ctx: Any) -> Any:
        raise inngest.RetryAfterError("down for maintenance", timedelta(minutes=5))

    status, headers, body = official_post(theirs)
    fn = function(id="flaky", trigger=Trigger(event="demo/go"))(
        lambda ctx, step: (_ for _ in ()).throw(RetryAfterError("down for maintenance",
                                                                timedelta(minutes=5))))
    mine = fn.handle(call_request(EVENT, run_id="r", max_attempts=2))
    assert status == mine.status == 500
    assert body["message"] == mine.body["message"] == "down for maintenance"
    # Both ask for the same time, read as the server reads it (theirs as a date, ours as
    # seconds), to within the second the server truncates to.
    now = datetime.now(timezone.utc)
    their_at = retry_after_at(headers["retry-after"], now)
    our_at = retry_after_at(mine.headers["Retry-After"], now)
    assert their_at is not None and our_at is not None
    assert abs((their_at - our_at).total_seconds()) <= 1.5


def test_use_api_reaching_function_handle_directly_names_the_way_out() -> None:
    answer = greeter.handle(trimmed_call())
    assert (answer.status, answer.headers["X-Inngest-No-Retry"]) == (400, "true")
    assert answer.body["message"] == (
        "invalid call request: use_api is true, but Function.handle has no API to fetch the "
        "run's events and memos from (App fetches them before it calls); send them in the "
        "request")
