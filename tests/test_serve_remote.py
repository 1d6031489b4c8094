"""Driving functions over the wire (issue 9): ``LocalRunner.remote`` calls an app served on
loopback exactly as Inngest's server would -- signed calls, the same opcodes, the same
retries -- so the local runner's own tests run again here, over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import test_sdk_runner as local_tests
from test_serve_support import FALLBACK, KEY, OTHER, request, uvicorn_server, wsgi_server

from inngest_core.sdk import App, LocalRunner, ManualClock, SyncError, Trigger, function
from inngest_core.sdk.signing import sign_request

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
T0 = datetime(2024, 1, 1, 12, 0, tzinfo=timezone.utc)

# This one runs its runner in a subprocess it SIGKILLs, without runner_for.
IN_PROCESS_ONLY = {"test_sigkilled_runner_resumes_on_the_same_database"}

for _name in dir(local_tests):
    if _name.startswith("test_") and _name not in IN_PROCESS_ONLY:
        globals()[_name] = getattr(local_tests, _name)


@pytest.fixture(autouse=True)
def over_the_wire(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every ``runner_for`` of the runner tests serves its functions from a WSGI app on
    loopback (signed) and drives them with ``LocalRunner.remote``."""
    with ExitStack() as stack:
        def remote_runner_for(*functions: Any, db: str = ":memory:",
                              start: datetime = local_tests.T0) -> LocalRunner:
            app = App("tests", functions, signing_key=KEY, env={})
            base = stack.enter_context(wsgi_server(app.wsgi()))
            runner = LocalRunner.remote(base + "/api/inngest", KEY, db=db,
                                        clock=ManualClock(start))
            stack.callback(runner.close)
            return runner

        monkeypatch.setattr(local_tests, "runner_for", remote_runner_for)
        yield


def load_sign_up() -> Any:
    import runpy

    return runpy.run_path(str(EXAMPLES / "sign_up.py"))["sign_up"]


SIGNUP = {"name": "auth/signup", "id": "ev-1", "ts": 1704110400000,
          "data": {"user": {"id": 7, "email": "ann@example.com"}}}
CONFIRM = {"name": "auth/signup.email.confirmed", "id": "ev-2", "ts": 1704117600000,
           "data": {"user": {"id": 7}}}


def drive_sign_up(runner: LocalRunner, confirm: bool) -> tuple[str, list[dict[str, Any]], Any]:
    [run] = runner.send(SIGNUP)
    runner.advance(timedelta(hours=2))
    if confirm:
        runner.send(CONFIRM)
    runner.fast_forward()
    return runner.status(run), [e.as_dict() for e in runner.history(run)], runner.result(run)


@pytest.mark.parametrize("confirm", [True, False], ids=["confirmed", "timed-out"])
@pytest.mark.parametrize("server", ["wsgiref", "uvicorn"])
def test_sign_up_flow_over_http_has_the_in_process_timeline(confirm: bool, server: str) -> None:
    sign_up = load_sign_up()
    local = LocalRunner([sign_up], db=":memory:", clock=ManualClock(T0))
    expected = drive_sign_up(local, confirm)
    assert expected[0] == "completed"
    app = App("shop", [sign_up], signing_key=KEY, env={})
    serve = wsgi_server(app.wsgi()) if server == "wsgiref" else uvicorn_server(app.asgi())
    with serve as base:
        remote = LocalRunner.remote(base + "/api/inngest", KEY, clock=ManualClock(T0))
        assert list(remote.functions) == ["sign-up-flow"]
        assert drive_sign_up(remote, confirm) == expected
        remote.close()


def test_remote_with_the_fallback_key_and_dev_mode() -> None:
    @function(id="twice", trigger=Trigger(event="a/b"))
    def twice(ctx: Any, step: Any) -> Any:
        return step.step("double", lambda: 2 * ctx.event["data"]["n"])

    app = App("shop", [twice], signing_key=KEY, signing_key_fallback=FALLBACK, env={})
    with wsgi_server(app.wsgi()) as base:
        runner = LocalRunner.remote(base + "/api/inngest", FALLBACK, clock=ManualClock(T0))
        [run] = runner.send({"name": "a/b", "data": {"n": 21}})
        assert (runner.status(run), runner.result(run)) == ("completed", 42)
        with pytest.raises(SyncError, match="answered 401"):
            LocalRunner.remote(base + "/api/inngest", OTHER)
    with wsgi_server(App("shop", [twice], dev=True, env={}).wsgi()) as base:
        runner = LocalRunner.remote(base + "/api/inngest", clock=ManualClock(T0))
        [run] = runner.send({"name": "a/b", "data": {"n": 4}})
        assert runner.result(run) == 8


def test_unreachable_or_rejecting_app_is_retried_then_fails() -> None:
    @function(id="f", trigger=Trigger(event="a/b"), retries=1)
    def f(ctx: Any, step: Any) -> Any:
        return 1

    app = App("shop", [f], signing_key=KEY, env={})
    with wsgi_server(app.wsgi()) as base:
        runner = LocalRunner.remote(base + "/api/inngest", KEY, clock=ManualClock(T0))
    # the server is gone now: each call is a failed attempt, retried with backoff
    [run] = runner.send({"name": "a/b"})
    runner.fast_forward()
    assert runner.status(run) == "failed"
    assert [e.op for e in runner.history(run)] == [
        "RunStarted", "FunctionError", "RunFailed"]
    assert runner.error(run)["name"] == "ConnectionError"


def test_answers_with_a_bad_signature_are_not_trusted() -> None:
    @function(id="f", trigger=Trigger(event="a/b"), retries=0)
    def f(ctx: Any, step: Any) -> Any:
        return 1

    server_app = App("shop", [f], signing_key=OTHER, signing_key_fallback=KEY, env={})
    with wsgi_server(server_app.wsgi()) as base:
        runner = LocalRunner.remote(base + "/api/inngest", KEY, clock=ManualClock(T0))
        [run] = runner.send({"name": "a/b"})
        # the app verified our call with its fallback key and signed its answer with it
        assert runner.status(run) == "completed"
        # a response signed with a key the runner does not hold is refused
        runner.functions["f"].signing_key = FALLBACK  # type: ignore[attr-defined]
        [run] = runner.send({"name": "a/b"})
        assert runner.status(run) == "failed"
        assert runner.error(run)["name"] == "SignatureError"


def test_remote_sync_of_a_non_inngest_url() -> None:
    def plain(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello"]

    with wsgi_server(plain) as base:
        with pytest.raises(SyncError, match="instead of an in-band sync"):
            LocalRunner.remote(base + "/", KEY)
        status, _, _ = request("PUT", base + "/", json.dumps({"url": "x"}).encode(),
                               {"X-Inngest-Signature": sign_request(b'{"url":"x"}', KEY)})
        assert status == 200
