"""What an event is, checked once for everything that takes events: :meth:`App.send
<inngest_core.sdk.App.send>`, the local runner (:meth:`LocalRunner.send
<inngest_core.sdk.LocalRunner.send>`) and the dev loop's inbox and ``send`` command.

>>> events_in({"name": "a/b"})
[{'name': 'a/b', 'data': {}}]
>>> events_in([{"data": {}}], wording=JSON)
Traceback (most recent call last):
...
ValueError: an event is a JSON object with a "name" (a non-empty string)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["events_in", "as_the_server_reads", "PYTHON", "JSON"]

#: The error for a bad event given from Python.
PYTHON: Final = 'an event is a mapping with a "name" (a non-empty str)'
#: The error for a bad event read from JSON text.
JSON: Final = 'an event is a JSON object with a "name" (a non-empty string)'


def events_in(doc: object, *, wording: str = PYTHON) -> list[dict[str, Any]]:
    """The events in ``doc`` -- one event, or a list or tuple of them -- each a new dict
    with ``data`` defaulting to ``{}``; ``ValueError`` (with ``wording`` as the message)
    for one without a ``name``, and for ``data`` that is not an object.

    >>> events_in(({"name": "a", "data": {"x": 1}}, {"name": "b"}))
    [{'name': 'a', 'data': {'x': 1}}, {'name': 'b', 'data': {}}]
    >>> events_in({"name": "a", "data": 5})
    Traceback (most recent call last):
    ...
    ValueError: an event's "data" must be an object
    """
    batch = list(doc) if isinstance(doc, (list, tuple)) else [doc]
    out = []
    for event in batch:
        if not isinstance(event, Mapping) or not isinstance(event.get("name"), str) \
                or not event["name"]:
            raise ValueError(wording)
        item = dict(event)
        if not isinstance(item.setdefault("data", {}), Mapping):
            raise ValueError('an event\'s "data" must be an object')
        out.append(item)
    return out


def as_the_server_reads(event: Mapping[str, Any]) -> dict[str, Any]:
    """The triggering event as Inngest's executor gives it to an expression
    (``pkg/event/event.go: Event.Map``, after ``json.Unmarshal``): every JSON number in
    ``data`` and ``user`` is a float64, ``ts`` a float, ``user`` at least ``{}``, ``v`` only
    when set.

    >>> as_the_server_reads({"name": "a/b", "data": {"n": 5, "ok": True}, "ts": 17})
    {'name': 'a/b', 'data': {'n': 5.0, 'ok': True}, 'user': {}, 'id': '', 'ts': 17.0}
    """
    seen = {"name": event.get("name"), "data": _floats(event.get("data") or {}),
            "user": _floats(event.get("user") or {}), "id": event.get("id") or "",
            "ts": float(event.get("ts") or 0)}
    if event.get("v"):
        seen["v"] = event["v"]
    return seen


def _floats(value: Any) -> Any:
    if type(value) is int:
        return float(value)
    if isinstance(value, Mapping):
        return {key: _floats(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_floats(item) for item in value]
    return value
