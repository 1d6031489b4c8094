"""The endpoint's ``POST``: a call of the step protocol, answered by the function that
``?fnId=`` names (:meth:`Function.handle <inngest_core.sdk.Function.handle>`), or Inngest's
trust probe (``?probe=trust``: a signed, usually empty, body).  ``?stepId=`` names the
step the call runs (``step``: whichever comes next); :func:`handle_post_async` answers on an
event loop (``App.asgi``).

A call to a function the app does not serve, or with a bad signature, is answered with a
500 and ``X-Inngest-No-Retry: false``, as the SDK specification says (4.4.1, 4.1.3): Inngest
retries it, so a run outlives a rolling deploy or a key rotation.  A call with ``use_api``
first fetches the run's events and memos from Inngest's API (:mod:`.run_api`).  The
function runs as the app (``step.invoke`` names functions ``<app_id>-<id>``), and
``step.send_event`` sends through :meth:`App.send <inngest_core.sdk.App.send>`.

>>> from inngest_core.sdk import App
>>> import json
>>> status, headers, body = handle_post(App("shop", [], dev=True), "http://h/api?fnId=shop-f",
...                                     {}, b"{}", "python")
>>> status, headers["X-Inngest-No-Retry"], json.loads(body)["message"]
(500, 'false', 'no function "shop-f" in app "shop" (it serves: none)')
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import protocol, signing, wire
from .run_api import RunApiError, fetch_run, with_fetched
from .step import calling
from .wire import Answer

if TYPE_CHECKING:
    from .function import Function
    from .serve import App

__all__ = ["handle_post", "handle_post_async"]


def handle_post(app: App, url: str, headers: Mapping[str, str], body: bytes,
                framework: str) -> Answer:
    """``POST``: Inngest's trust probe (``?probe=trust``), or a call of the step protocol
    to the function named by ``?fnId=<app_id>-<fn>`` (the step ``?stepId=`` names, when it
    is not ``step``)."""
    ready = _prepare(app, url, headers, body, framework)
    if not isinstance(ready, _Call):
        return ready
    if ready.use_api:
        fetched = _fetch(app, ready, framework)
        if fetched is not None:
            return fetched
    with calling(app.app_id, app.send):
        response = ready.fn.handle(ready.request, ready.step_id)
    return _answer(app, ready, response, framework)


async def handle_post_async(app: App, url: str, headers: Mapping[str, str], body: bytes,
                            framework: str) -> Answer:
    """:func:`handle_post` on an event loop: an ``async def`` function is awaited on it;
    a sync function (and a fetch from Inngest's API) runs in the app's worker threads."""
    ready = _prepare(app, url, headers, body, framework)
    if not isinstance(ready, _Call):
        return ready
    if not ready.fn.is_async or ready.use_api:
        return await app.in_thread(_finish_sync, app, ready, framework)
    with calling(app.app_id, app.send):
        response = await ready.fn.handle_async(ready.request, ready.step_id)
    return _answer(app, ready, response, framework)


def _finish_sync(app: App, ready: _Call, framework: str) -> Answer:
    if ready.use_api:
        fetched = _fetch(app, ready, framework)
        if fetched is not None:
            return fetched
    with calling(app.app_id, app.send):
        response = ready.fn.handle(ready.request, ready.step_id)
    return _answer(app, ready, response, framework)


@dataclass
class _Call:
    fn: Function
    request: Any
    key: str | None
    step_id: str
    use_api: bool


def _prepare(app: App, url: str, headers: Mapping[str, str], body: bytes,
             framework: str) -> Answer | _Call:
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
        request, key = wire.read_signed(app, body, headers, framework, "", unsigned=500)
    except wire.Refusal as refusal:
        return refusal.answer
    fn_ids = query.get("fnId") or []
    if len(fn_ids) != 1 or not fn_ids[0]:
        return wire.error(app, 400, "RequestError",
                          "a call needs exactly one fnId query parameter", framework)
    fn = app.functions.get(fn_ids[0])
    if fn is None:
        known = ", ".join(sorted(app.functions)[:20]) or "none"
        return wire.error(app, 500, "FunctionNotFound",
                          f'no function "{fn_ids[0]}" in app "{app.app_id}" '
                          f"(it serves: {known})", framework, no_retry=False)
    step_ids = query.get("stepId") or ["step"]
    try:
        parsed = protocol.parse_request(request)
    except protocol.RequestError:
        return _Call(fn, request, key, step_ids[0], False)  # Function.handle answers it
    if parsed.use_api:
        # The run's events and memos are fetched into the raw request, parsed again then.
        return _Call(fn, request, key, step_ids[0], True)
    return _Call(fn, parsed, key, step_ids[0], False)


def _fetch(app: App, ready: _Call, framework: str) -> Answer | None:
    keys: list[str | None] = [k for k in (app.signing_key, app.signing_key_fallback) if k]
    try:
        events, steps = fetch_run(app.api_url, ready.request["ctx"]["run_id"], keys or [None],
                                  app.env)
    except RunApiError as exc:
        return wire.error(app, 500, "RunApiError", str(exc), framework, no_retry=False)
    ready.request = with_fetched(ready.request, events, steps)
    return None


def _answer(app: App, ready: _Call, response: protocol.Response, framework: str) -> Answer:
    return wire.answer(app, response.status, response.body, framework, key=ready.key,
                       headers={k: v for k, v in response.headers.items()
                                if k not in (protocol.HEADER_SDK,
                                             protocol.HEADER_REQ_VERSION)})
