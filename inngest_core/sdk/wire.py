"""HTTP requests to the endpoint and the answers to them: the body limit, strict JSON
bodies, header names in any case, signed bodies read (:func:`read_signed`) and answers
written (:func:`answer`: the SDK's headers, signed outside dev mode).

>>> strict_json(b'{"a": 1}')
{'a': 1}
>>> lower([("X-Inngest-Signature", "t=1&s=ab")])
{'x-inngest-signature': 't=1&s=ab'}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from . import protocol, signing

if TYPE_CHECKING:
    from .serve import App

__all__ = ["MAX_BODY_BYTES", "DRAIN_LIMIT", "Headers", "Answer", "Refusal", "strict_json",
           "encode", "lower", "answer", "error", "too_large", "verify", "read_signed"]

#: Request bodies larger than this are refused with 413 (Inngest's own limit is 4 MB).
MAX_BODY_BYTES: Final = 4 * 1024 * 1024
#: A body this large is still read (and dropped) before the 413, so the client reads the
#: answer instead of a reset connection; anything larger is cut off.
DRAIN_LIMIT: Final = 64 * 1024 * 1024

Headers = dict[str, str]
#: ``(status, headers, body)``.
Answer = tuple[int, Headers, bytes]


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


def encode(body: Any) -> bytes:
    """Compact UTF-8 JSON, as every answer is written."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def lower(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header names folded to lower case (a mapping or a list of pairs)."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {str(k).lower(): str(v) for k, v in items}


class Refusal(Exception):
    """An answer that ends a request early (bad JSON, bad signature)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer[0])
        self.answer = answer


def answer(app: App, status: int, body: Any, framework: str, *, key: str | None = None,
           headers: Mapping[str, str] | None = None, raw: bytes | None = None) -> Answer:
    """An answer of ``app``: ``body`` as JSON (or ``raw`` bytes) with the SDK's headers,
    signed with ``key`` (or the app's signing key) outside dev mode."""
    out = protocol.base_headers()
    out["X-Inngest-Framework"] = framework
    if headers:
        out.update(headers)
    data = raw if raw is not None else encode(body)
    sign_with = key or app.signing_key
    if not app.dev and sign_with:
        out[signing.HEADER_SIGNATURE] = signing.sign_response(data, sign_with)
    return status, out, data


def error(app: App, status: int, name: str, message: str, framework: str, *,
          no_retry: bool = True) -> Answer:
    """An error answer ``{"name", "message"}``, telling Inngest not to retry it
    (``X-Inngest-No-Retry: true``, the default) or that it may (``false``)."""
    extra = {protocol.HEADER_NO_RETRY: "true" if no_retry else "false"}
    return answer(app, status, {"name": name, "message": message}, framework, headers=extra)


def too_large(app: App, size: int, framework: str) -> Answer:
    """The 413 answer for a body of ``size`` bytes."""
    return error(app, 413, "PayloadTooLarge",
                 f"the request body is {size} bytes; the limit is "
                 f"{MAX_BODY_BYTES} bytes (4 MB)", framework)


def verify(app: App, body: Any, headers: Mapping[str, str]) -> str:
    """The key of ``app`` that signed ``body``; :class:`~inngest_core.sdk.SignatureError`
    otherwise."""
    return signing.verify_request(body, headers.get("x-inngest-signature"),
                                  (app.signing_key, app.signing_key_fallback))


def read_signed(app: App, body: bytes, headers: Mapping[str, str], framework: str,
                context: str, *, unsigned: int = 401) -> tuple[Any, str | None]:
    """The JSON body and the key that signed it (``None`` in dev mode); a 400 for bad
    JSON or, for a bad signature, the status ``unsigned`` is raised as :class:`Refusal`.
    A 401 tells Inngest not to retry; a 500 (for a call, as the SDK specification's 4.1.3
    says) leaves it retriable, so a run survives a key rotation."""
    try:
        request = strict_json(body)
    except ValueError as exc:
        raise Refusal(error(app, 400, "RequestError", f"the body is not valid JSON: {exc}",
                            framework)) from None
    if app.dev:
        return request, None
    try:
        return request, verify(app, request, headers)
    except signing.SignatureError as exc:
        raise Refusal(error(app, unsigned, "Unauthorized", f"{context}{exc}", framework,
                            no_retry=unsigned < 500)) from None
