"""The endpoint under a web server: :func:`wsgi_app` for WSGI (Flask, Django, gunicorn)
and :class:`ASGIEndpoint` for ASGI (Starlette, FastAPI, uvicorn).  Both read the body
within the size limit and hand the request to :meth:`App.handle_http
<inngest_core.sdk.App.handle_http>`.

>>> _phrase(206)
'Partial Content'
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from . import wire

if TYPE_CHECKING:
    from .serve import App

__all__ = ["WSGIApp", "wsgi_app", "ASGIEndpoint"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app(app: App) -> WSGIApp:
    """``app``'s endpoint as a WSGI application."""
    from wsgiref.util import request_uri

    def application(environ: dict[str, Any],
                    start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        stream = environ["wsgi.input"]
        if length < 0:
            status, headers, body = wire.error(app, 400, "RequestError",
                                               "bad Content-Length", "wsgi")
        elif length > wire.MAX_BODY_BYTES:
            left = min(length, wire.DRAIN_LIMIT)
            while left > 0:
                chunk = stream.read(min(left, 1 << 16))
                if not chunk:
                    break
                left -= len(chunk)
            status, headers, body = wire.too_large(app, length, "wsgi")
        else:
            data = stream.read(length) if length else b""
            found = [(key[5:].replace("_", "-"), value) for key, value in environ.items()
                     if key.startswith("HTTP_")]
            status, headers, body = app.handle_http(
                environ["REQUEST_METHOD"], request_uri(environ, include_query=True),
                found, data, framework="wsgi")
        pairs = list(headers.items()) + [("Content-Length", str(len(body)))]
        start_response(f"{status} {_phrase(status)}", pairs)
        return [body]

    return application


class ASGIEndpoint:
    """An :class:`App` as an ASGI application (made by :meth:`App.asgi`).  A class, not a
    function, so Starlette's router mounts it as an ASGI app rather than as a handler."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any],
                       receive: Callable[[], Awaitable[dict[str, Any]]],
                       send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            part = message.get("body", b"")
            size += len(part)
            if size <= wire.MAX_BODY_BYTES:
                chunks.append(part)
            elif size > wire.DRAIN_LIMIT:
                break
            if not message.get("more_body", False):
                break
        if size > wire.MAX_BODY_BYTES:
            status, headers, body = wire.too_large(self.app, size, "asgi")
        else:
            status, headers, body = await self.app.handle_http_async(
                scope["method"], _asgi_url(scope),
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
                b"".join(chunks), framework="asgi")
        pairs = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                 for k, v in headers.items()]
        pairs.append((b"content-length", str(len(body)).encode("ascii")))
        await send({"type": "http.response.start", "status": status, "headers": pairs})
        await send({"type": "http.response.body", "body": body})


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _asgi_url(scope: Mapping[str, Any]) -> str:
    host = None
    for name, value in scope.get("headers", ()):
        if name.lower() == b"host":
            host = value.decode("latin-1")
            break
    if host is None:
        server = scope.get("server")
        host = f"{server[0]}:{server[1]}" if server else "localhost"
    root, path = scope.get("root_path", ""), scope.get("path", "/")
    if root and not path.startswith(root):
        path = root + path
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{scope.get('scheme', 'http')}://{host}{path}" + (f"?{query}" if query else "")
