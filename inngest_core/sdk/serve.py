"""Serve functions over HTTP to Inngest's server (or its dev server): :class:`App`.

One endpoint answers three methods, as Inngest's SDK specification (sections 3 and 4) says:
``POST ?fnId=<app_id>-<fn>&stepId=step`` runs a call of the step protocol, ``PUT`` syncs
the app (out of band to ``<base>/fn/register``, or in band when Inngest asks with
``X-Inngest-Sync-Kind: in_band``), ``GET`` describes it.  :meth:`App.handle_http` is the
framework-neutral core; :meth:`App.wsgi` and :meth:`App.asgi` adapt it to WSGI servers
(Flask, Django, gunicorn) and ASGI servers (Starlette, FastAPI, uvicorn).

:class:`App` holds the settings and routes each request; each route is its own module:
``calls`` (POST), ``sync`` (PUT), ``introspection`` (GET), with ``wire`` reading requests
and writing (signed) answers, ``adapters`` for WSGI and ASGI, and ``event_api`` behind
:meth:`App.send`.

>>> from inngest_core.sdk import function, Trigger
>>> @function(id="hello", trigger=Trigger(event="demo/hello"))
... def hello(ctx, step):
...     return step.step("greet", lambda: "hi " + ctx.event["data"]["who"])
>>> app = App("shop", [hello], dev=True)
>>> from inngest_core.sdk.protocol import call_request
>>> body = json.dumps(call_request({"name": "demo/hello", "data": {"who": "ann"}},
...                                run_id="r")).encode()
>>> status, headers, answer = app.handle_http(
...     "POST", "http://127.0.0.1:8000/api/inngest?fnId=shop-hello&stepId=step", {}, body)
>>> status, json.loads(answer)[0]["data"]
(206, 'hi ann')
>>> status, headers, answer = app.handle_http("POST", "http://h/api?fnId=shop-nope", {}, body)
>>> status, json.loads(answer)["message"]
(500, 'no function "shop-nope" in app "shop" (it serves: shop-hello)')
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import os
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, TypeVar

from . import signing, wire
from .adapters import ASGIEndpoint, WSGIApp, wsgi_app
from .calls import handle_post, handle_post_async
from .event_api import SendError, post_events
from .events import events_in
from .function import Function
from .introspection import handle_get
from .sync import handle_put, registration
from .wire import MAX_BODY_BYTES, Answer, strict_json

__all__ = ["App", "ASGIEndpoint", "ConfigurationError", "SendError", "MAX_BODY_BYTES",
           "DEV_SERVER_URL", "strict_json"]

#: Where Inngest's dev server listens by default (and ``inngest-core dev``'s inbox).
DEV_SERVER_URL: Final = "http://127.0.0.1:8288"
API_URL: Final = "https://api.inngest.com"
T = TypeVar("T")
EVENT_API_URL: Final = "https://inn.gs"


class ConfigurationError(ValueError):
    """An app configured so it cannot serve safely (raised when the :class:`App` is made).

    >>> App("shop", [], env={})
    Traceback (most recent call last):
    ...
    inngest_core.sdk.serve.ConfigurationError: no signing key: set INNGEST_SIGNING_KEY ...
    """


def _dev_setting(value: bool | str | None) -> tuple[bool, str | None]:
    if value is None or isinstance(value, bool):
        return bool(value), None
    text = value.strip()
    if text.lower() in ("", "0", "false", "no", "off"):
        return False, None
    if text.lower() in ("1", "true", "yes", "on"):
        return True, None
    if text.startswith(("http://", "https://")):
        return True, text.rstrip("/")
    raise ConfigurationError(f"INNGEST_DEV must be true, false or the dev server's URL, "
                             f"not {value!r}")



class App:
    """An app of ``functions`` named ``app_id``, servable to Inngest.

    Settings come from the arguments, else from the environment as Inngest's SDKs read it:
    ``INNGEST_SIGNING_KEY``, ``INNGEST_SIGNING_KEY_FALLBACK``, ``INNGEST_EVENT_KEY``,
    ``INNGEST_DEV`` (dev mode, no signatures; the value may be the dev server's URL),
    ``INNGEST_BASE_URL`` (Inngest's API and event API), ``INNGEST_SERVE_ORIGIN`` and
    ``INNGEST_SERVE_PATH`` (the public URL of the endpoint, when the request's own URL is
    not it), ``INNGEST_ENV`` (a branch environment).  Outside dev mode a signing key is
    required: without one the app refuses to start (:class:`ConfigurationError`).

    >>> app = App("shop", [], signing_key="signkey-prod-00ff", env={})
    >>> app.mode, app.api_url, app.event_api_url
    ('cloud', 'https://api.inngest.com', 'https://inn.gs')
    >>> App("shop", [], dev="http://127.0.0.1:9999", env={}).api_url
    'http://127.0.0.1:9999'
    """

    #: How many worker threads :meth:`asgi` runs sync functions in (at most).
    max_threads: int = min(32, (os.cpu_count() or 1) + 4)

    def __init__(self, app_id: str, functions: Iterable[Function], *,
                 signing_key: str | None = None, signing_key_fallback: str | None = None,
                 event_key: str | None = None, serve_url: str | None = None,
                 dev: bool | str | None = None, base_url: str | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        environ = os.environ if env is None else env
        if not isinstance(app_id, str) or not app_id:
            raise ConfigurationError("app_id must be a non-empty str")
        self.app_id = app_id
        self.functions: dict[str, Function] = {}
        for fn in functions:
            if not isinstance(fn, Function):
                raise TypeError(f"an App serves Function objects, not {type(fn).__name__}")
            # A failure handler is a function of its own (``<slug>-failure``), called and
            # registered like any other.
            for served in (fn, fn.failure_function(app_id)):
                if served is None:
                    continue
                composite = f"{app_id}-{served.slug}"
                if composite in self.functions:
                    raise ConfigurationError(f"two functions share the id {served.slug!r}")
                self.functions[composite] = served
        self.dev, dev_url = _dev_setting(dev if dev is not None
                                         else environ.get("INNGEST_DEV"))
        self.signing_key = signing_key or environ.get("INNGEST_SIGNING_KEY") or None
        self.signing_key_fallback = (signing_key_fallback
                                     or environ.get("INNGEST_SIGNING_KEY_FALLBACK") or None)
        self.event_key = event_key or environ.get("INNGEST_EVENT_KEY") or None
        self.env = environ.get("INNGEST_ENV") or None
        for name, key in (("signing key", self.signing_key),
                          ("fallback signing key", self.signing_key_fallback)):
            if key is not None:
                try:
                    signing.hash_signing_key(key)
                except ValueError as exc:
                    raise ConfigurationError(f"the {name} is malformed: {exc}") from None
        if not self.dev and self.signing_key is None:
            raise ConfigurationError(
                "no signing key: set INNGEST_SIGNING_KEY (or pass signing_key=) to serve "
                "Inngest's production server, or INNGEST_DEV=1 (dev=True) for the dev "
                "server, which does not sign its requests")
        base = base_url or environ.get("INNGEST_BASE_URL") or dev_url
        if base:
            self.api_url = self.event_api_url = base.rstrip("/")
        elif self.dev:
            self.api_url = self.event_api_url = DEV_SERVER_URL
        else:
            self.api_url, self.event_api_url = API_URL, EVENT_API_URL
        self.serve_url = serve_url
        self._pool: ThreadPoolExecutor | None = None
        self.serve_origin = environ.get("INNGEST_SERVE_ORIGIN") or None
        self.serve_path = environ.get("INNGEST_SERVE_PATH") or None

    def __repr__(self) -> str:
        return f"<App {self.app_id!r} {self.mode}: {len(self.functions)} functions>"

    @property
    def mode(self) -> str:
        """``"dev"`` or ``"cloud"``, as Inngest names the server kinds."""
        return "dev" if self.dev else "cloud"

    # ------------------------------------------------------------------ helpers

    def public_url(self, request_url: str) -> str:
        """The endpoint's URL as Inngest should call it: ``serve_url`` if given, else the
        request's URL (without its query) with ``INNGEST_SERVE_ORIGIN`` and
        ``INNGEST_SERVE_PATH`` applied.

        >>> app = App("shop", [], dev=True, env={"INNGEST_SERVE_ORIGIN": "https://my.app"})
        >>> app.public_url("http://10.0.0.5:8000/api/inngest?fnId=x")
        'https://my.app/api/inngest'
        """
        if self.serve_url:
            return self.serve_url
        parts = urllib.parse.urlsplit(request_url)
        scheme, netloc, path = parts.scheme, parts.netloc, parts.path
        if self.serve_origin:
            if "://" in self.serve_origin:
                origin = urllib.parse.urlsplit(self.serve_origin)
                scheme, netloc = origin.scheme or scheme, origin.netloc or netloc
            else:
                scheme, netloc = "https", self.serve_origin
        if self.serve_path:
            path = self.serve_path
        return urllib.parse.urlunsplit((scheme, netloc, path, "", ""))

    def configs(self, url: str) -> list[dict[str, Any]]:
        """Every function's registration document for the endpoint at ``url``.

        >>> App("shop", [], dev=True).configs("http://h/api/inngest")
        []
        """
        return [fn.config(self.app_id, url) for fn in self.functions.values()]

    def registration(self, url: str, framework: str = "python") -> dict[str, Any]:
        """The document an out-of-band sync POSTs to ``<base>/fn/register``.

        >>> sorted(App("shop", [], dev=True).registration("http://h/api/inngest"))
        ['appName', 'deployType', 'framework', 'functions', 'sdk', 'url', 'v']
        """
        return registration(self, url, framework)

    def too_large(self, size: int, framework: str = "python") -> Answer:
        """The 413 answer for a body of ``size`` bytes (adapters answer it unread).

        >>> App("shop", [], dev=True).too_large(5_000_000)[0]
        413
        """
        return wire.too_large(self, size, framework)

    # ------------------------------------------------------------------ the endpoint

    def handle_http(self, method: str, url: str,
                    headers: Mapping[str, str] | Iterable[tuple[str, str]], body: bytes, *,
                    framework: str = "python") -> Answer:
        """Answer one HTTP request to the endpoint: ``(status, headers, body)``.

        ``url`` is the full request URL (the query carries ``fnId``), ``headers`` any
        mapping or list of pairs (names in any case), ``body`` the raw bytes.

        >>> app = App("shop", [], dev=True)
        >>> status, _, body = app.handle_http("GET", "http://h/api/inngest", {}, b"")
        >>> status, json.loads(body)["function_count"], json.loads(body)["mode"]
        (200, 0, 'dev')
        >>> app.handle_http("DELETE", "http://h/api/inngest", {}, b"")[0]
        405
        """
        lowered = wire.lower(headers)
        if len(body) > MAX_BODY_BYTES:
            return self.too_large(len(body), framework)
        verb = method.upper()
        if verb == "POST":
            return handle_post(self, url, lowered, body, framework)
        if verb == "PUT":
            return handle_put(self, url, lowered, body, framework)
        if verb == "GET":
            return handle_get(self, lowered, body, framework)
        status, out, data = wire.error(self, 405, "MethodNotAllowed",
                                       f"{method} is not served here: GET, POST or PUT",
                                       framework)
        out["Allow"] = "GET, POST, PUT"
        return status, out, data

    async def handle_http_async(self, method: str, url: str,
                                headers: Mapping[str, str] | Iterable[tuple[str, str]],
                                body: bytes, *, framework: str = "python") -> Answer:
        """:meth:`handle_http` on an event loop (what :meth:`asgi` awaits): a call of an
        ``async def`` function runs on the loop; a sync function, a sync, or anything else
        that may block runs in the app's bounded pool of worker threads
        (:attr:`max_threads`).

        >>> import asyncio
        >>> app = App("shop", [], dev=True)
        >>> asyncio.run(app.handle_http_async("GET", "http://h/api/inngest", {}, b""))[0]
        200
        """
        if method.upper() == "POST" and len(body) <= MAX_BODY_BYTES:
            return await handle_post_async(self, url, wire.lower(headers), body, framework)
        return await self.in_thread(self.handle_http, method, url, headers, body,
                                    framework=framework)

    async def in_thread(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in the app's bounded worker pool, awaited (the caller's
        context variables go with it)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.max_threads,
                                            thread_name_prefix="inngest_core")
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    def wsgi(self) -> WSGIApp:
        """The endpoint as a WSGI application (mount it where Inngest should call).

        >>> import io
        >>> environ = {"REQUEST_METHOD": "GET", "wsgi.url_scheme": "http", "SERVER_NAME": "h",
        ...            "SERVER_PORT": "80", "PATH_INFO": "/api/inngest", "QUERY_STRING": "",
        ...            "wsgi.input": io.BytesIO()}
        >>> body = App("shop", [], dev=True).wsgi()(environ, lambda status, headers: None)
        >>> json.loads(b"".join(body))["mode"]
        'dev'
        """
        return wsgi_app(self)

    def asgi(self) -> ASGIEndpoint:
        """The endpoint as an ASGI application: run it with uvicorn, or route it in
        Starlette or FastAPI (``api.add_route("/api/inngest", app.asgi(),
        methods=["GET", "POST", "PUT"])``).  An ``async def`` function runs on the server's
        event loop; a sync function runs in the app's bounded pool of worker threads, so a
        slow sync step does not block other requests.

        >>> import asyncio
        >>> sent = []
        >>> async def receive():
        ...     return {"type": "http.request", "body": b"", "more_body": False}
        >>> async def send(message):
        ...     sent.append(message)
        >>> scope = {"type": "http", "method": "GET", "scheme": "http", "path": "/api/inngest",
        ...          "query_string": b"", "headers": [(b"host", b"h")]}
        >>> asyncio.run(App("shop", [], dev=True).asgi()(scope, receive, send))
        >>> sent[0]["status"], json.loads(sent[1]["body"])["mode"]
        (200, 'dev')
        """
        return ASGIEndpoint(self)

    # ------------------------------------------------------------------ events

    def send(self, events: Mapping[str, Any] | Sequence[Mapping[str, Any]], *,
             timeout: float = 30.0) -> list[str]:
        """Send one event or a list to Inngest's event API (``<base>/e/<event key>``);
        return the event ids Inngest gives back.  A non-2xx answer raises
        :class:`SendError`; outside dev mode an event key is required.

        >>> App("shop", [], dev="http://127.0.0.1:1").send({"name": "a/b"}, timeout=0.5)
        Traceback (most recent call last):
        ...
        inngest_core.sdk.event_api.SendError: cannot reach http://127.0.0.1:1/e/...
        """
        docs = events_in(events)
        key = self.event_key
        if key is None:
            if not self.dev:
                raise ConfigurationError("no event key: set INNGEST_EVENT_KEY (or pass "
                                         "event_key=) to send events to Inngest")
            key = "NO_EVENT_KEY_SET"  # the dev server takes any key
        return post_events(self.event_api_url, key, self.env, docs, timeout=timeout)
