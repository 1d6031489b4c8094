"""The local runner's scheduler: what is due when -- runs (a new run, a step done, a sleep's
end, a retry, a wait's timeout) and cron fires -- and driving it on the clock: now
(:meth:`Scheduler.run_until_idle`) or through time on a :class:`ManualClock`
(:meth:`Scheduler.advance`, :meth:`Scheduler.fast_forward`).  Retries wait Inngest's
backoff (:func:`backoff`).

>>> [str(backoff(n)) for n in (0, 1, 2)]
['0:00:15', '0:00:30', '0:01:00']
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from .clock import Clock, ManualClock
from .store import RunStore, dt, us
from .transport import Target

__all__ = ["Scheduler", "BACKOFF_TABLE", "backoff"]

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


#: Starts a run of a function with an event, inside a transaction; returns its id.
Start = Callable[[sqlite3.Connection, Target, dict[str, Any]], str]


class Scheduler:
    """Drives the runs in ``store`` of ``functions`` on ``clock``: ``drive(run_id)`` makes
    one call of a due run; ``start`` starts a run when a cron fires, with the event
    ``cron_event(fn)`` makes."""

    def __init__(self, store: RunStore, clock: Clock, functions: Mapping[str, Target],
                 drive: Callable[[str], None], start: Start,
                 cron_event: Callable[[Target], dict[str, Any]]) -> None:
        self.store = store
        self.clock = clock
        self.functions = functions
        self._drive = drive
        self._start = start
        self._cron_event = cron_event

    def retry_at(self, attempt: int, now: datetime) -> datetime:
        """When to call again after ``attempt`` failed at ``now``."""
        return now + backoff(attempt)

    def init_crons(self) -> None:
        """File each cron's next fire, unless the store already has one."""
        now = self.clock.now()
        with self.store.tx() as conn:
            for fn in self.functions.values():
                if fn.trigger.cron is not None:
                    self.store.init_cron(conn, fn.slug, us(fn.trigger.next_fire(now)))

    def fire_crons(self) -> list[str]:
        """Start a run of every cron due now; the new run ids."""
        started = []
        for slug, next_at in self.store.due_crons(us(self.clock.now())):
            fn = self.functions[slug]
            event = self._cron_event(fn)
            with self.store.tx() as conn:
                # Fires missed while no runner was up collapse into this one.
                after = max(dt(next_at), self.clock.now())
                self.store.set_cron(conn, slug, us(fn.trigger.next_fire(after)))
                started.append(self._start(conn, fn, event))
        return started

    def run_until_idle(self) -> None:
        """Drive every run (and cron fire) due at the clock's current time, until none is."""
        while True:
            self.fire_crons()
            due = self.store.due(us(self.clock.now()))
            if not due:
                return
            for run_id in due:
                self._drive(run_id)

    def next_due(self, *, crons: bool = True) -> datetime | None:
        """When the next run (or cron fire) is due; ``None`` if never."""
        times = [self.store.next_due()]
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
