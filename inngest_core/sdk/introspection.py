"""The endpoint's ``GET``: the inspection document Inngest's dashboard and dev server
read -- the app's mode and which keys it has for anyone; with a signed request, its ids,
origins, capabilities and key hashes too.

>>> from inngest_core.sdk import App
>>> doc = inspection(App("shop", [], dev=True), False, "python")
>>> doc["mode"], doc["authentication_succeeded"]
('dev', None)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from . import protocol, signing, wire
from .wire import Answer

if TYPE_CHECKING:
    from .serve import App

__all__ = ["inspection", "handle_get", "SCHEMA_VERSION", "CAPABILITIES"]

SCHEMA_VERSION: Final = "2024-05-24"
CAPABILITIES: Final = {"in_band_sync": "v1", "trust_probe": "v1"}


def inspection(app: App, authenticated: bool, framework: str,
               failed: bool = False) -> dict[str, Any]:
    """The inspection document: settings without secrets for anyone; with
    ``authenticated`` (a request signed with the app's key), the full one."""
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "function_count": len(app.functions),
        "has_event_key": app.event_key is not None,
        "has_signing_key": app.signing_key is not None,
        "has_signing_key_fallback": app.signing_key_fallback is not None,
        "mode": app.mode,
    }
    if not authenticated:
        doc["authentication_succeeded"] = False if failed else None
        return doc
    doc.update({
        "authentication_succeeded": True,
        "api_origin": app.api_url,
        "app_id": app.app_id,
        "capabilities": dict(CAPABILITIES),
        "env": app.env,
        "event_api_origin": app.event_api_url,
        "event_key_hash": (hashlib.sha256(app.event_key.encode("utf-8")).hexdigest()
                           if app.event_key else None),
        "framework": framework,
        "sdk_language": "py",
        "sdk_version": protocol.sdk_header().rpartition(":v")[2],
        "serve_origin": app.serve_origin,
        "serve_path": app.serve_path,
        "signing_key_hash": (signing.hash_signing_key(app.signing_key)
                             if app.signing_key else None),
        "signing_key_fallback_hash": (signing.hash_signing_key(app.signing_key_fallback)
                                      if app.signing_key_fallback else None),
    })
    return doc


def handle_get(app: App, headers: Mapping[str, str], body: bytes,
               framework: str) -> Answer:
    """``GET``: the inspection document, the full one if the request is signed."""
    key = None
    failed = False
    if headers.get("x-inngest-signature") and app.signing_key:
        try:
            key = wire.verify(app, body, headers)
        except signing.SignatureError:
            failed = True
    return wire.answer(app, 200, inspection(app, key is not None, framework, failed),
                       framework, key=key)
