"""Cross-check against the official Inngest Python SDK (``inngest`` on PyPI, test-only).

The same function shape gets the same call requests from both SDKs; every field where the
answers differ is named here, with the reason our choice follows Inngest's SDK
specification (inngest/inngest ``docs/SDK_SPEC.md``) or the issue:

- every op: the official SDK adds ``userland`` (and ``data: null``); we send neither.
- ``Sleep``: the official SDK sends ``name`` = the wake-up time and ``opts: null``; we send
  ``name`` = the step id and ``opts.duration`` = the time string (SDK spec 5.3.2).
- ``WaitForEvent``: we also send ``opts.event`` (SDK spec 5.3.3; the server reads it first).
- errors: the official SDK adds ``error.code``; the spec's error is ``{name, message, stack}``.
- a ``NonRetriableError`` raised in a step: the official SDK lets it end the call with 500 and
  ``X-Inngest-No-Retry: true``; we report the step ``StepFailed`` (206, no-retry), as the JS SDK
  and the issue do.
- a non-retriable function error (a ``NonRetriableError``, or a failed step left uncaught):
  official 500, ours 400 -- both with ``X-Inngest-No-Retry: true`` (SDK spec 4.4.3).
- a retriable function error: both 500; we add ``X-Inngest-No-Retry: false`` (SDK spec 4.4.3).
- registration: the official SDK writes every optional field as ``null`` (and
  ``"expression": null``); we leave unset fields out.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta
from typing import Any

import pytest

from inngest_core.sdk import Context, NonRetriableError, Step, Trigger, function

inngest = pytest.importorskip("inngest")
comm_lib = pytest.importorskip("inngest._internal.comm_lib")
server_lib = pytest.importorskip("inngest._internal.server_lib")

APP = "shop"
EVENT = {"name": "auth/signup", "data": {"user": {"id": 7}}}
IF = "event.data.user.id == async.data.user.id"


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def boom() -> Any:
    raise RuntimeError("kaput")


def refuse() -> Any:
    raise NonRetriableError("card declined")


def official(mode: str, retries: int = 4) -> tuple[Any, Any]:
    client = inngest.Inngest(app_id=APP, is_production=False,
                             api_base_url="http://127.0.0.1:9", logger=logging.getLogger("o"))

    def body(ctx: Any) -> Any:
        if mode == "fail":
            return ctx.step.run("charge", boom)
        if mode == "refuse":
            def official_refuse() -> Any:
                raise inngest.NonRetriableError("card declined")
            return ctx.step.run("charge", official_refuse)
        if mode == "raise":
            raise KeyError("missing")
        if mode == "raise-final":
            raise inngest.NonRetriableError("nope")
        user = ctx.step.run("create user", lambda: {"id": ctx.event.data["user"]["id"]})
        ctx.step.sleep("cool down", timedelta(hours=1, minutes=30))
        got = ctx.step.wait_for_event("confirm", event="auth/signup.email.confirmed",
                                      timeout=timedelta(days=1), if_exp=IF)
        return {"user": user, "confirmed": got is not None}

    fn = client.create_function(fn_id="sign-up-flow", name="Sign up flow", retries=retries,
                                trigger=inngest.TriggerEvent(event="auth/signup"))(body)
    handler = comm_lib.CommHandler(client=client, enable_unauthed_sync=None,
                                   framework=server_lib.Framework.FLASK, functions=[fn],
                                   streaming=None)
    return fn, handler


def ours(mode: str, retries: int = 4) -> Any:
    @function(id="sign-up-flow", name="Sign up flow", retries=retries,
              trigger=Trigger(event="auth/signup"))
    def sign_up(ctx: Context, step: Step) -> Any:
        if mode == "fail":
            return step.step("charge", boom)
        if mode == "refuse":
            return step.step("charge", refuse)
        if mode == "raise":
            raise KeyError("missing")
        if mode == "raise-final":
            raise NonRetriableError("nope")
        user = step.step("create user", lambda: {"id": ctx.event["data"]["user"]["id"]})
        step.sleep("cool down", "1h30m")
        # The official SDK has no match=; the same expression through if_ would need the
        # expression compiler, so the wait's "if" is compared from the official side only.
        got = step.wait_for_event("confirm", event="auth/signup.email.confirmed", timeout="1d")
        return {"user": user, "confirmed": got is not None}

    return sign_up


def request(steps: dict[str, Any], attempt: int = 0) -> dict[str, Any]:
    return {"event": EVENT, "events": [EVENT], "steps": steps, "use_api": False, "version": 2,
            "ctx": {"run_id": "run-1", "attempt": attempt, "max_attempts": 5,
                    "disable_immediate_execution": False, "use_api": False,
                    "stack": {"stack": list(steps), "current": len(steps)}}}


def both(mode: str, steps: dict[str, Any], attempt: int = 0) -> tuple[Any, Any]:
    body = request(steps, attempt)
    _, handler = official(mode)
    raw = comm_lib.CommRequest(
        body=json.dumps(body).encode("utf-8"), headers={}, is_connect=False, public_path=None,
        query_params={"fnId": f"{APP}-sign-up-flow", "stepId": "step"}, raw_request=None,
        request_url="", serve_origin=None, serve_path=None)
    theirs = handler.post_sync(raw)
    mine = ours(mode).handle(json.loads(json.dumps(body)))
    their_body = json.loads(json.dumps(theirs.body))
    return ((mine.status, {k.lower(): v for k, v in mine.headers.items()}, mine.body),
            (theirs.status_code, {k.lower(): v for k, v in theirs.headers.items()}, their_body))


def differences(a: Any, b: Any, path: str = "") -> set[str]:
    """The paths of the fields where two JSON values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: set[str] = set()
        for key in set(a) | set(b):
            sub = f"{path}.{key}" if path else key
            if key not in a or key not in b:
                out.add(sub)
            else:
                out |= differences(a[key], b[key], sub)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return set().union(*(differences(x, y, f"{path}[{i}]")
                             for i, (x, y) in enumerate(zip(a, b))))
    return set() if a == b else {path or "."}


def common_headers(mine: dict[str, str], theirs: dict[str, str]) -> None:
    assert mine["x-inngest-req-version"] == theirs["x-inngest-req-version"] == "2"
    assert mine["x-inngest-sdk"].startswith("inngest_core:v")
    assert theirs["x-inngest-sdk"].startswith("inngest-py:v")


MEMO_USER = {sha1("create user"): {"data": {"id": 7}}}


def test_step_run() -> None:
    (status, headers, body), (t_status, t_headers, t_body) = both("flow", {})
    assert status == t_status == 206
    common_headers(headers, t_headers)
    assert differences(body, t_body) == {"[0].userland"}
    assert body[0]["id"] == t_body[0]["id"] == sha1("create user")
    assert body[0]["data"] == t_body[0]["data"] == {"id": 7}


def test_sleep() -> None:
    (status, _, body), (t_status, _, t_body) = both("flow", MEMO_USER)
    assert status == t_status == 206
    assert differences(body, t_body) == {"[0].userland", "[0].data", "[0].name", "[0].opts"}
    assert (body[0]["id"], body[0]["op"], body[0]["displayName"]) == (
        t_body[0]["id"], t_body[0]["op"], t_body[0]["displayName"])
    assert body[0]["opts"] == {"duration": "1h30m"} and t_body[0]["opts"] is None


def test_wait_for_event() -> None:
    steps = {**MEMO_USER, sha1("cool down"): None}
    (status, _, body), (t_status, _, t_body) = both("flow", steps)
    assert status == t_status == 206
    assert differences(body, t_body) == {"[0].userland", "[0].data", "[0].opts.event",
                                         "[0].opts.if"}
    assert body[0]["name"] == t_body[0]["name"] == "auth/signup.email.confirmed"
    assert body[0]["opts"]["timeout"] == t_body[0]["opts"]["timeout"] == "1d"
    assert t_body[0]["opts"]["if"] == IF


@pytest.mark.parametrize("memo", [None, EVENT], ids=["timed-out", "matched"])
def test_finish(memo: Any) -> None:
    steps = {**MEMO_USER, sha1("cool down"): None, sha1("confirm"): memo}
    (status, headers, body), (t_status, t_headers, t_body) = both("flow", steps)
    assert status == t_status == 200
    assert body == t_body == {"user": {"id": 7}, "confirmed": memo is not None}
    common_headers(headers, t_headers)


@pytest.mark.parametrize("attempt,op", [(0, "StepError"), (3, "StepError"), (4, "StepFailed")])
def test_step_errors(attempt: int, op: str) -> None:
    (status, headers, body), (t_status, t_headers, t_body) = both("fail", {}, attempt)
    assert status == t_status == 206
    assert body[0]["op"] == t_body[0]["op"] == op
    diff = differences(body, t_body)
    assert diff - {"[0].error.stack"} == {"[0].userland", "[0].data", "[0].error.code"}
    assert (body[0]["error"]["name"], body[0]["error"]["message"]) == (
        t_body[0]["error"]["name"], t_body[0]["error"]["message"]) == ("RuntimeError", "kaput")


def test_non_retriable_step() -> None:
    (status, headers, body), (t_status, t_headers, t_body) = both("refuse", {})
    assert (status, headers["x-inngest-no-retry"]) == (206, "true")
    assert body[0]["op"] == "StepFailed"
    assert (t_status, t_headers["x-inngest-no-retry"]) == (500, "true")
    assert t_body["message"] == body[0]["error"]["message"] == "card declined"


def test_function_errors() -> None:
    (status, headers, body), (t_status, t_headers, t_body) = both("raise", {})
    assert status == t_status == 500
    assert headers["x-inngest-no-retry"] == "false" and "x-inngest-no-retry" not in t_headers
    assert (body["name"], body["message"]) == (t_body["name"], t_body["message"])

    (status, headers, body), (t_status, t_headers, t_body) = both("raise-final", {})
    assert (status, t_status) == (400, 500)
    assert headers["x-inngest-no-retry"] == t_headers["x-inngest-no-retry"] == "true"
    assert body["message"] == t_body["message"] == "nope"


def test_memoized_step_error_left_uncaught() -> None:
    failed = {sha1("create user"): {"error": {"name": "ValueError", "message": "bad",
                                               "stack": ""}}}
    (status, headers, body), (t_status, t_headers, t_body) = both("flow", failed)
    assert (status, t_status) == (400, 500)
    assert headers["x-inngest-no-retry"] == t_headers["x-inngest-no-retry"] == "true"
    assert body["message"] == "bad"
    assert "bad" in t_body["message"]


def test_registration() -> None:
    fn, _ = official("flow")
    theirs = fn.get_config("http://h/api").main.model_dump(mode="json", by_alias=True)
    mine = ours("flow").config(APP, "http://h/api")
    unset = {key for key, value in theirs.items() if value is None}
    assert differences(mine, theirs) == unset | {"triggers[0].expression"}
    assert [{k: v for k, v in t.items() if v is not None} for t in theirs["triggers"]] == (
        mine["triggers"])
    assert mine["steps"] == theirs["steps"]
