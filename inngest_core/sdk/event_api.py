"""Events to Inngest's event API: ``POST <event API>/e/<event key>`` with a list of
events; Inngest answers with their ids.  What :meth:`App.send <inngest_core.sdk.App.send>`
does once it knows its event key.

>>> post_events("http://127.0.0.1:1", "key", None, [{"name": "a/b", "data": {}}], timeout=0.5)
Traceback (most recent call last):
...
inngest_core.sdk.event_api.SendError: cannot reach http://127.0.0.1:1/e/key: ...
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from . import protocol, wire
from .remote import http_request

__all__ = ["SendError", "post_events"]


class SendError(RuntimeError):
    """Inngest's event API refused the events (the message has its status and answer)."""


def post_events(event_api_url: str, key: str, env: str | None,
                events: Sequence[Mapping[str, Any]], *, timeout: float) -> list[str]:
    """Send ``events`` (already checked) with the event ``key``; the ids Inngest gives back.
    A failure to reach the API or a non-2xx answer raises :class:`SendError`."""
    target = f"{event_api_url}/e/{urllib.parse.quote(key, safe='')}"
    headers = {"Content-Type": "application/json", protocol.HEADER_SDK:
               protocol.sdk_header(), "User-Agent": protocol.sdk_header()}
    if env is not None:
        headers["X-Inngest-Env"] = env
    try:
        status, _, answer = http_request("POST", target, headers, wire.encode(list(events)),
                                         timeout)
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
