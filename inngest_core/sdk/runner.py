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

It enforces the server's limits: a run has at most 1,000 steps (``DefaultMaxStepLimit``), a
step's output at most 4 MB (``MaxStepOutputSize``), an answer's body at most 8 MB
(``MaxSDKResponseBodySize``); a ``Retry-After`` on a failed attempt sets the retry's time as
the server reads it.  ``step.invoke`` starts a run of the named function here (over HTTP when
the runner drives a served app) and resumes the caller with its result; ``step.send_event``
in process sends through the runner's intake (:meth:`LocalRunner.accept`).

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

import queue
import sqlite3
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..datetimes import format_datetime
from . import kinds, protocol
from .clock import Clock, ManualClock, SystemClock
from .flow import Flow
from .function import Function
from .groups import Plans, is_plan
from .intake import SCHEDULED_EVENT, WaitIndex, admit
from .scheduler import BACKOFF_TABLE, Scheduler, backoff, retry_after_at
from .step import calling
from .store import RUN_STATUSES, HistoryEntry, RunStore, us
from .transport import InProcess, Target

__all__ = ["LocalRunner", "HistoryEntry", "RUN_STATUSES", "BACKOFF_TABLE", "backoff",
           "SCHEDULED_EVENT", "INVOKED_EVENT"]

#: The event an invoked run starts with (Inngest's ``consts.FnInvokeName``); its
#: ``data._inngest`` says who invoked it (``pkg/event/invoke.go``, ``InngestMetadata``).
INVOKED_EVENT = "inngest/function.invoked"


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

    #: A run with this many steps is failed at its next call, as Inngest's server does
    #: (``DefaultMaxStepLimit``).
    max_steps: int = protocol.MAX_STEPS

    def __init__(self, functions: Iterable[Function | Target], db: str = "inngest.db",
                 *, clock: Clock | None = None, app_id: str = "local") -> None:
        #: The app id in process functions answer as (``step.invoke`` names a function
        #: ``<app_id>-<id>``; a served app's functions keep their own).
        self.app_id = app_id
        #: What the runner calls, by function id: in process or over HTTP.  An in-process
        #: function's ``on_failure`` handler comes as its own function, as the official SDK
        #: registers it (:meth:`Function.failure_function`).
        self.functions: dict[str, Target] = {}
        targets: list[Target] = []
        for item in functions:
            if isinstance(item, Function):
                targets.append(InProcess(item))
                failure = item.failure_function(app_id)
                if failure is not None:
                    targets.append(InProcess(failure))
            elif isinstance(item, Target):
                targets.append(item)
            else:
                raise TypeError(f"LocalRunner runs Function objects, not {type(item).__name__}")
        for fn in targets:
            if fn.slug in self.functions:
                raise ValueError(f"two functions share the id {fn.slug!r}")
            self.functions[fn.slug] = fn
        self._invocable = {fn.composite_id(app_id): fn for fn in self.functions.values()}
        self._accepted: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.db = db
        self.store = RunStore(db, self.clock, list(self.functions))
        self.waits = WaitIndex()
        #: Planned steps (:mod:`~inngest_core.sdk.groups`): groups run as the server runs them.
        self.plans = Plans(self.store.conn)
        #: Flow control: every function option (:mod:`~inngest_core.sdk.flow`).
        self.flow = Flow(self)
        self.scheduler = Scheduler(self.store, self.clock, self.functions, self._drive,
                                   self.flow.schedule, self._cron_event, self.flow)
        for run_id, seq, name, expression, event in self.store.waits() + self.plans.waits():
            try:
                self.waits.add(run_id, seq, name, expression, event)
            except Exception:  # as when it was stored: it can only time out
                pass
        self.scheduler.init_crons()
        self.flow.recover()

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
            started.extend(self.flow.on_event(doc))
        self.run_until_idle()
        return started

    def accept(self, events: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[str]:
        """Take one event or a list from any thread -- ``step.send_event`` in process, or an
        event API in front of the runner -- and return their ids at once; the runner's own
        thread matches them (waits, triggers) after the call under way, or at its next
        :meth:`run_until_idle`.

        >>> from inngest_core.sdk import function, Trigger
        >>> f = function(id="f", trigger=Trigger(event="a"))(lambda ctx, step: "ran")
        >>> runner = LocalRunner([f], db=":memory:")
        >>> [event_id] = runner.accept({"name": "a", "id": "e1"})
        >>> event_id, runner.runs()
        ('e1', [])
        >>> runner.run_until_idle()
        >>> [status for _, _, status in runner.runs()]
        ['completed']
        """
        admitted = admit(events, self.clock.now())
        for doc in admitted:
            self._accepted.put(doc)
        return [str(doc["id"]) for doc in admitted]

    def _take_accepted(self) -> None:
        while True:
            try:
                doc = self._accepted.get_nowait()
            except queue.Empty:
                return
            self._resume_waits(doc)
            self.flow.on_event(doc)

    def _start(self, conn: sqlite3.Connection, fn: Target, event: dict[str, Any],
               events: Sequence[dict[str, Any]] | None = None) -> str:
        """Make a run of ``fn`` now (flow control has admitted it: :meth:`Flow.schedule`)."""
        run_id = uuid.uuid4().hex
        self.store.insert_run(conn, run_id, fn.slug, event,
                              [event] if events is None else events,
                              due_us=us(self.clock.now()))
        self.store.log(conn, run_id, None, "RunStarted", result=dict(event))
        self.flow.created(conn, fn, run_id, event)
        return run_id

    def _cron_event(self, fn: Target, cron: str, scheduled: datetime,
                    fire: datetime) -> dict[str, Any]:
        # pkg/execution/executor/service.go: the id is the scheduled time (RFC 3339), the
        # data names the schedule, when it was due and when it fired (after the jitter).
        scheduled_at = format_datetime(scheduled.replace(microsecond=0), "RFC3339")
        return admit({"name": SCHEDULED_EVENT, "id": scheduled_at,
                      "data": {"cron": cron, "scheduledAt": scheduled_at,
                               "fireAt": format_datetime(fire.replace(microsecond=0),
                                                         "RFC3339")}},
                     self.clock.now())[0]

    def cancel(self, run_id: str, reason: str = "api") -> bool:
        """Cancel a run that has not ended (its history says ``reason``); ``False`` if it
        had ended.

        >>> from inngest_core.sdk import function, Trigger
        >>> f = function(id="f", trigger=Trigger(event="a"))(
        ...     lambda ctx, step: step.sleep("nap", "1h"))
        >>> runner = LocalRunner([f], db=":memory:")
        >>> [run] = runner.send({"name": "a"})
        >>> runner.cancel(run), runner.status(run), runner.cancel(run)
        (True, 'cancelled', False)
        """
        return self.flow.cancel(run_id, {"reason": reason})

    def skipped(self) -> list[tuple[str, str, dict[str, Any], datetime]]:
        """Every event a flow option kept from starting a run: ``(function id, reason --
        "rate_limit", "idempotency" or "singleton" --, event, when)``, oldest first.

        >>> LocalRunner([], db=":memory:").skipped()
        []
        """
        return self.flow.skips()

    def _resume_waits(self, event: dict[str, Any]) -> None:
        now_us = us(self.clock.now())
        for run_id in self.waits.match(event):
            if "/" in run_id:
                self.plans.resume_wait(self, run_id, event)
                continue
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
        self._take_accepted()
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
        self._take_accepted()
        self.scheduler.fast_forward(max_steps)

    def _drive(self, run_id: str) -> None:
        """A due run, through flow control: called if it may be (a concurrency slot, its
        throttle turn), its slots given back after if it parked or ended."""
        if self.flow.gate(run_id):
            self._call(run_id)
            self.flow.after(run_id)

    def _call(self, run_id: str) -> None:
        """One call of a due run: wake it if it was parked, send the call request, apply
        the answer."""
        slug, event, events, status, attempt, pending, due_at = self.store.run(run_id)
        if due_at is None or due_at > us(self.clock.now()):
            return
        fn = self.functions[slug]
        if pending is not None and status in ("sleeping", "waiting", "invoking"):
            step, display = pending
            wait = None
            with self.store.tx() as conn:
                self.store.unpend(conn, run_id)
                if status == "invoking":
                    timed_out = dict(kinds.INVOKE_TIMEOUT_ERROR)
                    self.store.memo(conn, run_id, step, {"error": timed_out})
                    self.store.log(conn, run_id, display, "InvokeTimedOut", error=timed_out)
                elif status == "waiting":
                    self.store.memo(conn, run_id, step, None)
                    wait = self.store.pop_wait(conn, run_id)
                    self.store.log(conn, run_id, display, "TimedOut")
                else:
                    self.store.memo(conn, run_id, step, None)
                    self.store.log(conn, run_id, display, "Woke")
            if wait is not None:
                self.waits.remove(run_id, wait)
            attempt = 0
        memos = self.store.memos(run_id)
        if len(memos) >= self.max_steps:
            # As the server's run validator: the run is over its step limit.
            with self.store.tx() as conn:
                self._fail(conn, run_id, {
                    "error": "function has too many steps",
                    "name": "InngestErrFunctionOverflowed",
                    "message": f"The function run exceeded the step limit of "
                               f"{self.max_steps} steps."})
            return
        # A planned step (groups.py) runs in a call of its own, with its own attempt.
        planned = self.plans.due(run_id, us(self.clock.now())) if pending is None else None
        if planned is not None and planned[3] != "step":
            # A sleep, wait or invoke of a group: its time came, no call is made for it.
            self.plans.expire(self, run_id, planned)
            return
        request = protocol.call_request(
            event, events=events, run_id=run_id,
            attempt=attempt if planned is None else planned[2], steps=memos,
            max_attempts=fn.max_attempts, fn_id=fn.slug)
        if planned is not None or self.plans.planning(run_id):
            request["ctx"]["disable_immediate_execution"] = True
        with calling(self.app_id, self.accept):
            answer = fn.call(request) if planned is None else fn.call(request, planned[0])
        if planned is not None and answer.size <= protocol.MAX_RESPONSE_BYTES:
            self.plans.apply(self, run_id, fn, planned, answer,
                             retry_after_at(answer.retry_after, self.clock.now())
                             if not answer.no_retry else None)
        elif is_plan(answer.status, answer.body) and answer.size <= protocol.MAX_RESPONSE_BYTES:
            self.plans.plan(self, run_id, fn, answer.body)
        elif answer.size > protocol.MAX_RESPONSE_BYTES:
            # The server reads no further than its limit; the attempt failed.
            self._apply(run_id, fn, attempt, 500, False, {
                "name": "OutputTooLargeError",
                "message": f"the answer's body is {answer.size} bytes; the limit is "
                           f"{protocol.MAX_RESPONSE_BYTES} bytes (8 MB)"}, None)
        else:
            self._apply(run_id, fn, attempt, answer.status, answer.no_retry, answer.body,
                        answer.retry_after)
        self._take_accepted()

    def _apply(self, run_id: str, fn: Target, attempt: int, status: int, no_retry: bool,
               body: Any, retry_after: str | None) -> None:
        now = self.clock.now()
        retry_at = retry_after_at(retry_after, now) if not no_retry else None
        with self.store.tx() as conn:
            if status == 200:
                self.store.complete(conn, run_id, body)
                self.store.log(conn, run_id, None, "RunComplete", result=body)
                self._invoke_done(conn, run_id, {"data": body}, "InvokeFinished", result=body)
                return
            if status == 206 and isinstance(body, list) and len(body) == 1 \
                    and isinstance(body[0], dict):
                try:
                    self._apply_op(conn, run_id, fn, attempt, body[0], now, retry_at)
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
                if retry_at is None:
                    retry_at = self.scheduler.retry_at(attempt, now)
                self.store.retry(conn, run_id, attempt=attempt + 1, due_us=us(retry_at))
                self.store.log(conn, run_id, None, "FunctionError", error=error,
                               until=us(retry_at), status=status)
                return
            self._fail(conn, run_id, error)

    def _apply_op(self, conn: sqlite3.Connection, run_id: str, fn: Target, attempt: int,
                  op: dict[str, Any], now: datetime, retry_at: datetime | None) -> None:
        kind, step = op.get("op"), op.get("id")
        if not isinstance(step, str):
            raise ValueError(f"an op without a step id: {op!r}")
        resolve = kinds.RESOLVERS.get(kind) if isinstance(kind, str) else None
        if resolve is None:
            raise ValueError(f"unknown op {kind!r}")
        display = op.get("displayName") or op.get("name") or step
        raw_opts = op.get("opts")
        opts: dict[str, Any] = raw_opts if isinstance(raw_opts, dict) else {}
        resolve(_Resolution(self, conn, run_id, step, display, attempt, fn.max_attempts, now,
                            retry_at, fn), op, opts)

    def _fail(self, conn: sqlite3.Connection, run_id: str, error: dict[str, Any]) -> None:
        self.store.fail(conn, run_id, error)
        self.store.log(conn, run_id, None, "RunFailed", error=error)
        failed = self.flow.failed_event(conn, run_id, error)
        if failed is not None:
            # Matched after this call, as any event the runner takes (on_failure handlers).
            self._accepted.put(failed)
        self._invoke_done(conn, run_id, {"error": error}, "InvokeFailed", error=error)

    def _invoke_done(self, conn: sqlite3.Connection, run_id: str, memo: dict[str, Any],
                     op: str, **detail: Any) -> None:
        """A run ended: if it was invoked, resume its caller with ``memo`` (``{"data"}`` or
        ``{"error"}``, as the server memoizes a finished invoke: ``state/pause.go``
        ``GetResumeData``), unless the caller stopped waiting (it timed out)."""
        event = self.store.trigger_event(conn, run_id)
        meta = event.get("data", {}).get("_inngest") if event.get("name") == INVOKED_EVENT \
            else None
        correlation = meta.get("correlation_id") if isinstance(meta, dict) else None
        if not isinstance(correlation, str) or "." not in correlation:
            return
        caller, step = correlation.split(".", 1)
        try:
            status = self.store.status(caller)
        except KeyError:
            return
        if self.plans.resume_invoke(self, conn, caller, step, memo, op, **detail):
            return
        if status != "invoking" or self.store.pending(caller)[0] != step:
            return
        display = self.store.pending(caller)[1]
        self.store.memo(conn, caller, step, memo)
        self.store.unpend(conn, caller, due_us=us(self.clock.now()))
        self.store.log(conn, caller, display, op, **detail)

    # ------------------------------------------------------------------ reading

    def status(self, run_id: str) -> str:
        """``running`` (queued runs too), ``sleeping``, ``waiting``, ``invoking`` (waiting
        for an invoked run), ``completed``, ``failed`` or ``cancelled``.

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
                 display: str, attempt: int, max_attempts: int, now: datetime,
                 retry_at: datetime | None, fn: Target) -> None:
        self.runner, self.conn, self.run_id, self.step = runner, conn, run_id, step
        self.display, self.attempt, self.max_attempts, self.now = (display, attempt,
                                                                   max_attempts, now)
        self.retry_at, self.fn = retry_at, fn
        self.store = runner.store

    def proceed(self, memo: object, op: str, **detail: Any) -> None:
        self.store.memo(self.conn, self.run_id, self.step, memo)
        self.store.schedule(self.conn, self.run_id, attempt=0, due_us=us(self.now))
        self.store.log(self.conn, self.run_id, self.display, op, **detail)

    def retry(self, op: str, **detail: Any) -> None:
        retry_at = self.retry_at or self.runner.scheduler.retry_at(self.attempt, self.now)
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

    def invoke(self, function_id: str, payload: Mapping[str, Any],
               timeout_at: datetime) -> None:
        store, conn, run_id, display = self.store, self.conn, self.run_id, self.display
        child = start_invoked(self.runner, conn, run_id, self.step, display, self.fn,
                              function_id, payload, timeout_at, self.now)
        if child is None:
            store.schedule(conn, run_id, attempt=0, due_us=us(self.now))
            return
        store.pend(conn, run_id, "invoking", due_us=us(timeout_at), step=self.step,
                   display=display)
        store.log(conn, run_id, display, protocol.INVOKE_FUNCTION, until=us(timeout_at),
                  result={"function_id": function_id, "run_id": child})


def start_invoked(runner: LocalRunner, conn: sqlite3.Connection, run_id: str, step: str,
                  display: str, fn: Target, function_id: str, payload: Mapping[str, Any],
                  timeout_at: datetime, now: datetime) -> str | None:
    """Start the run that the step ``step`` of ``run_id`` invokes; its run id, or ``None``
    when no function has the id (the step's memo is then the error, logged
    ``InvokeFailed``, as the server's runner does: ``FindInvokedFunction``)."""
    target = runner._invocable.get(function_id)
    if target is None:
        error = {"name": "Error", "message": f"could not find function with ID: {function_id}"}
        runner.store.memo(conn, run_id, step, {"error": error})
        runner.store.log(conn, run_id, display, "InvokeFailed", error=error)
        return None
    event = {key: value for key, value in payload.items() if value is not None}
    data = dict(event.get("data") or {})
    data["_inngest"] = {"fn_id": function_id, "correlation_id": f"{run_id}.{step}",
                        "expire": us(timeout_at) // 1000, "name": display,
                        "source_fn_id": fn.slug}
    event.update(name=INVOKED_EVENT, data=data)
    [event] = admit(event, now)
    return runner._start(conn, target, event)
