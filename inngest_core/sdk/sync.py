"""The endpoint's ``PUT``: syncing the app with Inngest.  In band when Inngest asks for it
(``X-Inngest-Sync-Kind: in_band``, a signed ``{"url": ...}``): the answer carries every
function's registration document.  Otherwise out of band: the app POSTs its
:func:`registration` to ``<api>/fn/register`` and passes Inngest's answer on.

>>> from inngest_core.sdk import App
>>> sorted(registration(App("shop", [], dev=True), "http://h/api/inngest", "python"))
['appName', 'deployType', 'framework', 'functions', 'sdk', 'url', 'v']
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import protocol, signing, wire
from .introspection import inspection
from .remote import HEADER_SYNC_KIND, http_request
from .wire import Answer

if TYPE_CHECKING:
    from .serve import App

__all__ = ["handle_put", "registration"]


def handle_put(app: App, url: str, headers: Mapping[str, str], body: bytes,
               framework: str) -> Answer:
    """``PUT``: an in-band sync if Inngest asks for one, else an out-of-band sync."""
    if headers.get(HEADER_SYNC_KIND.lower()) == "in_band":
        return _in_band(app, headers, body, framework)
    return _out_of_band(app, url, framework)


def _in_band(app: App, headers: Mapping[str, str], body: bytes, framework: str) -> Answer:
    try:
        request, key = wire.read_signed(app, body, headers, framework, "in-band sync: ")
    except wire.Refusal as refusal:
        return refusal.answer
    if not isinstance(request, dict) or not isinstance(request.get("url"), str):
        return wire.error(app, 400, "RequestError",
                          'an in-band sync body is {"url": <the endpoint URL>}', framework)
    url = app.public_url(request["url"])
    doc: dict[str, Any] = {
        "app_id": app.app_id,
        "url": url,
        "framework": framework,
        "functions": app.configs(url),
        "inspection": inspection(app, True, framework),
        "sdk_author": protocol.SDK_NAME,
        "sdk_language": "py",
        "sdk_version": protocol.sdk_header().rpartition(":v")[2],
    }
    if app.env is not None:
        doc["env"] = app.env
    return wire.answer(app, 200, doc, framework, key=key,
                       headers={HEADER_SYNC_KIND: "in_band"})


def registration(app: App, url: str, framework: str) -> dict[str, Any]:
    """The document an out-of-band sync POSTs to ``<base>/fn/register``."""
    return {
        "url": url,
        "deployType": "ping",
        "appName": app.app_id,
        "sdk": protocol.sdk_header(),
        "v": "0.1",
        "framework": framework,
        "functions": app.configs(url),
    }


def _out_of_band(app: App, request_url: str, framework: str) -> Answer:
    url = app.public_url(request_url)
    payload = wire.encode(registration(app, url, framework))
    target = app.api_url + "/fn/register"
    deploy = urllib.parse.parse_qs(urllib.parse.urlsplit(request_url).query).get("deployId")
    if deploy:
        target += "?" + urllib.parse.urlencode({"deployId": deploy[0]})
    out_headers = {"Content-Type": "application/json", protocol.HEADER_SDK:
                   protocol.sdk_header(), "User-Agent": protocol.sdk_header(),
                   "X-Inngest-Framework": framework}
    if app.env is not None:
        out_headers["X-Inngest-Env"] = app.env
    keys: list[str | None] = [k for k in (app.signing_key, app.signing_key_fallback) if k]
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
        return wire.error(app, 500, "SyncError", f"cannot reach {target}: {exc}", framework,
                          no_retry=False)
    try:
        json.loads(answer)
        raw = answer
    except ValueError:
        raw = wire.encode({"name": "SyncError",
                           "message": f"{target} answered {status} with a body that is not "
                                      f"JSON: {answer[:200]!r}"})
    return wire.answer(app, status, None, framework, raw=raw,
                       headers={HEADER_SYNC_KIND: "out_of_band"})
