"""Cross-checks with the official Inngest Python SDK (``inngest`` on PyPI, test-only).

- Signatures: what its signing code makes verifies with ours, and what ours makes verifies
  with its, for requests (canonical JSON) and responses (raw bytes), with key rotation.
- A function served by the official SDK's Flask integration (cloud mode, signed, with a
  loopback API URL so it never calls out) is synced and driven by our
  ``LocalRunner.remote`` through a ``step.run``, a sleep and a ``wait_for_event`` to
  completion: our runner speaks the server side of the protocol well enough for it.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from test_serve_support import FALLBACK, KEY, OTHER, wsgi_server

from inngest_core.sdk import LocalRunner, ManualClock
from inngest_core.sdk.signing import SignatureError, hash_signing_key, sign_request, \
    sign_response, verify_request, verify_response

inngest = pytest.importorskip("inngest")
flask = pytest.importorskip("flask")
net = pytest.importorskip("inngest._internal.net")
server_lib = pytest.importorskip("inngest._internal.server_lib")
transforms = pytest.importorskip("inngest._internal.transforms")
inngest_flask = pytest.importorskip("inngest.flask")

CLOUD = server_lib.ServerKind.CLOUD
BODIES = [
    b'{"event": {"name": "a/b", "data": {"x": 1.0, "y": [1e21, 0.1, -0.0]}}, "ctx": {}}',
    '{"z": "\u00e9\u6f22\U0001f600", "a": {"b": null, "a": true}, "n": 12345678901234}'.encode(),
    b"[]",
    b"",
]


def their_verify(body: bytes, header: str, key: str, fallback: str | None = None) -> Any:
    return net.validate_request_sig(body=body, headers={"x-inngest-signature": header},
                                    mode=CLOUD, signing_key=key, signing_key_fallback=fallback)


@pytest.mark.parametrize("body", BODIES, ids=["floats", "unicode", "list", "empty"])
def test_request_signatures_cross_verify(body: bytes) -> None:
    now = int(time.time())
    theirs = net.sign_request(body, KEY, now)
    assert verify_request(body, theirs, [KEY]) == KEY
    assert verify_request(body, theirs, [OTHER, KEY]) == KEY
    ours = sign_request(body, KEY, timestamp=now)
    assert ours == theirs
    assert their_verify(body, ours, KEY) == KEY
    assert their_verify(body, sign_request(body, FALLBACK), KEY, FALLBACK) == FALLBACK
    assert isinstance(their_verify(body, sign_request(body, OTHER), KEY), Exception)
    with pytest.raises(SignatureError):
        verify_request(body, net.sign_request(body, OTHER, now), [KEY, FALLBACK])


@pytest.mark.parametrize("body", BODIES, ids=["floats", "unicode", "list", "empty"])
def test_response_signatures_cross_verify(body: bytes) -> None:
    theirs = net.sign_response(body, KEY)
    assert verify_response(body, theirs, [KEY]) == KEY
    ours = sign_response(body, KEY)
    assert net.validate_response_sig(body=body, headers={"x-inngest-signature": ours},
                                     mode=CLOUD, signing_key=KEY) == KEY


def test_signing_key_hash_matches() -> None:
    prefix, _, digest = hash_signing_key(KEY).rpartition("-")
    assert prefix == "signkey-test"
    assert digest == transforms.hash_signing_key(KEY)


def make_official() -> Any:
    client = inngest.Inngest(app_id="flask-shop", is_production=True, signing_key=KEY,
                             api_base_url="http://127.0.0.1:1",
                             event_api_base_url="http://127.0.0.1:1",
                             logger=logging.getLogger("official"))

    @client.create_function(fn_id="sign-up-flow", name="Sign up flow",
                            trigger=inngest.TriggerEvent(event="auth/signup"))
    def sign_up(ctx: Any) -> Any:
        user = ctx.step.run("create user", lambda: {"id": ctx.event.data["user"]["id"]})
        ctx.step.sleep("cool down", timedelta(hours=1))
        confirmed = ctx.step.wait_for_event(
            "confirm", event="auth/signup.email.confirmed", timeout=timedelta(days=1),
            if_exp="event.data.user.id == async.data.user.id")
        return {"user": user, "confirmed": confirmed is not None,
                "via": confirmed.data["via"] if confirmed else None}

    app = flask.Flask("official")
    inngest_flask.serve(app, client, [sign_up])
    return app


def test_official_flask_function_driven_by_our_remote_runner() -> None:
    app = make_official()
    # The official SDK computes a sleep's end from the real time: start the clock there.
    clock = ManualClock(datetime.now(timezone.utc))
    with wsgi_server(app.wsgi_app) as base:
        runner = LocalRunner.remote(base + "/api/inngest", KEY, clock=clock)
        assert list(runner.functions) == ["sign-up-flow"]
        [run] = runner.send({"name": "auth/signup", "data": {"user": {"id": 7}}})
        assert runner.status(run) == "sleeping"
        runner.advance(timedelta(hours=1, seconds=1))
        assert runner.status(run) == "waiting"
        runner.send({"name": "auth/signup.email.confirmed", "data": {"user": {"id": 8}}})
        assert runner.status(run) == "waiting"
        runner.send({"name": "auth/signup.email.confirmed",
                     "data": {"user": {"id": 7}, "via": "link"}})
        assert runner.status(run) == "completed"
        assert runner.result(run) == {"user": {"id": 7}, "confirmed": True, "via": "link"}
        assert [(e.step, e.op) for e in runner.history(run)] == [
            (None, "RunStarted"), ("create user", "StepRun"), ("cool down", "Sleep"),
            ("cool down", "Woke"), ("confirm", "WaitForEvent"), ("confirm", "EventReceived"),
            (None, "RunComplete")]
        runner.close()


def test_official_flask_function_timed_out_wait_and_refused_key() -> None:
    app = make_official()
    clock = ManualClock(datetime.now(timezone.utc))
    with wsgi_server(app.wsgi_app) as base:
        runner = LocalRunner.remote(base + "/api/inngest", KEY, clock=clock)
        [run] = runner.send({"name": "auth/signup", "data": {"user": {"id": 7}}})
        runner.fast_forward()
        assert runner.result(run) == {"user": {"id": 7}, "confirmed": False, "via": None}
        runner.close()
        with pytest.raises(Exception, match="401"):
            LocalRunner.remote(base + "/api/inngest", OTHER)
