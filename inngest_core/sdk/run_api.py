"""A run's events and memos from Inngest's REST API, for a call request with ``use_api``:
Inngest trims a request too large for the app's platform and asks the SDK to fetch them
(SDK spec 4.4.2): ``GET <api>/v0/runs/<run_id>/batch`` (a JSON list of events) and
``GET <api>/v0/runs/<run_id>/actions`` (an object of memos, as a call request's ``steps``),
each with ``Authorization: Bearer <hashed signing key>`` -- the fallback key's after a 401
or 403, as the official SDK's ``net.py`` ``fetch_with_auth_fallback_sync`` does -- and no
header in dev mode.  Any failure is :class:`RunApiError`; the call is then answered with a
500, which Inngest retries.

>>> fetch_run("http://127.0.0.1:1", "r1", [None], None, timeout=0.5)
Traceback (most recent call last):
...
inngest_core.sdk.run_api.RunApiError: cannot fetch the events of run r1: GET http://127.0.0.1:1/v0/runs/r1/batch: ...
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Sequence
from typing import Any

from . import protocol, signing
from .remote import http_request

__all__ = ["RunApiError", "fetch_run", "with_fetched"]


class RunApiError(RuntimeError):
    """Inngest's API did not give a run's events or memos (unreachable, refused, or an
    answer of the wrong shape)."""


def _get(url: str, keys: Sequence[str | None], env: str | None, timeout: float) -> Any:
    headers = {"Content-Type": "application/json", protocol.HEADER_SDK: protocol.sdk_header(),
               "User-Agent": protocol.sdk_header()}
    if env is not None:
        headers["X-Inngest-Env"] = env
    status, raw = 0, b""
    for key in keys:
        if key is not None:
            headers["Authorization"] = "Bearer " + signing.hash_signing_key(key)
        try:
            status, _, raw = http_request("GET", url, headers, b"", timeout)
        except OSError as exc:
            raise RunApiError(f"GET {url}: {exc}") from None
        if status not in (401, 403):
            break
    if status != 200:
        raise RunApiError(f"GET {url} answered {status}: "
                          f"{raw[:300].decode('utf-8', 'replace')}")
    try:
        return json.loads(raw)
    except ValueError:
        raise RunApiError(f"GET {url} answered with a body that is not JSON: "
                          f"{raw[:200]!r}") from None


def fetch_run(api_url: str, run_id: str, keys: Sequence[str | None], env: str | None, *,
              timeout: float = 30.0) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The run's events and memos from the API at ``api_url``, authorised with the first
    of ``keys`` Inngest accepts (``None``: no ``Authorization``, dev mode)."""
    base = f"{api_url.rstrip('/')}/v0/runs/{urllib.parse.quote(run_id, safe='')}"
    try:
        events = _get(base + "/batch", keys, env, timeout)
    except RunApiError as exc:
        raise RunApiError(f"cannot fetch the events of run {run_id}: {exc}") from None
    if not isinstance(events, list) or not events \
            or not all(isinstance(e, dict) for e in events):
        raise RunApiError(f"cannot fetch the events of run {run_id}: the API answered "
                          "something other than a non-empty list of events")
    try:
        steps = _get(base + "/actions", keys, env, timeout)
    except RunApiError as exc:
        raise RunApiError(f"cannot fetch the memos of run {run_id}: {exc}") from None
    if not isinstance(steps, dict):
        raise RunApiError(f"cannot fetch the memos of run {run_id}: the API answered "
                          "something other than an object of memos")
    return events, steps


def with_fetched(request: dict[str, Any], events: list[dict[str, Any]],
                 steps: dict[str, Any]) -> dict[str, Any]:
    """The call request with the fetched ``events`` (``event`` is the first, SDK spec
    4.4.2) and memos in place, and ``use_api`` off.

    >>> req = with_fetched({"event": {}, "events": [], "steps": {}, "use_api": True,
    ...                     "ctx": {"run_id": "r", "attempt": 0, "use_api": True}},
    ...                    [{"name": "a"}], {"s1": {"data": 1}})
    >>> req["event"], req["steps"], req["use_api"], req["ctx"]["use_api"]
    ({'name': 'a'}, {'s1': {'data': 1}}, False, False)
    """
    out = dict(request)
    out.update(event=events[0], events=events, steps=steps, use_api=False)
    out["ctx"] = {**request["ctx"], "use_api": False}
    return out
