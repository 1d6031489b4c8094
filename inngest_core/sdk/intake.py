"""Event intake and matching for the local runner: an incoming event is checked and stamped
(:func:`admit`), matched against the functions it triggers (:func:`triggered`) and against
the runs waiting for it (:class:`WaitIndex`).

>>> index = WaitIndex()
>>> index.add("run-1", 1, "auth/confirmed", None, {})
>>> index.add("run-2", 2, "auth/confirmed", "async.data.ok == true", {})
>>> index.match({"name": "auth/confirmed", "data": {"ok": True}})
['run-1', 'run-2']
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, cast

from ..wait import ExpressionIndex
from .events import as_the_server_reads, events_in
from .function import Trigger
from .store import dumps, us
from .transport import Target

__all__ = ["admit", "triggered", "triggers_of", "WaitIndex", "SCHEDULED_EVENT"]

#: The event a cron trigger starts its runs with (as Inngest names it).
SCHEDULED_EVENT: Final = "inngest/scheduled.timer"


def admit(events: object, now: datetime) -> list[dict[str, Any]]:
    """The events sent (one or a list), checked and stamped as the runner stores them: an
    ``id`` and a ``ts`` (milliseconds) unless they have one, JSON through and through.

    >>> from datetime import timezone
    >>> [event] = admit({"name": "a/b", "id": "e1"}, datetime(2024, 1, 1, tzinfo=timezone.utc))
    >>> event
    {'name': 'a/b', 'id': 'e1', 'data': {}, 'ts': 1704067200000}
    """
    admitted = []
    for doc in events_in(events):
        doc.setdefault("id", uuid.uuid4().hex)
        doc.setdefault("ts", us(now) // 1000)
        try:
            admitted.append(json.loads(dumps(doc)))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"an event must be JSON-serializable: {exc}") from None
    return admitted


def triggers_of(fn: Target) -> tuple[Trigger, ...]:
    """Every trigger of ``fn`` (a target that lists no ``triggers`` has its one
    ``trigger``).

    >>> from inngest_core.sdk import function, Trigger
    >>> from inngest_core.sdk.transport import InProcess
    >>> f = function(id="f", trigger=[Trigger(event="a"), Trigger(cron="@daily")])(lambda c, s: 1)
    >>> triggers_of(InProcess(f))
    (Trigger(event='a'), Trigger(cron='@daily'))
    """
    triggers = getattr(fn, "triggers", None)
    if triggers is None:
        triggers = getattr(getattr(fn, "function", None), "triggers", None)
    return tuple(triggers) if triggers else (fn.trigger,)


def triggered(fn: Target, event: Mapping[str, Any]) -> bool:
    """Whether ``event`` starts a run of ``fn``: any of its triggers matches.

    >>> from inngest_core.sdk import function, Trigger
    >>> from inngest_core.sdk.transport import InProcess
    >>> f = function(id="f", trigger=Trigger(event="a", if_="event.data.n > 1"))(lambda c, s: 1)
    >>> triggered(InProcess(f), {"name": "a", "data": {"n": 2}}), triggered(InProcess(f), {"name": "a"})
    (True, False)
    """
    for trigger in triggers_of(fn):
        try:
            if trigger.matches(event):
                return True
        except Exception:  # an expression that cannot evaluate on this event does not match
            continue
    return False


class WaitIndex:
    """The runs waiting for an event, by event name: those with no expression, and an
    :class:`~inngest_core.ExpressionIndex` per name for those with one (in the
    ``"inngest"`` dialect, as the server matches pauses).  Matches come out
    in the order the waits were made (``seq``)."""

    def __init__(self) -> None:
        self._plain: dict[str, dict[str, int]] = {}
        self._indexes: dict[str, ExpressionIndex] = {}
        self._seq: dict[str, int] = {}

    def add(self, run_id: str, seq: int, name: str, expression: str | None,
            event: Mapping[str, Any]) -> None:
        """File the wait of ``run_id``; ``expression`` is stored as the server stores it: the
        run's triggering ``event`` (as the server reads it, JSON numbers as floats)
        interpolated into it (``residual.go: Interpolate``).  An expression that does not
        compile, or whose interpolation fails, raises (the wait can then only time out)."""
        self._seq[run_id] = seq
        if expression is None:
            self._plain.setdefault(name, {})[run_id] = seq
            return
        index = self._indexes.get(name)
        if index is None:
            index = self._indexes[name] = ExpressionIndex(dialect="inngest")
        index.add(run_id, expression, event=as_the_server_reads(event))

    def remove(self, run_id: str, name: str) -> None:
        self._seq.pop(run_id, None)
        plain = self._plain.get(name)
        if plain is not None and run_id in plain:
            del plain[run_id]
            return
        index = self._indexes.get(name)
        if index is not None and run_id in index:
            index.remove(run_id)

    def match(self, event: Mapping[str, Any]) -> list[str]:
        """The runs ``event`` resumes, earliest wait first."""
        name = event["name"]
        matched = list(self._plain.get(name, {}))
        index = self._indexes.get(name)
        if index is not None:
            # Every key filed is a run id; the event is read as the server reads it.
            matched.extend(cast("list[str]", index.match(as_the_server_reads(event))))
        matched.sort(key=lambda run_id: self._seq.get(run_id, 0))
        return matched
