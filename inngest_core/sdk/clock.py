"""Clocks for the local runner: the system's, or a manual one that tests move by hand.

>>> clock = ManualClock(datetime(2024, 1, 1, tzinfo=timezone.utc))
>>> clock.advance(timedelta(hours=1, minutes=30))
>>> clock.now()
datetime.datetime(2024, 1, 1, 1, 30, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock", "ManualClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything with ``now() -> aware datetime``."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time, in UTC.

    >>> SystemClock().now().tzinfo
    datetime.timezone.utc
    """

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that moves only when told (``advance``, ``set``); starts at ``start`` or now.

    >>> clock = ManualClock(datetime(2024, 1, 1, tzinfo=timezone.utc))
    >>> clock.set(datetime(2024, 1, 2, tzinfo=timezone.utc)); clock.now().day
    2
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _aware(start) if start is not None else datetime.now(timezone.utc)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move forward by ``delta`` (never backward).

        >>> ManualClock().advance(timedelta(seconds=-1))
        Traceback (most recent call last):
        ...
        ValueError: a clock only moves forward
        """
        if delta < timedelta(0):
            raise ValueError("a clock only moves forward")
        self._now += delta

    def set(self, moment: datetime) -> None:
        """Jump to ``moment`` (not before the current time)."""
        moment = _aware(moment)
        if moment < self._now:
            raise ValueError("a clock only moves forward")
        self._now = moment


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the clock needs an aware datetime")
    return moment.astimezone(timezone.utc)
