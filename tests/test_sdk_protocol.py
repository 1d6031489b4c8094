"""Golden tests of Inngest's step protocol as ``Function.handle`` speaks it: every opcode's
JSON, every status and header, memo forms, step-id hashing, bad requests, registration."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import inngest_core
from inngest_core.sdk import (
    Context,
    Function,
    NonRetriableError,
    Step,
    StepError,
    Trigger,
    function,
)
from inngest_core.sdk.protocol import call_request

EVENT = {"name": "auth/signup", "data": {"user": {"id": 7}}, "id": "ev1", "ts": 1}
SDK = f"inngest_core:v{inngest_core.__version__}"
BASE = {"Content-Type": "application/json", "X-Inngest-Sdk": SDK, "X-Inngest-Req-Version": "2"}


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def call(fn: Function, steps: dict[str, Any] | None = None, attempt: int = 0,
         event: dict[str, Any] = EVENT) -> tuple[int, dict[str, str], Any]:
    request = json.loads(json.dumps(call_request(event, run_id="run-1", attempt=attempt,
                                                 steps=steps, max_attempts=fn.max_attempts)))
    response = fn.handle(request)
    # Everything must survive a JSON round trip exactly (it goes over HTTP).
    body = json.loads(response.json())
    assert body == response.body
    return response.status, response.headers, body


def make(body: Any, **kw: Any) -> Function:
    return function(id="f", trigger=Trigger(event="auth/signup"), **kw)(body)


# ---------------------------------------------------------------------- each opcode


def test_step_run_golden() -> None:
    fn = make(lambda ctx, step: step.step("create user", lambda: {"id": 1, "name": "Ann"}))
    status, headers, body = call(fn)
    assert status == 206
    assert headers == BASE
    assert body == [{"id": sha1("create user"), "op": "StepRun", "name": "create user",
                     "displayName": "create user", "opts": None,
                     "data": {"id": 1, "name": "Ann"}}]


@pytest.mark.parametrize("text,canonical", [("2s", "2s"), ("1d", "1d"), ("5m", "5m"),
                                            ("1h30m", "1h30m"), ("90m", "1h30m"),
                                            ("PT1H30M", "1h30m"), ("366d", "52w2d")])
def test_sleep_golden(text: str, canonical: str) -> None:
    fn = make(lambda ctx, step: step.sleep("cool down", text))
    status, headers, body = call(fn)
    assert (status, headers) == (206, BASE)
    assert body == [{"id": sha1("cool down"), "op": "Sleep", "name": "cool down",
                     "displayName": "cool down", "opts": {"duration": canonical}}]


def test_sleep_timedelta_golden() -> None:
    fn = make(lambda ctx, step: step.sleep("nap", timedelta(hours=1, minutes=30)))
    assert call(fn)[2][0]["opts"] == {"duration": "1h30m"}


@pytest.mark.parametrize("when", [
    "2023-07-18T07:31:00Z",
    "Tue, 18 Jul 2023 07:31:00 GMT",
    "2023-07-18T09:31:00+02:00",
    datetime(2023, 7, 18, 9, 31, tzinfo=timezone(timedelta(hours=2))),
    lambda: "2023-07-18T07:31:00Z",
    lambda: datetime(2023, 7, 18, 7, 31, tzinfo=timezone.utc),
], ids=["rfc3339", "rfc1123", "offset", "datetime", "block-str", "block-datetime"])
def test_sleep_until_golden(when: Any) -> None:
    fn = make(lambda ctx, step: step.sleep_until("sleep until 2023-07-18", when))
    status, headers, body = call(fn)
    assert (status, headers) == (206, BASE)
    assert body == [{"id": sha1("sleep until 2023-07-18"), "op": "Sleep",
                     "name": "sleep until 2023-07-18", "displayName": "sleep until 2023-07-18",
                     "opts": {"duration": "2023-07-18T07:31:00Z"}}]


def test_wait_for_event_golden() -> None:
    fn = make(lambda ctx, step: step.wait_for_event(
        "confirm", event="auth/signup.email.confirmed", timeout="1d"))
    status, headers, body = call(fn)
    assert (status, headers) == (206, BASE)
    assert body == [{"id": sha1("confirm"), "op": "WaitForEvent",
                     "name": "auth/signup.email.confirmed", "displayName": "confirm",
                     "opts": {"event": "auth/signup.email.confirmed", "timeout": "1d",
                              "if": None}}]


def test_wait_for_event_match_golden() -> None:
    fn = make(lambda ctx, step: step.wait_for_event(
        "confirm", event="auth/signup.email.confirmed", timeout="24h", match="data.user.id"))
    body = call(fn)[2]
    assert body[0]["opts"] == {"event": "auth/signup.email.confirmed", "timeout": "1d",
                               "if": "event.data.user.id == async.data.user.id"}


def test_wait_for_event_if_golden() -> None:
    source = "event.data.user.id == async.data.user.id && async.data.ok"
    fn = make(lambda ctx, step: step.wait_for_event(
        "confirm", event="auth/signup.email.confirmed", timeout="1h", if_=source))
    opts = call(fn)[2][0]["opts"]
    assert opts["timeout"] == "1h"
    assert opts["if"] == inngest_core.compile_expression(source).source


def test_step_error_golden() -> None:
    def body(ctx: Context, step: Step) -> Any:
        return step.step("charge", lambda: (_ for _ in ()).throw(RuntimeError("kaput")))

    status, headers, out = call(make(body), attempt=0)
    assert status == 206
    assert headers == {**BASE, "X-Inngest-No-Retry": "false"}
    [op] = out
    stack = op["error"].pop("stack")
    assert "Traceback" in stack and "RuntimeError: kaput" in stack
    assert op == {"id": sha1("charge"), "op": "StepError", "name": "charge",
                  "displayName": "charge", "opts": None,
                  "error": {"name": "RuntimeError", "message": "kaput"}}


def test_step_failed_on_last_attempt() -> None:
    def body(ctx: Context, step: Step) -> Any:
        return step.step("charge", lambda: 1 / 0)

    fn = make(body)
    assert call(fn, attempt=3)[2][0]["op"] == "StepError"
    status, headers, out = call(fn, attempt=4)
    assert status == 206
    assert headers == {**BASE, "X-Inngest-No-Retry": "true"}
    assert out[0]["op"] == "StepFailed"
    assert out[0]["error"]["name"] == "ZeroDivisionError"
    # retries=1 means 2 attempts: the second is the last.
    assert call(make(body, retries=1), attempt=1)[2][0]["op"] == "StepFailed"
    assert call(make(body, retries=0), attempt=0)[2][0]["op"] == "StepFailed"


def test_step_failed_non_retriable() -> None:
    def body(ctx: Context, step: Step) -> Any:
        def charge() -> None:
            raise NonRetriableError("card declined")
        return step.step("charge", charge)

    status, headers, out = call(make(body))
    assert (status, headers) == (206, {**BASE, "X-Inngest-No-Retry": "true"})
    assert out[0]["op"] == "StepFailed"
    assert out[0]["error"]["name"] == "NonRetriableError"
    assert out[0]["error"]["message"] == "card declined"


def test_step_result_must_be_json() -> None:
    fn = make(lambda ctx, step: step.step("when", lambda: datetime(2024, 1, 1)))
    status, headers, out = call(fn)
    assert (status, headers["X-Inngest-No-Retry"]) == (206, "true")
    assert out[0]["op"] == "StepFailed"
    assert out[0]["error"]["name"] == "TypeError"
    assert out[0]["error"]["message"].startswith(
        'step "when" returned a value that is not JSON-serializable: ')
    assert "datetime" in out[0]["error"]["message"]


def test_bad_if_fails_the_step_with_the_caret_message() -> None:
    fn = make(lambda ctx, step: step.wait_for_event(
        "confirm", event="auth/confirmed", timeout="1h", if_="event.data.id == == 1"))
    status, headers, out = call(fn)
    assert (status, headers["X-Inngest-No-Retry"]) == (206, "true")
    assert out[0]["op"] == "StepFailed"
    assert out[0]["error"]["name"] == "ExpressionSyntaxError"
    assert "^" in out[0]["error"]["message"]
    try:
        inngest_core.compile_expression("event.data.id == == 1")
    except inngest_core.ExpressionSyntaxError as exc:
        assert out[0]["error"]["message"] == str(exc)
    # Replayed with its error memo, the step raises StepError; uncaught, the run fails.
    status, headers, out = call(fn, steps={sha1("confirm"): {"error": out[0]["error"]}})
    assert (status, headers["X-Inngest-No-Retry"]) == (400, "true")
    assert out["name"] == "ExpressionSyntaxError"


# ---------------------------------------------------------------------- finishing


def test_function_returns_200() -> None:
    status, headers, body = call(make(lambda ctx, step: {"ok": True, "n": [1, 2]}))
    assert (status, headers, body) == (200, BASE, {"ok": True, "n": [1, 2]})
    assert call(make(lambda ctx, step: None))[::2] == (200, None)
    assert call(make(lambda ctx, step: "text"))[2] == "text"


def test_function_raises_500_retriable() -> None:
    def body(ctx: Context, step: Step) -> Any:
        raise KeyError("missing")

    status, headers, out = call(make(body))
    assert status == 500
    assert headers == {**BASE, "X-Inngest-No-Retry": "false"}
    assert set(out) == {"name", "message", "stack"}
    assert (out["name"], out["message"]) == ("KeyError", "'missing'")


def test_function_non_retriable_400() -> None:
    def body(ctx: Context, step: Step) -> Any:
        raise NonRetriableError("nope")

    status, headers, out = call(make(body))
    assert (status, headers) == (400, {**BASE, "X-Inngest-No-Retry": "true"})
    assert (out["name"], out["message"]) == ("NonRetriableError", "nope")


def test_memoized_error_raises_step_error_which_may_be_caught() -> None:
    failed = {"error": {"name": "ValueError", "message": "bad card", "stack": "st"}}

    def uncaught(ctx: Context, step: Step) -> Any:
        return step.step("charge", lambda: 1)

    status, headers, out = call(make(uncaught), steps={sha1("charge"): failed})
    assert (status, headers) == (400, {**BASE, "X-Inngest-No-Retry": "true"})
    assert out == {"name": "ValueError", "message": "bad card", "stack": "st"}

    def caught(ctx: Context, step: Step) -> Any:
        try:
            step.step("charge", lambda: 1)
        except StepError as exc:
            return {"caught": exc.name, "message": exc.message}
        return "unreachable"

    assert call(make(caught), steps={sha1("charge"): failed})[::2] == (
        200, {"caught": "ValueError", "message": "bad card"})


def test_non_json_return_fails_without_retry() -> None:
    status, headers, out = call(make(lambda ctx, step: {1, 2}))
    assert (status, headers["X-Inngest-No-Retry"]) == (400, "true")
    assert out["name"] == "TypeError"


# ---------------------------------------------------------------------- memos and replay


def test_replay_with_every_memo_form() -> None:
    seen: dict[str, Any] = {}

    def body(ctx: Context, step: Step) -> Any:
        seen["user"] = step.step("create user", lambda: pytest.fail("memoized"))
        step.sleep("cool down", "1h30m")
        step.sleep_until("until", "2023-07-18T07:31:00Z")
        seen["matched"] = step.wait_for_event("confirm", event="e/confirmed", timeout="1d")
        seen["missed"] = step.wait_for_event("remind", event="e/reminded", timeout="1d")
        return "done"

    confirmed = {"name": "e/confirmed", "data": {"user": {"id": 7}}}
    steps = {sha1("create user"): {"data": {"id": 7}}, sha1("cool down"): None,
             sha1("until"): None, sha1("confirm"): confirmed, sha1("remind"): None}
    assert call(make(body), steps=steps)[::2] == (200, "done")
    assert seen == {"user": {"id": 7}, "matched": confirmed, "missed": None}


def test_failed_wait_memo_raises_step_error() -> None:
    fn = make(lambda ctx, step: step.wait_for_event("confirm", event="e/c", timeout="1h"))
    failed = {"error": {"name": "ExpressionSyntaxError", "message": "bad", "stack": ""}}
    status, headers, out = call(fn, steps={sha1("confirm"): failed})
    assert (status, headers["X-Inngest-No-Retry"]) == (400, "true")
    assert (out["name"], out["message"]) == ("ExpressionSyntaxError", "bad")
    # A matched event is returned whole, whatever its fields.
    event = {"name": "e/c", "data": {}, "error": "a field of the event"}
    assert call(fn, steps={sha1("confirm"): event})[::2] == (200, event)


def test_step_run_runs_every_execution_and_reports_nothing() -> None:
    runs: list[int] = []

    def body(ctx: Context, step: Step) -> Any:
        value = step.run("non deterministic code block", lambda: runs.append(1) or len(runs))
        step.step("idempotent code block", lambda: value)
        return value

    fn = make(body)
    status, _, out = call(fn)
    assert status == 206 and out[0]["name"] == "idempotent code block"
    assert out[0]["data"] == 1
    status, _, out = call(fn, steps={sha1("idempotent code block"): {"data": 1}})
    assert (status, out) == (200, 2)
    assert runs == [1, 1]


def test_repeated_step_ids_are_hashed_with_a_counter() -> None:
    def body(ctx: Context, step: Step) -> Any:
        return [step.step("dup", lambda: n) for n in range(3)]

    fn = make(body)
    assert call(fn)[2][0]["id"] == sha1("dup")
    assert call(fn, steps={sha1("dup"): {"data": 0}})[2][0]["id"] == sha1("dup:1")
    steps = {sha1("dup"): {"data": 0}, sha1("dup:1"): {"data": 1}}
    assert call(fn, steps=steps)[2][0]["id"] == sha1("dup:2")
    steps[sha1("dup:2")] = {"data": 2}
    assert call(fn, steps=steps)[2] == [0, 1, 2]


def test_ctx_carries_event_events_run_id_attempt() -> None:
    fn = make(lambda ctx, step: {"event": ctx.event, "events": ctx.events, "run": ctx.run_id,
                                 "attempt": ctx.attempt})
    out = call(fn, attempt=2)[2]
    assert out == {"event": EVENT, "events": [EVENT], "run": "run-1", "attempt": 2}


# ---------------------------------------------------------------------- argument errors


@pytest.mark.parametrize("duration,message", [
    ("-1s", "must not be negative"),
    (timedelta(seconds=-1), "must not be negative"),
    ("367d", "at most 366 days"),
    (timedelta(days=366, seconds=1), "at most 366 days"),
    ("1x", 'unknown unit "x"'),
    (5, "must be a str or a timedelta"),
])
def test_bad_sleep_is_an_error_at_the_call(duration: Any, message: str) -> None:
    step = Step({}, attempt=0, max_attempts=1)
    with pytest.raises(ValueError, match=message):
        step.sleep("nap", duration)
    status, headers, out = call(make(lambda ctx, step: step.sleep("nap", duration)))
    assert (status, headers["X-Inngest-No-Retry"]) == (400, "true")
    assert out["name"] == "StepUsageError" and message in out["message"]


def test_366_days_is_allowed() -> None:
    assert call(make(lambda ctx, step: step.sleep("nap", "366d")))[0] == 206
    assert call(make(lambda ctx, step: step.wait_for_event(
        "w", event="e", timeout=timedelta(days=366))))[0] == 206


def test_bad_sleep_until_and_wait_arguments() -> None:
    step = Step({}, attempt=0, max_attempts=1)
    with pytest.raises(ValueError, match="aware datetime"):
        step.sleep_until("s", datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="sleep_until: "):
        step.sleep_until("s", "not a date")
    with pytest.raises(ValueError, match="match or if_, not both"):
        step.wait_for_event("w", event="e", timeout="1h", match="data.id", if_="true")
    with pytest.raises(ValueError, match="at most 366 days"):
        step.wait_for_event("w", event="e", timeout="400d")
    with pytest.raises(ValueError, match="event name"):
        step.wait_for_event("w", event="", timeout="1h")


# ---------------------------------------------------------------------- requests


@pytest.mark.parametrize("request_body,message", [
    ([], "the body must be a JSON object, not list"),
    ({"events": [], "steps": {}, "ctx": {}}, 'missing key "event"'),
    ({"event": {}, "steps": {}, "ctx": {}}, 'missing key "events"'),
    ({"event": {}, "events": [], "ctx": {}}, 'missing key "steps"'),
    ({"event": {}, "events": [], "steps": {}}, 'missing key "ctx"'),
    ({"event": {}, "events": [], "steps": {}, "ctx": {"attempt": 0}}, 'missing key "ctx.run_id"'),
    ({"event": {}, "events": [], "steps": {}, "ctx": {"run_id": "r"}},
     'missing key "ctx.attempt"'),
    ({"event": [], "events": [], "steps": {}, "ctx": {}}, '"event" must be dict, not list'),
    ({"event": {}, "events": [1], "steps": {}, "ctx": {}}, '"events[0]" must be dict, not int'),
    ({"event": {}, "events": [], "steps": {}, "ctx": {"run_id": 1, "attempt": 0}},
     '"ctx.run_id" must be str, not int'),
    ({"event": {}, "events": [], "steps": {}, "ctx": {"run_id": "r", "attempt": "0"}},
     '"ctx.attempt" must be int, not str'),
    ({"event": {}, "events": [], "steps": {}, "ctx": {"run_id": "r", "attempt": True}},
     '"ctx.attempt" must be int, not bool'),
    ({"event": {}, "events": [], "steps": {}, "ctx": {"run_id": "r", "attempt": 0},
      "use_api": "no"}, '"use_api" must be bool, not str'),
    ({"event": {}, "events": [], "steps": {}, "ctx": {"run_id": "r", "attempt": 0},
      "use_api": True}, "use_api is true"),
])
def test_malformed_request_is_400_with_a_clear_message(request_body: Any, message: str) -> None:
    response = make(lambda ctx, step: None).handle(request_body)
    assert response.status == 400
    assert response.headers == {**BASE, "X-Inngest-No-Retry": "true"}
    assert response.body["name"] == "RequestError"
    assert message in response.body["message"]
    assert "Traceback" not in response.json()


def test_request_as_the_server_sends_it() -> None:
    fn = make(lambda ctx, step: ctx.run_id)
    request = {
        "event": EVENT, "events": [EVENT], "steps": {}, "use_api": False, "version": 2,
        "ctx": {"run_id": "01J", "attempt": 0, "max_attempts": 5,
                "disable_immediate_execution": False, "use_api": False,
                "stack": {"stack": [], "current": 0}, "fn_id": "x", "env": "dev"},
    }
    assert fn.handle(request).body == "01J"


# ---------------------------------------------------------------------- registration


def test_registration_document_golden() -> None:
    @function(id="sign-up-flow", name="Sign up flow", trigger=Trigger(event="auth/signup"))
    def sign_up(ctx: Context, step: Step) -> None:
        return None

    assert sign_up.config("shop", "http://localhost:8000/api/inngest") == {
        "id": "shop-sign-up-flow",
        "name": "Sign up flow",
        "triggers": [{"event": "auth/signup"}],
        "steps": {"step": {
            "id": "step", "name": "step", "retries": {"attempts": 4},
            "runtime": {"type": "http", "url": "http://localhost:8000/api/inngest"
                                               "?fnId=shop-sign-up-flow&stepId=step"}}},
    }
    assert (sign_up.name, sign_up.slug, sign_up.trigger.event) == (
        "Sign up flow", "sign-up-flow", "auth/signup")


def test_registration_cron_and_retries() -> None:
    fn = function(id="digest", trigger=Trigger(cron="TZ=Europe/Paris 0 9 * * *"),
                  retries=2)(lambda ctx, step: None)
    doc = fn.config("app", "http://h/api")
    assert doc["name"] == "digest"
    assert doc["triggers"] == [{"cron": "TZ=Europe/Paris 0 9 * * *"}]
    assert doc["steps"]["step"]["retries"] == {"attempts": 2}


def test_registration_event_expression() -> None:
    fn = function(id="big", trigger=Trigger(event="shop/order", if_="event.data.total > 100"))(
        lambda ctx, step: None)
    assert fn.config("app", "u")["triggers"] == [
        {"event": "shop/order", "expression": "event.data.total > 100"}]


def test_definition_errors() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Trigger()
    with pytest.raises(ValueError, match="exactly one"):
        Trigger(event="a", cron="* * * * *")
    with pytest.raises(ValueError, match="invalid function id"):
        function(id="has space", trigger=Trigger(event="a"))(lambda ctx, step: None)
    with pytest.raises(ValueError, match="retries"):
        function(id="f", trigger=Trigger(event="a"), retries=21)(lambda ctx, step: None)
