"""Loopback servers and a plain HTTP client for the serve tests (no tests here).

Every server binds 127.0.0.1 on an ephemeral port and is stopped when its ``with`` block
ends; every request has a timeout.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

KEY = "signkey-test-" + "a1" * 32
FALLBACK = "signkey-test-" + "b2" * 32
OTHER = "signkey-test-" + "c3" * 32


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def wsgi_server(app: Callable[..., Any]) -> Iterator[str]:
    """Serve a WSGI app with wsgiref in a background thread; yield its base URL."""
    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def uvicorn_server(app: Callable[..., Any]) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a background thread; yield its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def request(method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None,
            timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """One request with urllib: ``(status, lower-cased headers, body)`` for any status."""
    assert url.startswith("http://127.0.0.1:"), url
    req = urllib.request.Request(url, data=body if method != "GET" else None,
                                 headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as answer:
            return (answer.status, {k.lower(): v for k, v in answer.headers.items()},
                    answer.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


class Recorder:
    """A stand-in for Inngest's API on loopback: records every request and answers with
    ``answer(method, path, headers, body) -> (status, JSON body)``."""

    def __init__(self, answer: Callable[[str, str, dict[str, str], bytes],
                                        tuple[int, Any]] | None = None) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.answer = answer or (lambda m, p, h, b: (200, {"ok": True}))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items()
                   if k.startswith("HTTP_")}
        path = environ["PATH_INFO"] + ("?" + environ["QUERY_STRING"]
                                       if environ.get("QUERY_STRING") else "")
        self.seen.append((environ["REQUEST_METHOD"], path, headers, body))
        status, doc = self.answer(environ["REQUEST_METHOD"], path, headers, body)
        data = json.dumps(doc).encode()
        start_response(f"{status} X", [("Content-Type", "application/json"),
                                       ("Content-Length", str(len(data)))])
        return [data]
