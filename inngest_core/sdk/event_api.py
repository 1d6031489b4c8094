"""Events to Inngest's event API: ``POST <event API>/e/<event key>`` with a list of
events; Inngest answers with their ids.  What :meth:`App.send <inngest_core.sdk.App.send>`
does once it knows its event key.

As the official SDK's ``client_lib/client.py`` (``send_sync``, ``_seed``,
``_compute_backoff_delay``): up to 5 attempts, retrying a network error or a 5xx answer (not
a 4xx) after 0.1 s × 2^attempt plus up to 0.1 s of jitter; every attempt carries the same
``x-inngest-event-id-seed: <unix ms>,<base64 of 10 random bytes>``, from which the server
derives the events' ids, so a retried send that had in fact arrived yields the same ids.

>>> post_events("http://127.0.0.1:1", "key", None, [{"name": "a/b", "data": {}}], timeout=0.5,
...             sleep=lambda seconds: None)
Traceback (most recent call last):
...
inngest_core.sdk.event_api.SendError: cannot reach http://127.0.0.1:1/e/key: ...
"""

from __future__ import annotations

import base64
import json
import random
import secrets
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from . import protocol, wire
from .remote import http_request

__all__ = ["SendError", "post_events", "event_id_seed", "SEND_ATTEMPTS",
           "HEADER_EVENT_ID_SEED"]

#: Attempts per send (the official SDK's ``MAX_SEND_ATTEMPTS``).
SEND_ATTEMPTS: Final = 5
#: The first retry's delay in seconds (``RETRY_BASE_DELAY``); it doubles at each attempt.
RETRY_BASE_DELAY: Final = 0.1
HEADER_EVENT_ID_SEED: Final = "x-inngest-event-id-seed"


def event_id_seed(now_ms: int | None = None) -> str:
    """The event-id seed header's value: ``<unix milliseconds>,<base64 of 10 random bytes>``.

    >>> seed = event_id_seed(1700000000000)
    >>> seed.split(",")[0], len(base64.b64decode(seed.split(",")[1]))
    ('1700000000000', 10)
    """
    millis = int(time.time() * 1000) if now_ms is None else now_ms
    return f"{millis},{base64.b64encode(secrets.token_bytes(10)).decode('ascii')}"


def _backoff(attempt: int) -> float:
    return RETRY_BASE_DELAY * float(1 << attempt) + random.random() * RETRY_BASE_DELAY  # noqa: S311


class SendError(RuntimeError):
    """Inngest's event API refused the events (the message has its status and answer)."""


def post_events(event_api_url: str, key: str, env: str | None,
                events: Sequence[Mapping[str, Any]], *, timeout: float,
                sleep: Callable[[float], None] | None = None) -> list[str]:
    """Send ``events`` (already checked) with the event ``key``; the ids Inngest gives back.
    Network errors and 5xx answers are retried (5 attempts in all, ``sleep`` between
    them; ``time.sleep`` by default); then, or at a 4xx, :class:`SendError` says what the
    last attempt got."""
    target = f"{event_api_url}/e/{urllib.parse.quote(key, safe='')}"
    headers = {"Content-Type": "application/json", protocol.HEADER_SDK:
               protocol.sdk_header(), "User-Agent": protocol.sdk_header(),
               HEADER_EVENT_ID_SEED: event_id_seed()}
    if env is not None:
        headers["X-Inngest-Env"] = env
    body = wire.encode(list(events))
    for attempt in range(SEND_ATTEMPTS):
        if attempt:
            (sleep or time.sleep)(_backoff(attempt - 1))
        try:
            status, _, answer = http_request("POST", target, headers, body, timeout)
        except OSError as exc:
            if attempt + 1 == SEND_ATTEMPTS:
                raise SendError(f"cannot reach {target}: {exc} "
                                f"({SEND_ATTEMPTS} attempts)") from None
            continue
        if status < 500:
            break
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
