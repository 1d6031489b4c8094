"""The endpoint's ``POST``: a call of the step protocol, answered by the function that
``?fnId=`` names (:meth:`Function.handle <inngest_core.sdk.Function.handle>`), or Inngest's
trust probe (``?probe=trust``: a signed, usually empty, body).

>>> from inngest_core.sdk import App
>>> import json
>>> status, _, body = handle_post(App("shop", [], dev=True), "http://h/api?fnId=shop-f", {},
...                               b"{}", "python")
>>> status, json.loads(body)["message"]
(404, 'no function "shop-f" in app "shop" (it serves: none)')
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING

from . import protocol, signing, wire
from .wire import Answer

if TYPE_CHECKING:
    from .serve import App

__all__ = ["handle_post"]


def handle_post(app: App, url: str, headers: Mapping[str, str], body: bytes,
                framework: str) -> Answer:
    """``POST``: Inngest's trust probe (``?probe=trust``), or a call of the step protocol
    to the function named by ``?fnId=<app_id>-<fn>``."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    if query.get("probe") == ["trust"]:
        # Inngest checks that the app trusts its key: a signed, usually empty, body.
        key = None
        if not app.dev:
            try:
                key = wire.verify(app, body, headers)
            except signing.SignatureError as exc:
                return wire.error(app, 401, "Unauthorized", str(exc), framework)
        return wire.answer(app, 200, {}, framework, key=key)
    try:
        request, key = wire.read_signed(app, body, headers, framework, "")
    except wire.Refusal as refusal:
        return refusal.answer
    fn_ids = query.get("fnId") or []
    if len(fn_ids) != 1 or not fn_ids[0]:
        return wire.error(app, 400, "RequestError",
                          "a call needs exactly one fnId query parameter", framework)
    fn = app.functions.get(fn_ids[0])
    if fn is None:
        known = ", ".join(sorted(app.functions)[:20]) or "none"
        return wire.error(app, 404, "FunctionNotFound",
                          f'no function "{fn_ids[0]}" in app "{app.app_id}" '
                          f"(it serves: {known})", framework)
    response = fn.handle(request)
    return wire.answer(app, response.status, response.body, framework, key=key,
                       headers={k: v for k, v in response.headers.items()
                                if k not in (protocol.HEADER_SDK,
                                             protocol.HEADER_REQ_VERSION)})
