"""The local runner's scheduler: what is due when -- runs (a new run, a step done, a sleep's
end, a retry, a wait's timeout) and cron fires -- and driving it on the clock: now
(:meth:`Scheduler.run_until_idle`) or through time on a :class:`ManualClock`
(:meth:`Scheduler.advance`, :meth:`Scheduler.fast_forward`).  Retries wait Inngest's
backoff (:func:`backoff`).

>>> [str(backoff(n)) for n in (0, 1, 2)]
['0:00:15', '0:00:30', '0:01:00']
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from ..datetimes import parse_datetime
from ..errors import DatetimeError
from .clock import Clock, ManualClock
from .function import Trigger
from .intake import triggers_of
from .store import RunStore, dt, us
from .transport import Target

__all__ = ["Scheduler", "BACKOFF_TABLE", "backoff", "retry_after_at", "triggers_of",
           "cron_fire_at"]

#: Inngest's retry delays (``pkg/backoff`` ``BackoffTable``), indexed by the failed attempt.
#: Inngest adds 0-30 s of random jitter; the local runner does not, so runs are repeatable.
BACKOFF_TABLE: Final = tuple(timedelta(seconds=s) for s in (
    15, 30, 60, 120, 300, 600, 1200, 2400, 3600, 7200))


def backoff(attempt: int) -> timedelta:
    """The delay before retrying after the 0-based ``attempt`` failed (Inngest's table).

    >>> [str(backoff(n)) for n in (0, 1, 2, 3, 4, 50)]
    ['0:00:15', '0:00:30', '0:01:00', '0:02:00', '0:05:00', '2:00:00']
    """
    return BACKOFF_TABLE[min(max(attempt, 0), len(BACKOFF_TABLE) - 1)]


#: The formats Inngest's server reads a ``Retry-After`` date in (``pkg/dateutil``,
#: ``strFormats``), as :func:`~inngest_core.parse_datetime` names them.
_RETRY_DATE_FORMATS: Final = ("RFC3339", "ISODATE", "RFC1123", "RFC822", "RFC822Z", "RFC850",
                              "RUBY", "UNIX", "ANSIC")
#: The bounds the server puts on a retry's time (``consts.MinRetryDuration``,
#: ``MaxRetryDuration``).
_MIN_RETRY: Final = timedelta(seconds=1)
_MAX_RETRY: Final = timedelta(hours=24)


def retry_after_at(value: str | None, now: datetime) -> datetime | None:
    """When a ``Retry-After`` answered at ``now`` asks for the retry, read as Inngest's
    server reads it (``httpdriver/parse.go`` ``ParseRetry``): up to 7 characters holding a
    positive integer are seconds from ``now`` (truncated to the second), else a date in one
    of the server's formats; then kept between 1 s and 24 h from ``now``.  ``None`` when the
    value is absent or unreadable (the usual backoff applies).

    >>> from datetime import timezone
    >>> now = datetime(2024, 1, 1, 12, 0, 0, 500000, tzinfo=timezone.utc)
    >>> retry_after_at("90", now).isoformat()
    '2024-01-01T12:01:30+00:00'
    >>> retry_after_at("Mon, 01 Jan 2024 13:00:00 GMT", now).isoformat()
    '2024-01-01T13:00:00+00:00'
    >>> retry_after_at("999999", now).isoformat(), retry_after_at("soon", now)
    ('2024-01-02T12:00:00+00:00', None)
    """
    if not value:
        return None
    base = now.replace(microsecond=0)
    at: datetime | None = None
    if len(value) <= 7:
        text = value[1:] if value[:1] in "+-" else value
        if text.isascii() and text.isdigit() and int(value) > 0:
            at = base + timedelta(seconds=int(value))
    if at is None:
        for name in _RETRY_DATE_FORMATS:
            try:
                at = parse_datetime(value, name)
                break
            except DatetimeError:
                continue
    if at is None:
        return None
    if at - now > _MAX_RETRY:
        return base + _MAX_RETRY
    if at - now < _MIN_RETRY:
        return base + _MIN_RETRY
    return at


#: Starts a run of a function with an event, inside a transaction, through flow control;
#: returns its id (``None`` when flow control kept it from starting).
Start = Callable[[sqlite3.Connection, Target, dict[str, Any]], "str | None"]
#: The event a cron fire starts its run with: ``(function, cron, scheduled, fire time)``.
CronEvent = Callable[[Target, str, datetime, datetime], dict[str, Any]]


class Timers(Protocol):
    """Timers besides runs and crons (flow control's buffers and deadlines): ``tick()``
    handles those due now, ``next_at()`` says when the next is (microseconds, or ``None``)."""

    def tick(self) -> None: ...

    def next_at(self) -> int | None: ...


def cron_fire_at(slug: str, trigger: Trigger, scheduled: datetime) -> datetime:
    """When the fire of ``trigger`` scheduled at ``scheduled`` starts its run: later by a
    jitter from 1 s up to the trigger's ``jitter``, stable for the same function, schedule
    and time, as Inngest's server draws it (``pkg/execution/executor/service.go`` with
    ``pkg/execution/cron/cron.go`` ``DeterministicJitter``: min + hash(seed) mod (max - min),
    min = ``MinCronJitter`` 1 s; the server hashes its job id with xxhash, we hash
    ``slug:cron:scheduled ms`` with SHA-256, so the draws differ but keep the same range).

    >>> from datetime import timezone
    >>> from inngest_core.sdk.function import Trigger
    >>> at = datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> cron_fire_at("f", Trigger(cron="@hourly"), at) == at
    True
    >>> delay = cron_fire_at("f", Trigger(cron="@hourly", jitter="30s"), at) - at
    >>> timedelta(seconds=1) <= delay < timedelta(seconds=30)
    True
    """
    jitter = trigger.jitter_ns or 0
    low = 1_000_000_000
    if jitter <= low:
        return scheduled if jitter == 0 else scheduled + timedelta(microseconds=low // 1000)
    seed = f"{slug}:{trigger.cron}:{us(scheduled) // 1000}".encode()
    draw = int.from_bytes(hashlib.sha256(seed).digest()[:8], "big") % (jitter - low)
    return scheduled + timedelta(microseconds=(low + draw) // 1000)


class Scheduler:
    """Drives the runs in ``store`` of ``functions`` on ``clock``: ``drive(run_id)`` makes
    one call of a due run; ``start`` starts a run when a cron fires, with the event
    ``cron_event(fn)`` makes."""

    def __init__(self, store: RunStore, clock: Clock, functions: Mapping[str, Target],
                 drive: Callable[[str], None], start: Start,
                 cron_event: CronEvent, timers: Timers | None = None) -> None:
        self.store = store
        self.timers = timers
        self.clock = clock
        self.functions = functions
        self._drive = drive
        self._start = start
        self._cron_event = cron_event

    def retry_at(self, attempt: int, now: datetime) -> datetime:
        """When to call again after ``attempt`` failed at ``now``."""
        return now + backoff(attempt)

    def init_crons(self) -> None:
        """File each cron trigger's next fire, unless the store already has one."""
        now = self.clock.now()
        with self.store.tx() as conn:
            for fn in self.functions.values():
                self.store.keep_crons(conn, fn.slug, [t.cron for t in triggers_of(fn)
                                                      if t.cron is not None])
                for trigger in triggers_of(fn):
                    if trigger.cron is not None:
                        scheduled = trigger.next_fire(now)
                        self.store.init_cron(conn, fn.slug, trigger.cron, us(scheduled),
                                             us(cron_fire_at(fn.slug, trigger, scheduled)))

    def fire_crons(self) -> list[str]:
        """Start a run of every cron due now (through flow control); the new run ids."""
        started = []
        for slug, cron, scheduled_at, fire_at in self.store.due_crons(us(self.clock.now())):
            fn = self.functions[slug]
            trigger = next(t for t in triggers_of(fn) if t.cron == cron)
            event = self._cron_event(fn, cron, dt(scheduled_at), dt(fire_at))
            with self.store.tx() as conn:
                # Fires missed while no runner was up collapse into this one.
                after = max(dt(scheduled_at), self.clock.now())
                scheduled = trigger.next_fire(after)
                self.store.set_cron(conn, slug, cron, us(scheduled),
                                    us(cron_fire_at(slug, trigger, scheduled)))
                run_id = self._start(conn, fn, event)
                if run_id is not None:
                    started.append(run_id)
        return started

    def run_until_idle(self) -> None:
        """Drive every run (and cron fire) due at the clock's current time, until none is."""
        while True:
            self.fire_crons()
            if self.timers is not None:
                self.timers.tick()
            due = self.store.due(us(self.clock.now()))
            if not due:
                return
            for run_id in due:
                self._drive(run_id)

    def next_due(self, *, crons: bool = True) -> datetime | None:
        """When the next run (or cron fire) is due; ``None`` if never."""
        times = [self.store.next_due()]
        if self.timers is not None:
            times.append(self.timers.next_at())
        if crons:
            times.append(self.store.next_cron())
        known = [t for t in times if t is not None]
        return dt(min(known)) if known else None

    def _manual(self) -> ManualClock:
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance and fast_forward need a ManualClock")
        return self.clock

    def advance(self, delta: timedelta) -> None:
        """Move a :class:`ManualClock` forward by ``delta``, driving everything that falls
        due on the way, in time order."""
        clock = self._manual()
        target = clock.now() + delta
        self.run_until_idle()
        while True:
            nxt = self.next_due()
            if nxt is None or nxt > target:
                break
            if nxt > clock.now():
                clock.set(nxt)
            self.run_until_idle()
        clock.set(target)
        self.run_until_idle()

    def fast_forward(self, max_steps: int = 100_000) -> None:
        """Jump a :class:`ManualClock` through every pending run's due time until no run
        has anything left to wait for (cron schedules do not count)."""
        clock = self._manual()
        self.run_until_idle()
        for _ in range(max_steps):
            nxt = self.next_due(crons=False)
            if nxt is None:
                return
            if nxt > clock.now():
                clock.set(nxt)
            self.run_until_idle()
