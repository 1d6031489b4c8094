"""Serve functions over HTTP to Inngest's server (or its dev server): :class:`App`.

One endpoint answers three methods, as Inngest's SDK specification (sections 3 and 4) says:
``POST ?fnId=<app_id>-<fn>&stepId=step`` runs a call of the step protocol, ``PUT`` syncs
the app (out of band to ``<base>/fn/register``, or in band when Inngest asks with
``X-Inngest-Sync-Kind: in_band``), ``GET`` describes it.  :meth:`App.handle_http` is the
framework-neutral core; :meth:`App.wsgi` and :meth:`App.asgi` adapt it to WSGI servers
(Flask, Django, gunicorn) and ASGI servers (Starlette, FastAPI, uvicorn).

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
(404, 'no function "shop-nope" in app "shop" (it serves: shop-hello)')
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final

from . import protocol, signing
from .function import Function
from .remote import HEADER_SYNC_KIND, http_request

__all__ = ["App", "ASGIEndpoint", "ConfigurationError", "SendError", "MAX_BODY_BYTES", "DEV_SERVER_URL",
           "strict_json"]

#: Request bodies larger than this are refused with 413 (Inngest's own limit is 4 MB).
MAX_BODY_BYTES: Final = 4 * 1024 * 1024
#: Where Inngest's dev server listens by default (and ``inngest-core dev``'s inbox).
DEV_SERVER_URL: Final = "http://127.0.0.1:8288"
API_URL: Final = "https://api.inngest.com"
EVENT_API_URL: Final = "https://inn.gs"
SCHEMA_VERSION: Final = "2024-05-24"
CAPABILITIES: Final = {"in_band_sync": "v1", "trust_probe": "v1"}
# A body this large is still read (and dropped) before the 413, so the client reads the
# answer instead of a reset connection; anything larger is cut off.
_DRAIN_LIMIT = 64 * 1024 * 1024

Headers = dict[str, str]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ConfigurationError(ValueError):
    """An app configured so it cannot serve safely (raised when the :class:`App` is made).

    >>> App("shop", [], env={})
    Traceback (most recent call last):
    ...
    inngest_core.sdk.serve.ConfigurationError: no signing key: set INNGEST_SIGNING_KEY ...
    """


class SendError(RuntimeError):
    """Inngest's event API refused the events (the message has its status and answer)."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc = dict(pairs)
    if len(doc) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen.add(key)
    return doc


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(body: bytes) -> Any:
    """Parse a request body strictly: UTF-8 JSON, no ``NaN``/``Infinity``, no duplicate
    keys; ``ValueError`` (with the reason) otherwise.

    >>> strict_json(b'{"a": 1}')
    {'a': 1}
    >>> strict_json(b'{"a": 1, "a": 2}')
    Traceback (most recent call last):
    ...
    ValueError: duplicate key 'a'
    """
    text = body.decode("utf-8")
    return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)


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


def _encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _lower(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {str(k).lower(): str(v) for k, v in items}



class _Refusal(Exception):
    """An answer that ends a request early (bad JSON, bad signature)."""

    def __init__(self, answer: tuple[int, Headers, bytes]) -> None:
        super().__init__(answer[0])
        self.answer = answer

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
            composite = f"{app_id}-{fn.slug}"
            if composite in self.functions:
                raise ConfigurationError(f"two functions share the id {fn.slug!r}")
            self.functions[composite] = fn
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

    def _base_headers(self, framework: str) -> Headers:
        headers = protocol.base_headers()
        headers["X-Inngest-Framework"] = framework
        return headers

    def _answer(self, status: int, body: Any, framework: str, *, key: str | None = None,
                headers: Mapping[str, str] | None = None,
                raw: bytes | None = None) -> tuple[int, Headers, bytes]:
        out = self._base_headers(framework)
        if headers:
            out.update(headers)
        data = raw if raw is not None else _encode(body)
        sign_with = key or self.signing_key
        if not self.dev and sign_with:
            out[signing.HEADER_SIGNATURE] = signing.sign_response(data, sign_with)
        return status, out, data

    def _error(self, status: int, name: str, message: str, framework: str,
               *, no_retry: bool = True) -> tuple[int, Headers, bytes]:
        extra = {protocol.HEADER_NO_RETRY: "true"} if no_retry else {}
        return self._answer(status, {"name": name, "message": message}, framework,
                            headers=extra)

    def too_large(self, size: int, framework: str = "python") -> tuple[int, Headers, bytes]:
        """The 413 answer for a body of ``size`` bytes (adapters answer it unread).

        >>> App("shop", [], dev=True).too_large(5_000_000)[0]
        413
        """
        return self._error(413, "PayloadTooLarge",
                           f"the request body is {size} bytes; the limit is "
                           f"{MAX_BODY_BYTES} bytes (4 MB)", framework)

    def _verify(self, body: Any, headers: Mapping[str, str]) -> str:
        return signing.verify_request(body, headers.get("x-inngest-signature"),
                                      (self.signing_key, self.signing_key_fallback))

    def _read_signed(self, body: bytes, headers: Mapping[str, str], framework: str,
                     context: str) -> tuple[Any, str | None]:
        """The JSON body and the key that signed it (``None`` in dev mode); a 400 for bad
        JSON or a 401 for a bad signature is raised as :class:`_Refusal`."""
        try:
            request = strict_json(body)
        except ValueError as exc:
            raise _Refusal(self._error(400, "RequestError",
                                       f"the body is not valid JSON: {exc}", framework)) from None
        if self.dev:
            return request, None
        try:
            return request, self._verify(request, headers)
        except signing.SignatureError as exc:
            raise _Refusal(self._error(401, "Unauthorized", f"{context}{exc}", framework)) from None

    # ------------------------------------------------------------------ the endpoint

    def handle_http(self, method: str, url: str,
                    headers: Mapping[str, str] | Iterable[tuple[str, str]], body: bytes, *,
                    framework: str = "python") -> tuple[int, Headers, bytes]:
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
        lowered = _lower(headers)
        if len(body) > MAX_BODY_BYTES:
            return self.too_large(len(body), framework)
        verb = method.upper()
        if verb == "POST":
            return self._post(url, lowered, body, framework)
        if verb == "PUT":
            return self._put(url, lowered, body, framework)
        if verb == "GET":
            return self._get(lowered, body, framework)
        status, out, data = self._error(405, "MethodNotAllowed",
                                        f"{method} is not served here: GET, POST or PUT",
                                        framework)
        out["Allow"] = "GET, POST, PUT"
        return status, out, data

    def _post(self, url: str, headers: Mapping[str, str], body: bytes,
              framework: str) -> tuple[int, Headers, bytes]:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        if query.get("probe") == ["trust"]:
            # Inngest checks that the app trusts its key: a signed, usually empty, body.
            key = None
            if not self.dev:
                try:
                    key = self._verify(body, headers)
                except signing.SignatureError as exc:
                    return self._error(401, "Unauthorized", str(exc), framework)
            return self._answer(200, {}, framework, key=key)
        try:
            request, key = self._read_signed(body, headers, framework, "")
        except _Refusal as refusal:
            return refusal.answer
        fn_ids = query.get("fnId") or []
        if len(fn_ids) != 1 or not fn_ids[0]:
            return self._error(400, "RequestError",
                               "a call needs exactly one fnId query parameter", framework)
        fn = self.functions.get(fn_ids[0])
        if fn is None:
            known = ", ".join(sorted(self.functions)[:20]) or "none"
            return self._error(404, "FunctionNotFound",
                               f'no function "{fn_ids[0]}" in app "{self.app_id}" '
                               f"(it serves: {known})", framework)
        response = fn.handle(request)
        return self._answer(response.status, response.body, framework, key=key,
                            headers={k: v for k, v in response.headers.items()
                                     if k not in (protocol.HEADER_SDK,
                                                  protocol.HEADER_REQ_VERSION)})

    def _put(self, url: str, headers: Mapping[str, str], body: bytes,
             framework: str) -> tuple[int, Headers, bytes]:
        if headers.get(HEADER_SYNC_KIND.lower()) == "in_band":
            return self._in_band(headers, body, framework)
        return self._out_of_band(url, framework)

    def _in_band(self, headers: Mapping[str, str], body: bytes,
                 framework: str) -> tuple[int, Headers, bytes]:
        try:
            request, key = self._read_signed(body, headers, framework, "in-band sync: ")
        except _Refusal as refusal:
            return refusal.answer
        if not isinstance(request, dict) or not isinstance(request.get("url"), str):
            return self._error(400, "RequestError",
                               'an in-band sync body is {"url": <the endpoint URL>}', framework)
        url = self.public_url(request["url"])
        doc: dict[str, Any] = {
            "app_id": self.app_id,
            "url": url,
            "framework": framework,
            "functions": self.configs(url),
            "inspection": self._inspection(True, framework),
            "sdk_author": protocol.SDK_NAME,
            "sdk_language": "py",
            "sdk_version": protocol.sdk_header().rpartition(":v")[2],
        }
        if self.env is not None:
            doc["env"] = self.env
        return self._answer(200, doc, framework, key=key,
                            headers={HEADER_SYNC_KIND: "in_band"})

    def registration(self, url: str, framework: str = "python") -> dict[str, Any]:
        """The document an out-of-band sync POSTs to ``<base>/fn/register``.

        >>> sorted(App("shop", [], dev=True).registration("http://h/api/inngest"))
        ['appName', 'deployType', 'framework', 'functions', 'sdk', 'url', 'v']
        """
        return {
            "url": url,
            "deployType": "ping",
            "appName": self.app_id,
            "sdk": protocol.sdk_header(),
            "v": "0.1",
            "framework": framework,
            "functions": self.configs(url),
        }

    def _out_of_band(self, request_url: str, framework: str) -> tuple[int, Headers, bytes]:
        url = self.public_url(request_url)
        payload = _encode(self.registration(url, framework))
        target = self.api_url + "/fn/register"
        deploy = urllib.parse.parse_qs(urllib.parse.urlsplit(request_url).query).get("deployId")
        if deploy:
            target += "?" + urllib.parse.urlencode({"deployId": deploy[0]})
        out_headers = {"Content-Type": "application/json", protocol.HEADER_SDK:
                       protocol.sdk_header(), "User-Agent": protocol.sdk_header(),
                       "X-Inngest-Framework": framework}
        if self.env is not None:
            out_headers["X-Inngest-Env"] = self.env
        keys: list[str | None] = [k for k in (self.signing_key, self.signing_key_fallback) if k]
        keys = keys or [None]
        status, answer = 0, b""
        try:
            for key in keys:
                if key is not None:
                    out_headers["Authorization"] = "Bearer " + signing.hash_signing_key(key)
                status, _, answer = http_request("POST", target, out_headers, payload, 30.0)
                if status not in (401, 403):
                    break
        except OSError as exc:
            return self._error(500, "SyncError", f"cannot reach {target}: {exc}", framework,
                               no_retry=False)
        try:
            json.loads(answer)
            raw = answer
        except ValueError:
            raw = _encode({"name": "SyncError",
                           "message": f"{target} answered {status} with a body that is not "
                                      f"JSON: {answer[:200]!r}"})
        return self._answer(status, None, framework, raw=raw,
                            headers={HEADER_SYNC_KIND: "out_of_band"})

    def _inspection(self, authenticated: bool, framework: str,
                    failed: bool = False) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "function_count": len(self.functions),
            "has_event_key": self.event_key is not None,
            "has_signing_key": self.signing_key is not None,
            "has_signing_key_fallback": self.signing_key_fallback is not None,
            "mode": self.mode,
        }
        if not authenticated:
            doc["authentication_succeeded"] = False if failed else None
            return doc
        doc.update({
            "authentication_succeeded": True,
            "api_origin": self.api_url,
            "app_id": self.app_id,
            "capabilities": dict(CAPABILITIES),
            "env": self.env,
            "event_api_origin": self.event_api_url,
            "event_key_hash": (hashlib.sha256(self.event_key.encode("utf-8")).hexdigest()
                               if self.event_key else None),
            "framework": framework,
            "sdk_language": "py",
            "sdk_version": protocol.sdk_header().rpartition(":v")[2],
            "serve_origin": self.serve_origin,
            "serve_path": self.serve_path,
            "signing_key_hash": (signing.hash_signing_key(self.signing_key)
                                 if self.signing_key else None),
            "signing_key_fallback_hash": (signing.hash_signing_key(self.signing_key_fallback)
                                          if self.signing_key_fallback else None),
        })
        return doc

    def _get(self, headers: Mapping[str, str], body: bytes,
             framework: str) -> tuple[int, Headers, bytes]:
        key = None
        failed = False
        if headers.get("x-inngest-signature") and self.signing_key:
            try:
                key = self._verify(body, headers)
            except signing.SignatureError:
                failed = True
        return self._answer(200, self._inspection(key is not None, framework, failed),
                            framework, key=key)

    # ------------------------------------------------------------------ adapters

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
        from wsgiref.util import request_uri

        def application(environ: dict[str, Any],
                        start_response: Callable[..., Any]) -> Iterable[bytes]:
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            stream = environ["wsgi.input"]
            if length < 0:
                status, headers, body = self._error(400, "RequestError",
                                                    "bad Content-Length", "wsgi")
            elif length > MAX_BODY_BYTES:
                left = min(length, _DRAIN_LIMIT)
                while left > 0:
                    chunk = stream.read(min(left, 1 << 16))
                    if not chunk:
                        break
                    left -= len(chunk)
                status, headers, body = self.too_large(length, "wsgi")
            else:
                data = stream.read(length) if length else b""
                found = [(key[5:].replace("_", "-"), value) for key, value in environ.items()
                         if key.startswith("HTTP_")]
                status, headers, body = self.handle_http(
                    environ["REQUEST_METHOD"], request_uri(environ, include_query=True),
                    found, data, framework="wsgi")
            pairs = list(headers.items()) + [("Content-Length", str(len(body)))]
            start_response(f"{status} {_phrase(status)}", pairs)
            return [body]

        return application

    def asgi(self) -> ASGIEndpoint:
        """The endpoint as an ASGI application: run it with uvicorn, or route it in
        Starlette or FastAPI (``api.add_route("/api/inngest", app.asgi(),
        methods=["GET", "POST", "PUT"])``).  Function bodies run in a worker thread, so a
        slow step does not block the event loop.

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
        inngest_core.sdk.serve.SendError: cannot reach http://127.0.0.1:1/e/...
        """
        batch = [events] if isinstance(events, Mapping) else list(events)
        docs = []
        for event in batch:
            if not isinstance(event, Mapping) or not isinstance(event.get("name"), str) \
                    or not event["name"]:
                raise ValueError('an event is a mapping with a "name" (a non-empty str)')
            doc = dict(event)
            doc.setdefault("data", {})
            docs.append(doc)
        key = self.event_key
        if key is None:
            if not self.dev:
                raise ConfigurationError("no event key: set INNGEST_EVENT_KEY (or pass "
                                         "event_key=) to send events to Inngest")
            key = "NO_EVENT_KEY_SET"  # the dev server takes any key
        target = f"{self.event_api_url}/e/{urllib.parse.quote(key, safe='')}"
        headers = {"Content-Type": "application/json", protocol.HEADER_SDK:
                   protocol.sdk_header(), "User-Agent": protocol.sdk_header()}
        if self.env is not None:
            headers["X-Inngest-Env"] = self.env
        try:
            status, _, answer = http_request("POST", target, headers, _encode(docs), timeout)
        except OSError as exc:
            raise SendError(f"cannot reach {target}: {exc}") from None
        if not 200 <= status < 300:
            raise SendError(f"Inngest's event API answered {status}: "
                            f"{answer[:300].decode('utf-8', 'replace')}")
        try:
            ids = json.loads(answer)["ids"]
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise SendError(f"Inngest's event API answered {status} without event ids: "
                            f"{answer[:300].decode('utf-8', 'replace')}") from None
        return ids


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
            if size <= MAX_BODY_BYTES:
                chunks.append(part)
            elif size > _DRAIN_LIMIT:
                break
            if not message.get("more_body", False):
                break
        if size > MAX_BODY_BYTES:
            status, headers, body = self.app.too_large(size, "asgi")
        else:
            status, headers, body = await asyncio.to_thread(
                self.app.handle_http, scope["method"], _asgi_url(scope),
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
