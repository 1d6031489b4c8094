"""The server side of the protocol over HTTP: sync an app served at a URL and call its
functions as Inngest's server does, for :meth:`LocalRunner.remote
<inngest_core.sdk.LocalRunner.remote>`.

Sync is in band: a ``PUT`` with ``X-Inngest-Sync-Kind: in_band`` and the body
``{"url": ...}``, signed when there is a key; the app answers with its functions'
registration documents.  Each call is a ``POST`` to the function's runtime URL
(``?fnId=<app>-<fn>&stepId=step``) with the call request as JSON, signed over its canonical
JSON; with a key, the answer must carry a valid signature over its raw body.

>>> doc = {"id": "shop-nap", "name": "nap", "triggers": [{"event": "demo/nap"}],
...        "steps": {"step": {"id": "step", "name": "step", "retries": {"attempts": 2},
...                  "runtime": {"type": "http", "url": "http://127.0.0.1:1/?fnId=shop-nap"}}}}
>>> fn = RemoteFunction(doc, app_id="shop")
>>> fn.slug, fn.trigger, fn.max_attempts, fn.url
('nap', Trigger(event='demo/nap'), 3, 'http://127.0.0.1:1/?fnId=shop-nap')
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from collections.abc import Mapping
from typing import Any, Final

from . import protocol, signing
from .flow import options_from_config
from .function import Trigger
from .transport import CallResult, Target

__all__ = ["SyncError", "RemoteFunction", "sync", "http_request", "HEADER_SYNC_KIND",
           "HEADER_SERVER_KIND"]

HEADER_SYNC_KIND: Final = "X-Inngest-Sync-Kind"
HEADER_SERVER_KIND: Final = "X-Inngest-Server-Kind"


class SyncError(RuntimeError):
    """The app at a URL could not be synced (unreachable, refused, or a bad answer).

    >>> str(SyncError("cannot sync http://h/: 401"))
    'cannot sync http://h/: 401'
    """


def http_request(method: str, url: str, headers: Mapping[str, str], body: bytes,
                 timeout: float) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request with the standard library: ``(status, lower-cased headers, body)``
    for any status (an error status is an answer, not an exception); ``OSError`` when the
    server cannot be reached.

    >>> http_request("GET", "ftp://h/", {}, b"", 1.0)
    Traceback (most recent call last):
    ...
    ValueError: only http:// and https:// URLs are supported, not 'ftp://h/'
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"only http:// and https:// URLs are supported, not {url!r}")
    conn_type = (http.client.HTTPSConnection if parts.scheme == "https"
                 else http.client.HTTPConnection)
    conn = conn_type(parts.hostname, parts.port, timeout=timeout)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    try:
        conn.request(method, target, body=body, headers=dict(headers))
        answer = conn.getresponse()
        data = answer.read()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, data
    finally:
        conn.close()


def _headers(signing_key: str | None, body: bytes | Any | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json",
               "User-Agent": protocol.sdk_header(),
               HEADER_SERVER_KIND: "cloud" if signing_key else "dev"}
    if signing_key and body is not None:
        headers[signing.HEADER_SIGNATURE] = signing.sign_request(body, signing_key)
    return headers


def _keys(signing_key: str | None, fallback: str | None) -> list[str]:
    return [key for key in (signing_key, fallback) if key]


class RemoteFunction(Target):
    """A function served over HTTP, built from its registration document (``config``).

    The runner files its runs under the function's own id (the composite id without the
    ``<app_id>-`` prefix), so timelines read the same in process and over the wire.
    """

    def __init__(self, config: Mapping[str, Any], *, app_id: str = "",
                 signing_key: str | None = None, signing_key_fallback: str | None = None,
                 timeout: float = 30.0) -> None:
        try:
            composite = config["id"]
            triggers = config["triggers"]
            step = config["steps"]["step"]
            url = step["runtime"]["url"]
            retries = step.get("retries")
        except (KeyError, TypeError) as exc:
            raise SyncError(f"a function's registration document lacks {exc}") from None
        if not isinstance(composite, str) or not isinstance(url, str):
            raise SyncError("a function's id and runtime URL must be strings")
        if not isinstance(triggers, list) or not triggers:
            raise SyncError(f"function {composite!r}: a function needs at least one trigger")
        try:
            #: Every trigger (events and crons), and the function's options, as registered.
            self.triggers = tuple(
                Trigger(cron=t["cron"], jitter=t.get("jitter")) if t.get("cron")
                else Trigger(event=t.get("event"), if_=t.get("expression"))
                for t in triggers)
            self.options = options_from_config(config)
        except (ValueError, TypeError, AttributeError) as exc:
            raise SyncError(f"function {composite!r}: bad trigger or option: {exc}") from None
        self.trigger = self.triggers[0]
        attempts = retries.get("attempts") if isinstance(retries, Mapping) else None
        if attempts is None:
            attempts = protocol.DEFAULT_RETRIES
        prefix = f"{app_id}-" if app_id else ""
        self.id = composite
        self.slug = composite[len(prefix):] if prefix and composite.startswith(prefix) \
            else composite
        self.name = config.get("name") or self.slug
        self.max_attempts = int(attempts) + 1
        self.url = url
        self.signing_key = signing_key
        self.signing_key_fallback = signing_key_fallback
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"<RemoteFunction {self.id!r} at {self.url}>"

    def composite_id(self, app_id: str) -> str:
        """The composite id the app registered (whatever ``app_id`` the runner has)."""
        return self.id

    def call(self, request: dict[str, Any], step_id: str = "step") -> CallResult:
        """POST the call request (signed with the key, if any) and read the answer.  A
        network failure, an unsigned or wrongly signed answer, or a body that is not JSON
        count as a failed attempt (retried like a 500).

        >>> fn = RemoteFunction({"id": "a-f", "triggers": [{"event": "e"}],
        ...     "steps": {"step": {"runtime": {"url": "http://127.0.0.1:1/"}}}}, timeout=0.5)
        >>> answer = fn.call({})
        >>> answer.status, answer.body["name"]
        (0, 'ConnectionError')
        """
        body = json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        url = self.url if step_id == "step" else _with_step_id(self.url, step_id)
        try:
            status, headers, raw = http_request(
                "POST", url, _headers(self.signing_key, request), body, self.timeout)
        except OSError as exc:
            return CallResult(0, False, {"name": "ConnectionError",
                                         "message": f"POST {self.url}: {exc}"})
        if self.signing_key:
            try:
                signing.verify_response(raw, headers.get("x-inngest-signature"),
                                        _keys(self.signing_key, self.signing_key_fallback))
            except signing.SignatureError as exc:
                return CallResult(status if status >= 400 else 500, False,
                                  {"name": "SignatureError",
                                   "message": f"answer of {self.url} (status {status}): {exc}"})
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            return CallResult(status if status >= 400 else 500, False,
                              {"name": "ProtocolError",
                               "message": f"answer of {self.url} (status {status}) is not "
                                          f"JSON: {raw[:200]!r}"})
        return CallResult(status, headers.get("x-inngest-no-retry") == "true", parsed,
                          headers.get("retry-after"), len(raw))


def _with_step_id(url: str, step_id: str) -> str:
    """The runtime URL with ``stepId`` set to ``step_id`` (a planned step's call).

    >>> _with_step_id("http://h/api?fnId=a-f&stepId=step", "ab12")
    'http://h/api?fnId=a-f&stepId=ab12'
    """
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
             if k != "stepId"]
    query.append(("stepId", step_id))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def sync(url: str, signing_key: str | None = None, *, signing_key_fallback: str | None = None,
         timeout: float = 30.0) -> list[RemoteFunction]:
    """Sync the app served at ``url`` in band and return its functions.

    >>> sync("http://127.0.0.1:1/api/inngest", timeout=0.5)
    Traceback (most recent call last):
    ...
    inngest_core.sdk.remote.SyncError: cannot sync http://127.0.0.1:1/api/inngest: ...
    """
    payload = {"url": url}
    body = json.dumps(payload).encode("utf-8")
    headers = _headers(signing_key, payload)
    headers[HEADER_SYNC_KIND] = "in_band"
    try:
        status, answer_headers, raw = http_request("PUT", url, headers, body, timeout)
    except OSError as exc:
        raise SyncError(f"cannot sync {url}: {exc}") from None
    if status != 200 or answer_headers.get(HEADER_SYNC_KIND.lower()) != "in_band":
        raise SyncError(f"cannot sync {url}: it answered {status} "
                        f"({HEADER_SYNC_KIND}: {answer_headers.get(HEADER_SYNC_KIND.lower())}) "
                        f"instead of an in-band sync: {raw[:300]!r}")
    if signing_key:
        try:
            signing.verify_response(raw, answer_headers.get("x-inngest-signature"),
                                    _keys(signing_key, signing_key_fallback))
        except signing.SignatureError as exc:
            raise SyncError(f"cannot sync {url}: {exc}") from None
    try:
        doc = json.loads(raw)
        app_id = doc.get("app_id") or ""
        configs = doc["functions"]
    except (ValueError, KeyError, AttributeError, TypeError):
        raise SyncError(f"cannot sync {url}: the answer is not an in-band sync document: "
                        f"{raw[:300]!r}") from None
    if not isinstance(configs, list):
        raise SyncError(f"cannot sync {url}: \"functions\" is not a list")
    return [RemoteFunction(config, app_id=str(app_id), signing_key=signing_key,
                           signing_key_fallback=signing_key_fallback, timeout=timeout)
            for config in configs]
