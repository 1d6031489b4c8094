"""Benchmark groups for serving over HTTP: one call that replays a function with 100
memoized steps, handled in process by our :class:`~inngest_core.sdk.App` and by the
official SDK's handler (``inngest`` on PyPI, the core of its Flask integration: bytes in,
bytes out, both in dev mode); and a signed POST round trip over loopback (ours only).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from . import Call, Contender, Group

STEPS = 100
URL = "http://127.0.0.1:8000/api/inngest"
EVENT = {"name": "bench/replay", "data": {}}
KEY = "signkey-test-" + "5e" * 32


def _request() -> dict[str, Any]:
    from ..sdk.protocol import call_request, hash_step_id

    steps = {hash_step_id(f"step {i}"): {"data": i} for i in range(STEPS)}
    return call_request(EVENT, run_id="run-1", steps=steps, max_attempts=5)


def _body() -> bytes:
    return json.dumps(_request()).encode("utf-8")


def _ours() -> Call:
    from ..sdk import App, Trigger, function

    @function(id="replay", trigger=Trigger(event="bench/replay"))
    def replay(ctx: Any, step: Any) -> int:
        total = 0
        for i in range(STEPS):
            total += step.step(f"step {i}", lambda i=i: i)
        return total

    app = App("bench", [replay], dev=True, env={})
    return Call(app.handle_http, ("POST", f"{URL}?fnId=bench-replay&stepId=step", {},
                                  _body()))


def _official() -> Any:
    import inngest
    from inngest._internal import comm_lib, server_lib

    client = inngest.Inngest(app_id="bench", is_production=False,
                             api_base_url="http://127.0.0.1:9",
                             event_api_base_url="http://127.0.0.1:9",
                             logger=logging.getLogger("bench"))

    @client.create_function(fn_id="replay", trigger=inngest.TriggerEvent(event="bench/replay"))
    def replay(ctx: Any) -> int:
        total = 0
        for i in range(STEPS):
            total += ctx.step.run(f"step {i}", lambda i=i: i)
        return total

    handler = comm_lib.CommHandler(client=client, enable_unauthed_sync=None,
                                   framework=server_lib.Framework.FLASK, functions=[replay],
                                   streaming=None)
    body = _body()

    def handle() -> tuple[int, bytes]:
        # What its Flask integration does per request: a CommRequest in, bytes out.
        request = comm_lib.CommRequest(
            body=body, headers={}, is_connect=False, public_path=None,
            query_params={"fnId": "bench-replay", "stepId": "step"}, raw_request=None,
            request_url=URL, serve_origin=None, serve_path=None)
        response = handler.post_sync(request)
        data = response.body_bytes()
        assert isinstance(data, bytes)
        return response.status_code, data

    return handle


_SERVER: list[str] = []
_LOCK = threading.Lock()


def _served_url() -> str:
    """A loopback WSGI server for the round trip, started once per process (a daemon
    thread: it lives as long as the benchmark)."""
    with _LOCK:
        if not _SERVER:
            from wsgiref.simple_server import WSGIRequestHandler, make_server

            from ..sdk import App, Trigger, function

            class Quiet(WSGIRequestHandler):
                def log_message(self, format: str, *args: Any) -> None:
                    pass

            @function(id="greet", trigger=Trigger(event="bench/greet"))
            def greet(ctx: Any, step: Any) -> Any:
                return step.step("hello", lambda: "hi")

            app = App("bench", [greet], signing_key=KEY, env={})
            server = make_server("127.0.0.1", 0, app.wsgi(), handler_class=Quiet)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            _SERVER.append(f"http://127.0.0.1:{server.server_port}/api/inngest")
        return _SERVER[0]


def _round_trip() -> Call:
    from ..sdk.protocol import call_request
    from ..sdk.remote import sync

    [greet] = sync(_served_url(), KEY, timeout=10.0)
    return Call(greet.call, (call_request({"name": "bench/greet", "data": {}}, run_id="r"),))


def _decoded(answer: Any) -> tuple[int, Any]:
    return answer[0], json.loads(answer[-1])


def groups() -> list[Group]:
    return [
        Group(
            "serve",
            f"handle one call replaying {STEPS} memoized steps",
            (200, sum(range(STEPS))),
            [
                Contender("inngest_core App.handle_http", "compiled", _ours,
                          normalize=_decoded),
                Contender("inngest (official SDK) CommHandler.post_sync", "peer", _official,
                          normalize=_decoded),
            ],
        ),
        Group(
            "serve",
            "signed POST round trip over loopback (wsgiref, one step)",
            (206, "StepRun", "hi"),
            [
                Contender("inngest_core RemoteFunction.call -> App.wsgi", "compiled",
                          _round_trip,
                          normalize=lambda r: (r.status, r.body[0]["op"], r.body[0]["data"])),
            ],
        ),
    ]
