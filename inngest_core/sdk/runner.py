"""The local runner: Inngest's server in miniature, on SQLite, for development and tests.

It drives functions only through Inngest's step protocol -- real call requests, JSON in,
JSON out -- either in process (:meth:`Function.handle`) or over HTTP
(:meth:`LocalRunner.remote`, signed calls as Inngest's server makes them), and keeps every
run's state -- memos, pending sleeps and waits, attempts, outcome -- in SQLite (WAL, one
transaction per state change), so a new runner on the same file resumes every pending run
exactly where it stopped.

:class:`LocalRunner` makes the calls and applies their answers, resolving each reported op
through the step-kind table (:mod:`~inngest_core.sdk.kinds`); the run state is in
:mod:`~inngest_core.sdk.store`, what is due when in :mod:`~inngest_core.sdk.scheduler`,
incoming events and waits in :mod:`~inngest_core.sdk.intake`, and the way to a function in
:mod:`~inngest_core.sdk.transport` (in process) or :mod:`~inngest_core.sdk.remote` (HTTP).

>>> from datetime import datetime, timezone
>>> from inngest_core.sdk import function, Trigger
>>> @function(id="nap", trigger=Trigger(event="demo/nap"))
... def nap(ctx, step):
...     step.sleep("rest", "1h")
...     return step.step("wake", lambda: "up")
>>> clock = ManualClock(datetime(2024, 1, 1, tzinfo=timezone.utc))
>>> runner = LocalRunner([nap], db=":memory:", clock=clock)
>>> [run_id] = runner.send({"name": "demo/nap", "data": {}})
>>> runner.status(run_id)
'sleeping'
>>> runner.advance(timedelta(hours=1))
>>> runner.status(run_id), runner.result(run_id)
('completed', 'up')
>>> [(e.step, e.op) for e in runner.history(run_id)]
[(None, 'RunStarted'), ('rest', 'Sleep'), ('rest', 'Woke'), ('wake', 'StepRun'), (None, 'RunComplete')]
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from . import kinds, protocol
from .clock import Clock, ManualClock, SystemClock
from .function import Function
from .intake import SCHEDULED_EVENT, WaitIndex, admit, triggered
from .scheduler import BACKOFF_TABLE, Scheduler, backoff
from .store import RUN_STATUSES, HistoryEntry, RunStore, us
from .transport import InProcess, Target

__all__ = ["LocalRunner", "HistoryEntry", "RUN_STATUSES", "BACKOFF_TABLE", "backoff",
           "SCHEDULED_EVENT"]


class LocalRunner:
    """Runs ``functions`` locally on the SQLite database ``db`` (a path or ``":memory:"``).

    ``send(event)`` starts the runs the event triggers and resumes the waits it matches;
    ``run_until_idle()`` drives everything due now; with a :class:`ManualClock`,
    ``advance(delta)`` moves time and drives every sleep, retry, timeout and cron fire on
    the way.  Each returns when the work it caused is done.

    >>> from inngest_core.sdk import function, Trigger
    >>> @function(id="once", trigger=Trigger(event="demo/once"))
    ... def once(ctx, step):
    ...     return step.step("double", lambda: ctx.event["data"]["n"] * 2)
    >>> runner = LocalRunner([once], db=":memory:")
    >>> [run] = runner.send({"name": "demo/once", "data": {"n": 21}})
    >>> runner.status(run), runner.result(run)
    ('completed', 42)
    """

    def __init__(self, functions: Iterable[Function | Target], db: str = "inngest.db",
                 *, clock: Clock | None = None) -> None:
        #: What the runner calls, by function id: in process or over HTTP.
        self.functions: dict[str, Target] = {}
        for item in functions:
            if isinstance(item, Function):
                fn: Target = InProcess(item)
            elif isinstance(item, Target):
                fn = item
            else:
                raise TypeError(f"LocalRunner runs Function objects, not {type(item).__name__}")
            if fn.slug in self.functions:
                raise ValueError(f"two functions share the id {fn.slug!r}")
            self.functions[fn.slug] = fn
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.db = db
        self.store = RunStore(db, self.clock, list(self.functions))
        self.waits = WaitIndex()
        self.scheduler = Scheduler(self.store, self.clock, self.functions, self._call,
                                   self._start, self._cron_event)
        for run_id, seq, name, expression, event in self.store.waits():
            try:
                self.waits.add(run_id, seq, name, expression, event)
            except Exception:  # as when it was stored: it can only time out
                pass
        self.scheduler.init_crons()

    @classmethod
    def remote(cls, url: str, signing_key: str | None = None, *,
               signing_key_fallback: str | None = None, db: str = ":memory:",
               clock: Clock | None = None, timeout: float = 30.0) -> LocalRunner:
        """A runner for the functions an app serves at ``url``, driven over HTTP exactly
        as Inngest's server would: it syncs the app in band (a signed ``PUT``), then sends
        every call as a signed ``POST`` and checks each answer's signature.  Without a
        ``signing_key`` the app must be in dev mode (nothing is signed).

        >>> LocalRunner.remote("http://127.0.0.1:1/api/inngest", timeout=0.5)
        Traceback (most recent call last):
        ...
        inngest_core.sdk.remote.SyncError: cannot sync http://127.0.0.1:1/api/inngest: ...
        """
        from .remote import sync

        targets = sync(url, signing_key, signing_key_fallback=signing_key_fallback,
                       timeout=timeout)
        return cls(targets, db=db, clock=clock)

    def close(self) -> None:
        """Close the database (pending runs stay in it for the next runner).

        >>> with LocalRunner([], db=":memory:") as runner:
        ...     runner.runs()
        []
        """
        self.store.close()

    def __enter__(self) -> LocalRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ events

    def send(self, event: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[str]:
        """Send one event (or a list): resume the waits it matches, earliest first, start a
        run of every function it triggers, and drive what is due.  Returns the new run ids.

        >>> LocalRunner([], db=":memory:").send({"name": "nobody/listens"})
        []
        """
        started: list[str] = []
        for doc in admit(event, self.clock.now()):
            self._resume_waits(doc)
            for fn in self.functions.values():
                if triggered(fn, doc):
                    with self.store.tx() as conn:
                        started.append(self._start(conn, fn, doc))
        self.run_until_idle()
        return started

    def _start(self, conn: sqlite3.Connection, fn: Target, event: dict[str, Any]) -> str:
        run_id = uuid.uuid4().hex
        self.store.insert_run(conn, run_id, fn.slug, event, [event],
                              due_us=us(self.clock.now()))
        self.store.log(conn, run_id, None, "RunStarted", result=dict(event))
        return run_id

    def _cron_event(self, fn: Target) -> dict[str, Any]:
        return admit({"name": SCHEDULED_EVENT, "data": {"cron": fn.trigger.cron}},
                     self.clock.now())[0]

    def _resume_waits(self, event: dict[str, Any]) -> None:
        now_us = us(self.clock.now())
        for run_id in self.waits.match(event):
            step, display = self.store.pending(run_id)
            with self.store.tx() as conn:
                self.store.memo(conn, run_id, step, event)
                self.store.pop_wait(conn, run_id)
                self.store.unpend(conn, run_id, due_us=now_us)
                self.store.log(conn, run_id, display, "EventReceived", result=event)
            self.waits.remove(run_id, event["name"])

    # ------------------------------------------------------------------ driving

    def run_until_idle(self) -> None:
        """Drive every run (and cron fire) due at the clock's current time, until none is.

        >>> LocalRunner([], db=":memory:").run_until_idle()
        """
        self.scheduler.run_until_idle()

    def next_due(self, *, crons: bool = True) -> datetime | None:
        """When the next sleep, retry, wait timeout (or cron fire) is due; ``None`` if never.

        >>> LocalRunner([], db=":memory:").next_due() is None
        True
        """
        return self.scheduler.next_due(crons=crons)

    def advance(self, delta: timedelta) -> None:
        """Move a :class:`ManualClock` forward by ``delta``, driving everything that falls
        due on the way, in time order.

        >>> LocalRunner([], db=":memory:", clock=ManualClock()).advance(timedelta(days=1))
        """
        self.scheduler.advance(delta)

    def fast_forward(self, max_steps: int = 100_000) -> None:
        """Jump a :class:`ManualClock` through every pending sleep, retry and wait timeout
        until no run has anything left to wait for (cron schedules do not count).

        >>> LocalRunner([], db=":memory:", clock=ManualClock()).fast_forward()
        """
        self.scheduler.fast_forward(max_steps)

    def _call(self, run_id: str) -> None:
        """One call of a due run: wake it if it was parked, send the call request, apply
        the answer."""
        slug, event, events, status, attempt, pending, due_at = self.store.run(run_id)
        if due_at is None or due_at > us(self.clock.now()):
            return
        fn = self.functions[slug]
        if pending is not None and status in ("sleeping", "waiting"):
            step, display = pending
            wait = None
            with self.store.tx() as conn:
                self.store.memo(conn, run_id, step, None)
                self.store.unpend(conn, run_id)
                if status == "waiting":
                    wait = self.store.pop_wait(conn, run_id)
                    self.store.log(conn, run_id, display, "TimedOut")
                else:
                    self.store.log(conn, run_id, display, "Woke")
            if wait is not None:
                self.waits.remove(run_id, wait)
            attempt = 0
        request = protocol.call_request(
            event, events=events, run_id=run_id, attempt=attempt,
            steps=self.store.memos(run_id), max_attempts=fn.max_attempts, fn_id=fn.slug)
        answer = fn.call(request)
        self._apply(run_id, fn, attempt, answer.status, answer.no_retry, answer.body)

    def _apply(self, run_id: str, fn: Target, attempt: int, status: int, no_retry: bool,
               body: Any) -> None:
        now = self.clock.now()
        with self.store.tx() as conn:
            if status == 200:
                self.store.complete(conn, run_id, body)
                self.store.log(conn, run_id, None, "RunComplete", result=body)
                return
            if status == 206 and isinstance(body, list) and len(body) == 1 \
                    and isinstance(body[0], dict):
                try:
                    self._apply_op(conn, run_id, fn, attempt, body[0], now)
                    return
                except ValueError as exc:
                    self._fail(conn, run_id, {"name": "ProtocolError", "message": str(exc)})
                    return
            if status == 206:
                error = {"name": "ProtocolError",
                         "message": "the local runner takes one op per response"}
                no_retry = True
            else:
                error = body if isinstance(body, dict) else {"name": "Error",
                                                            "message": str(body)}
            if not no_retry and attempt + 1 < fn.max_attempts:
                retry_at = self.scheduler.retry_at(attempt, now)
                self.store.retry(conn, run_id, attempt=attempt + 1, due_us=us(retry_at))
                self.store.log(conn, run_id, None, "FunctionError", error=error,
                               until=us(retry_at), status=status)
                return
            self._fail(conn, run_id, error)

    def _apply_op(self, conn: sqlite3.Connection, run_id: str, fn: Target, attempt: int,
                  op: dict[str, Any], now: datetime) -> None:
        kind, step = op.get("op"), op.get("id")
        if not isinstance(step, str):
            raise ValueError(f"an op without a step id: {op!r}")
        resolve = kinds.RESOLVERS.get(kind) if isinstance(kind, str) else None
        if resolve is None:
            raise ValueError(f"unknown op {kind!r}")
        display = op.get("displayName") or op.get("name") or step
        raw_opts = op.get("opts")
        opts: dict[str, Any] = raw_opts if isinstance(raw_opts, dict) else {}
        resolve(_Resolution(self, conn, run_id, step, display, attempt, fn.max_attempts, now),
                op, opts)

    def _fail(self, conn: sqlite3.Connection, run_id: str, error: dict[str, Any]) -> None:
        self.store.fail(conn, run_id, error)
        self.store.log(conn, run_id, None, "RunFailed", error=error)

    # ------------------------------------------------------------------ reading

    def status(self, run_id: str) -> str:
        """``running``, ``sleeping``, ``waiting``, ``completed`` or ``failed``.

        >>> LocalRunner([], db=":memory:").status("nope")
        Traceback (most recent call last):
        ...
        KeyError: 'unknown run id nope'
        """
        return self.store.status(run_id)

    def result(self, run_id: str) -> Any:
        """A completed run's return value (``None`` otherwise).

        >>> from inngest_core.sdk import function, Trigger
        >>> f = function(id="f", trigger=Trigger(event="a"))(lambda ctx, step: [1, 2])
        >>> runner = LocalRunner([f], db=":memory:")
        >>> runner.result(runner.send({"name": "a"})[0])
        [1, 2]
        """
        return self.store.result(run_id)

    def error(self, run_id: str) -> dict[str, Any] | None:
        """A failed run's error (``{"name", "message", "stack"}``), ``None`` otherwise.

        >>> from inngest_core.sdk import function, Trigger, NonRetriableError
        >>> def body(ctx, step):
        ...     raise NonRetriableError("no")
        >>> runner = LocalRunner([function(id="f", trigger=Trigger(event="a"))(body)],
        ...                      db=":memory:")
        >>> error = runner.error(runner.send({"name": "a"})[0])
        >>> error["name"], error["message"]
        ('NonRetriableError', 'no')
        """
        return self.store.error(run_id)

    def runs(self) -> list[tuple[str, str, str]]:
        """Every run in the database: ``(run_id, function id, status)``, oldest first.

        >>> from inngest_core.sdk import function, Trigger
        >>> f = function(id="f", trigger=Trigger(event="a"))(lambda ctx, step: None)
        >>> runner = LocalRunner([f], db=":memory:")
        >>> [run] = runner.send({"name": "a"})
        >>> runner.runs() == [(run, "f", "completed")]
        True
        """
        return self.store.runs()

    def history(self, run_id: str) -> list[HistoryEntry]:
        """The run's timeline, oldest first.

        >>> from inngest_core.sdk import function, Trigger
        >>> f = function(id="f", trigger=Trigger(event="a"))(
        ...     lambda ctx, step: step.step("s", lambda: 1))
        >>> runner = LocalRunner([f], db=":memory:")
        >>> [(e.step, e.op, e.result) for e in runner.history(runner.send({"name": "a"})[0])][1:]
        [('s', 'StepRun', 1), (None, 'RunComplete', 1)]
        """
        return self.store.history(run_id)


class _Resolution:
    """The runner's verbs for one reported op (see :class:`~inngest_core.sdk.kinds.Resolution`),
    inside the transaction that applies it."""

    def __init__(self, runner: LocalRunner, conn: sqlite3.Connection, run_id: str, step: str,
                 display: str, attempt: int, max_attempts: int, now: datetime) -> None:
        self.runner, self.conn, self.run_id, self.step = runner, conn, run_id, step
        self.display, self.attempt, self.max_attempts, self.now = (display, attempt,
                                                                   max_attempts, now)
        self.store = runner.store

    def proceed(self, memo: object, op: str, **detail: Any) -> None:
        self.store.memo(self.conn, self.run_id, self.step, memo)
        self.store.schedule(self.conn, self.run_id, attempt=0, due_us=us(self.now))
        self.store.log(self.conn, self.run_id, self.display, op, **detail)

    def retry(self, op: str, **detail: Any) -> None:
        retry_at = self.runner.scheduler.retry_at(self.attempt, self.now)
        self.store.schedule(self.conn, self.run_id, attempt=self.attempt + 1,
                            due_us=us(retry_at))
        self.store.log(self.conn, self.run_id, self.display, op, until=us(retry_at), **detail)

    def sleep(self, until: datetime) -> None:
        self.store.pend(self.conn, self.run_id, "sleeping", due_us=us(until), step=self.step,
                        display=self.display)
        self.store.log(self.conn, self.run_id, self.display, protocol.SLEEP, until=us(until))

    def wait(self, event: str, expression: str | None, timeout_at: datetime) -> None:
        store, conn, run_id, display = self.store, self.conn, self.run_id, self.display
        trigger = store.trigger_event(conn, run_id)
        seq = store.next_seq(conn, "waits")
        store.add_wait(conn, run_id, seq, event, expression)
        store.pend(conn, run_id, "waiting", due_us=us(timeout_at), step=self.step,
                   display=display)
        store.log(conn, run_id, display, protocol.WAIT_FOR_EVENT, until=us(timeout_at),
                  event=event, expression=expression)
        try:
            self.runner.waits.add(run_id, seq, event, expression, trigger)
        except Exception as exc:
            # Inngest stores such a wait too; no event can match it, so it times out.
            store.log(conn, run_id, display, "WaitNeverMatches",
                      error={"name": type(exc).__name__, "message": str(exc)})
