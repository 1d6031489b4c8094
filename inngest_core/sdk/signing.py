"""Request and response signatures, as Inngest's server and SDKs make them.

A signature header reads ``t=<unix seconds>&s=<hex HMAC-SHA256>``.  The HMAC is keyed by
the signing key without its ``signkey-<env>-`` prefix (the remaining text, UTF-8 encoded)
and runs over the body -- a request's body in RFC 8785 canonical JSON (the ``jcs``
package, as Inngest's SDKs canonicalize it), a response's raw body -- then the decimal
timestamp.

>>> key = "signkey-test-12ab"
>>> header = sign_request(b'{"b": 1, "a": [1.0, "x"]}', key, timestamp=1700000000)
>>> header
't=1700000000&s=7cf6d79790d22dfb2fcb9f9691f20f48cba062a074bd5acdc268c4848586c6ad'
>>> verify_request(b'{"a":[1,"x"],"b":1}', header, [key], now=1700000060)
'signkey-test-12ab'
>>> verify_request(b'{"a":[1,"x"],"b":2}', header, [key], now=1700000060)
Traceback (most recent call last):
...
inngest_core.sdk.signing.SignatureError: the X-Inngest-Signature does not match the body with the signing key or its fallback
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterable
from typing import Any, Final

__all__ = [
    "HEADER_SIGNATURE",
    "MAX_AGE_SECONDS",
    "SignatureError",
    "strip_key_prefix",
    "key_prefix",
    "hash_signing_key",
    "canonicalize",
    "sign_request",
    "sign_response",
    "parse_signature",
    "verify_request",
    "verify_response",
]

HEADER_SIGNATURE: Final = "X-Inngest-Signature"
#: A signature older (or further in the future) than this is refused (SDK spec: 5 minutes).
MAX_AGE_SECONDS: Final = 300

_PREFIX = re.compile(r"signkey-\w+?-")


class SignatureError(ValueError):
    """A request or response whose signature is missing, malformed, stale or wrong; the
    message says which (it is what a 401 answer carries).

    >>> try:
    ...     parse_signature("s=abc")
    ... except SignatureError as exc:
    ...     print(exc)
    malformed X-Inngest-Signature "s=abc": expected t=<unix seconds>&s=<hex HMAC-SHA256>
    """


def key_prefix(key: str) -> str:
    """The ``signkey-<env>-`` prefix of a signing key ("" if it has none).

    >>> key_prefix("signkey-prod-00ff"), key_prefix("00ff")
    ('signkey-prod-', '')
    """
    found = _PREFIX.match(key)
    return found.group(0) if found else ""


def strip_key_prefix(key: str) -> str:
    """The signing key without its ``signkey-<env>-`` prefix: what keys the HMAC.

    >>> strip_key_prefix("signkey-branch-abc123")
    'abc123'
    """
    return key[len(key_prefix(key)):]


def hash_signing_key(key: str) -> str:
    """The token Inngest's API takes as ``Authorization: Bearer ...``: the key's prefix and
    the hex SHA-256 of its hex-decoded bytes.

    >>> hash_signing_key("signkey-test-00ff")
    'signkey-test-06eb7d6a69ee19e5fbdf749018d3d2abfa04bcbd1365db312eb86dc7169389b8'
    """
    payload = strip_key_prefix(key)
    try:
        raw = bytes.fromhex(payload)
    except ValueError:
        raise ValueError("a signing key is signkey-<env>- followed by hex digits") from None
    return key_prefix(key) + hashlib.sha256(raw).hexdigest()


def canonicalize(body: bytes | Any) -> bytes:
    """RFC 8785 canonical JSON of a body (bytes of JSON text, or an already parsed value);
    an empty body stays empty.  Raises ``ValueError`` for text that is not JSON.

    >>> canonicalize(b'{"b": [1.0, 2.5e0], "a": "\\\\u00e9"}')
    b'{"a":"\\xc3\\xa9","b":[1,2.5]}'
    >>> canonicalize(b"")
    b''
    """
    import jcs

    if isinstance(body, (bytes, bytearray)):
        if not body:
            return b""
        value = json.loads(body)
    else:
        value = body
    out: bytes = jcs.canonicalize(value)
    return out


def _mac(payload: bytes, key: str, timestamp: int) -> str:
    mac = hmac.new(strip_key_prefix(key).encode("utf-8"), payload, hashlib.sha256)
    mac.update(str(timestamp).encode("ascii"))
    return mac.hexdigest()


def _now(now: float | None) -> int:
    return int(time.time() if now is None else now)


def sign_request(body: bytes | Any, key: str, *, timestamp: int | None = None) -> str:
    """The ``X-Inngest-Signature`` value for a request body (signed in canonical JSON).

    >>> sign_request(b"", "signkey-test-00", timestamp=1).startswith("t=1&s=")
    True
    """
    t = _now(timestamp)
    return f"t={t}&s={_mac(canonicalize(body), key, t)}"


def sign_response(body: bytes, key: str, *, timestamp: int | None = None) -> str:
    """The ``X-Inngest-Signature`` value for a response body (signed over its raw bytes).

    >>> sign_response(b'{"a": 1}', "signkey-test-00", timestamp=1) != sign_response(
    ...     b'{"a":1}', "signkey-test-00", timestamp=1)
    True
    """
    t = _now(timestamp)
    return f"t={t}&s={_mac(body, key, t)}"


def parse_signature(header: str) -> tuple[int, str]:
    """``(timestamp, hex signature)`` from a header value; :class:`SignatureError` if it is
    not ``t=<digits>&s=<hex>`` (the two fields in either order, each once).

    >>> parse_signature("t=1700000000&s=00ff")
    (1700000000, '00ff')
    """
    fields: dict[str, str] = {}
    for part in header.split("&"):
        name, sep, value = part.partition("=")
        if not sep or name not in ("t", "s") or name in fields:
            fields.clear()
            break
        fields[name] = value
    t, s = fields.get("t", ""), fields.get("s", "")
    if not (t.isascii() and t.isdigit() and len(t) <= 12 and s
            and re.fullmatch(r"[0-9a-fA-F]+", s)):
        raise SignatureError(f'malformed {HEADER_SIGNATURE} "{header[:80]}": expected '
                             "t=<unix seconds>&s=<hex HMAC-SHA256>")
    return int(t), s.lower()


def _check(payload: bytes, header: str | None, keys: Iterable[str | None], now: float | None,
           max_age: int, what: str) -> str:
    if header is None or header == "":
        raise SignatureError(f"missing {HEADER_SIGNATURE} header: {what} must be signed")
    timestamp, signature = parse_signature(header)
    age = _now(now) - timestamp
    if abs(age) > max_age:
        when = "old" if age > 0 else "far in the future"
        raise SignatureError(f"{HEADER_SIGNATURE} timestamp {timestamp} is {abs(age)} s "
                             f"{when}; signatures are valid for {max_age} s")
    tried = [key for key in keys if key]
    if not tried:
        raise SignatureError("no signing key is configured to verify the signature")
    for key in tried:
        if hmac.compare_digest(_mac(payload, key, timestamp), signature):
            return key
    raise SignatureError(f"the {HEADER_SIGNATURE} does not match the body with the signing "
                         "key or its fallback")


def verify_request(body: bytes | Any, header: str | None, keys: Iterable[str | None], *,
                   now: float | None = None, max_age: int = MAX_AGE_SECONDS) -> str:
    """Check a request's signature against each key (main, then fallback); return the key
    that matched or raise :class:`SignatureError` saying why not.  ``body`` is the raw
    JSON bytes or the value already parsed from them.

    >>> header = sign_request(b'{"x": 1}', "signkey-test-01", timestamp=1000)
    >>> verify_request(b'{"x":1}', header, ["signkey-test-02", "signkey-test-01"], now=1200)
    'signkey-test-01'
    >>> verify_request(b'{"x":1}', header, ["signkey-test-01"], now=1400)
    Traceback (most recent call last):
    ...
    inngest_core.sdk.signing.SignatureError: X-Inngest-Signature timestamp 1000 is 400 s old; signatures are valid for 300 s
    """
    try:
        payload = canonicalize(body)
    except (ValueError, TypeError) as exc:
        raise SignatureError(f"the body cannot be canonicalized to verify it: {exc}") from None
    return _check(payload, header, keys, now, max_age, "requests")


def verify_response(body: bytes, header: str | None, keys: Iterable[str | None], *,
                    now: float | None = None, max_age: int = MAX_AGE_SECONDS) -> str:
    """Check a response's signature (over the raw body) as :func:`verify_request` does.

    >>> header = sign_response(b'{"x": 1}', "signkey-test-01", timestamp=1000)
    >>> verify_response(b'{"x": 1}', header, ["signkey-test-01"], now=1000)
    'signkey-test-01'
    """
    return _check(body, header, keys, now, max_age, "responses")
