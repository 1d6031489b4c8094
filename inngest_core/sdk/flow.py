"""Flow control for the local runner: every function option, decided as Inngest's server
decides it, with its state in SQLite (:class:`~inngest_core.sdk.store.FlowStore`) so a
restarted runner resumes it.

When an event comes (:meth:`Flow.on_event`): ``cancel`` options cancel the live runs it
matches; then each function it triggers takes it through ``batch_events`` (buffered up to
``max_size`` or ``timeout``) or ``debounce`` (the last event of a burst, ``period`` after
it, at most ``timeout`` after the first), and then :meth:`Flow.schedule`: ``rate_limit``
(GCRA; over the limit the event starts nothing), ``idempotency`` (one run per key per
24 h) and ``singleton`` (skip the new run, or cancel the old one).  A new run gets its
queue rank (``priority``), its concurrency, throttle and singleton keys and its
``timeouts.start`` deadline (:meth:`Flow.created`).

Between "due" and "called" (:meth:`Flow.gate`): a run without a concurrency slot takes one
for each of its keys, or waits in the queue (by rank) until one frees; a run's first call
passes the ``throttle`` (GCRA with burst: a run over the limit is delayed, never dropped).
A run holds its slots while it runs; it gives them back when it sleeps, waits, invokes,
backs off for a retry or ends (:meth:`Flow.after`), and the first queued run takes the
slot.  Deadlines (``timeouts.start``, ``timeouts.finish``) and buffers fire on the clock
(:meth:`Flow.tick`).

Every expression (keys, ``if``, ``run``) is evaluated by :func:`evaluate_option`, the one
place that knows the dialect.

>>> gcra(None, now_ns=0, period_ns=60 * 10**9, limit=2, burst=0)
(True, 30000000000, 0)
>>> gcra(30 * 10**9, now_ns=0, period_ns=60 * 10**9, limit=2, burst=0)
(False, 60000000000, 30000000000)
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from ..duration import format_duration
from ..errors import EvaluationError, ExpressionLimitError, ExpressionSyntaxError
from ..expr import Program, compile_expression
from .events import as_the_server_reads
from .intake import admit, triggered
from .options import (FUNCTION_FAILED_EVENT, Batch, Cancel, Concurrency, Debounce,
                      FunctionOptions, Priority, RateLimit, Singleton, Throttle, Timeouts)
from .store import ENDED, FlowStore, us
from .transport import Target

if TYPE_CHECKING:
    from .runner import LocalRunner

__all__ = ["Flow", "evaluate_option", "key_hash", "gcra", "priority_factor",
           "IDEMPOTENCY_PERIOD_NS", "PRIORITY_RANGE", "options_of", "options_from_config"]

_S: Final = 1_000_000_000
#: How long an idempotency key holds (``pkg/consts/consts.go`` FunctionIdempotencyPeriod).
IDEMPOTENCY_PERIOD_NS: Final = 24 * 3600 * _S
#: A cancellation without a timeout lasts this long (``pkg/consts/consts.go`` CancelTimeout).
CANCEL_DEFAULT_NS: Final = 365 * 24 * 3600 * _S
#: The priority factor's bounds in seconds (``pkg/consts/consts.go`` PriorityFactorMin/Max,
#: applied in ``pkg/inngest/function.go``).
PRIORITY_RANGE: Final = (-12 * 3600, 12 * 3600)
#: The event that reports a failed run (``pkg/consts/events.go`` FnFailedName) and the one
#: reporting a finished run; neither is reported on in turn (``executor/finalize.go``).
_FINISHED_EVENT: Final = "inngest/function.finished"


def evaluate_option(program: Program, activation: Mapping[str, Any]) -> Any:
    """Evaluate an option's compiled expression.  Every key, ``if`` and ``run`` of every
    option goes through here, so the dialect is switched in this one place.  (The events are
    given as Python has them: the server's float64 JSON numbers would make ``priority.run``
    of a plain number field no priority at all; see the README.)

    >>> from inngest_core.expr import compile_expression
    >>> evaluate_option(compile_expression("event.data.n + 1", dialect="inngest"),
    ...                 {"event": {"data": {"n": 1.0}}})
    '11'
    """
    return program.evaluate(activation)


def cancel_matches(if_: str, trigger: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Does ``event`` cancel a run triggered by ``trigger``?  As the server decides it: at the
    run's start ``if_`` is interpolated with the trigger (``executor.go``: on an error the
    expression is kept as written; ``false`` creates no pause), and the pause is matched
    against ``{"async": event}`` in the Inngest dialect.

    >>> trigger = {"name": "a/start", "data": {"id": "u1"}}
    >>> cancel_matches("event.data.id == async.data.id", trigger,
    ...                {"name": "a/cancel", "data": {"id": "u1"}})
    True
    """
    pause = _cancel_pause(if_, json.dumps(as_the_server_reads(trigger), sort_keys=True))
    if pause == "false":
        return False
    try:
        program = compile_expression(pause, dialect="inngest")
    except (ExpressionSyntaxError, ExpressionLimitError):
        return False  # the server stores it all the same; nothing can match it
    return program.matches({"async": as_the_server_reads(event)}) is True


@functools.lru_cache(maxsize=4096)
def _cancel_pause(if_: str, trigger: str) -> str:
    from .._dialect_interpolate import interpolate

    try:
        return interpolate(if_, {"event": json.loads(trigger)})
    except (EvaluationError, ExpressionSyntaxError, ExpressionLimitError):
        return if_


def key_hash(value: object) -> str:
    """A stable digest of a key expression's result (the server hashes it with xxhash:
    ``pkg/execution/ratelimit/ratelimit.go`` ``hash``; any stable digest serves locally).

    >>> key_hash("u1") == key_hash("u1") != key_hash("u2")
    True
    """
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def gcra(tat: int | None, *, now_ns: int, period_ns: int, limit: int,
         burst: int) -> tuple[bool, int, int]:
    """One request against a GCRA (generic cell rate algorithm) bucket whose theoretical
    arrival time is ``tat`` (``None``: new): ``(allowed now, the new tat, when it is
    allowed)``.  As the server's ``rateLimit`` (``pkg/execution/ratelimit/lua/ratelimit.lua``,
    and ``pkg/constraintapi/lua/helper/gcra.lua`` for throttle): emission interval =
    period / limit, burst + 1 requests at once (delay variation tolerance = emission x
    (burst + 1)); a request is allowed once new tat - tolerance has passed.  The new tat
    is what admitting the request at its allowed time leaves (a throttled run reserves its
    turn; a rate-limited event is dropped and leaves ``tat`` as it was).

    >>> gcra(None, now_ns=0, period_ns=10 * 10**9, limit=10, burst=1)
    (True, 1000000000, 0)
    """
    limit = max(limit, 1)
    emission = period_ns // limit
    tolerance = emission * (burst + 1)
    base = now_ns if tat is None or tat < now_ns else tat
    new_tat = base + emission
    allow_at = new_tat - tolerance
    return (now_ns >= allow_at, new_tat, max(allow_at, now_ns))


def priority_factor(program: Program, event: Mapping[str, Any]) -> int:
    """The seconds a run moves ahead in the queue: ``priority.run`` on the run's event, an
    int, clamped to :data:`PRIORITY_RANGE` (``pkg/inngest/function.go`` ``PriorityFactor``);
    0 when it errs or is not an int (the server schedules the run without a factor).

    >>> from inngest_core.expr import compile_expression
    >>> priority_factor(compile_expression("event.data.p", dialect="inngest"), {"data": {"p": 10**9}})
    43200
    """
    try:
        value = evaluate_option(program, {"event": event})
    except Exception:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return min(max(int(value), PRIORITY_RANGE[0]), PRIORITY_RANGE[1])


def options_of(fn: Target) -> FunctionOptions:
    """The options of a target (none for a target that has none)."""
    options = getattr(fn, "options", None)
    if options is None:
        options = getattr(getattr(fn, "function", None), "options", None)
    return options if isinstance(options, FunctionOptions) else FunctionOptions()


def options_from_config(doc: Mapping[str, Any]) -> FunctionOptions:
    """The options of a function's registration document (what a served app's sync says,
    as :meth:`FunctionOptions.to_config` writes it): how :meth:`LocalRunner.remote` knows
    them.  A bad option raises :class:`~inngest_core.sdk.options.FunctionConfigError`.

    >>> opts = options_from_config({"concurrency": [{"limit": 2}],
    ...                             "throttle": {"limit": 1, "period": "1m", "burst": 0}})
    >>> opts.concurrency[0].limit, opts.throttle.period_ns
    (2, 60000000000)
    """
    def get(name: str) -> Any:
        value = doc.get(name)
        return value if isinstance(value, Mapping) else None

    throttle, rate, debounce = get("throttle"), get("rateLimit"), get("debounce")
    priority, batch, timeouts, singleton = (get("priority"), get("batchEvents"),
                                            get("timeouts"), get("singleton"))
    return FunctionOptions.of(
        concurrency=[Concurrency(limit=c.get("limit", 0), key=c.get("key"),
                                 scope=c.get("scope"))
                     for c in doc.get("concurrency") or ()] or None,
        throttle=None if throttle is None else Throttle(
            limit=throttle.get("limit"), period=throttle.get("period"),
            burst=throttle.get("burst", 1), key=throttle.get("key")),
        rate_limit=None if rate is None else RateLimit(
            limit=rate.get("limit"), period=rate.get("period"), key=rate.get("key")),
        debounce=None if debounce is None else Debounce(
            period=debounce.get("period"), key=debounce.get("key"),
            timeout=debounce.get("timeout")),
        priority=None if priority is None else Priority(run=priority.get("run")),
        idempotency=doc.get("idempotency"),
        batch_events=None if batch is None else Batch(
            max_size=batch.get("maxSize"), timeout=batch.get("timeout"),
            key=batch.get("key"), if_=batch.get("if")),
        cancel=[Cancel(event=c.get("event"), if_=c.get("if"), timeout=c.get("timeout"))
                for c in doc.get("cancel") or ()] or None,
        timeouts=None if timeouts is None else Timeouts(
            start=timeouts.get("start"), finish=timeouts.get("finish")),
        singleton=None if singleton is None else Singleton(
            mode=singleton.get("mode"), key=singleton.get("key")))


def _key(program: Program | None, event: Mapping[str, Any]) -> object:
    if program is None:
        return None
    try:
        return evaluate_option(program, {"event": event})
    except Exception:
        # As the server for concurrency and throttle keys (errors read as no value:
        # pkg/inngest/concurrency.go Evaluate, pkg/execution/queue/item.go GetThrottleConfig).
        return None


def _has_run_state(options: FunctionOptions) -> bool:
    return bool(any(c.limit > 0 for c in options.concurrency) or options.throttle
                or options.singleton or options.cancel or options.timeouts
                or options.priority)


class Flow:
    """The flow control of ``runner`` (a :class:`~inngest_core.sdk.runner.LocalRunner`)."""

    def __init__(self, runner: LocalRunner) -> None:
        self.runner = runner
        self.store = runner.store
        self.fs = FlowStore(runner.store)
        self.clock = runner.clock
        every = [options_of(fn) for fn in runner.functions.values()]
        #: Whether any function has deadlines or buffers (else :meth:`tick` has nothing to do).
        self._deadlines = any(o.timeouts is not None for o in every)
        self._buffers = any(o.debounce is not None or o.batch_events is not None for o in every)

    def _now(self) -> int:
        return us(self.clock.now())

    # ------------------------------------------------------------------ admission

    def on_event(self, event: dict[str, Any]) -> list[str]:
        """An event came: cancel the runs it cancels, then start (or buffer) a run of every
        function it triggers.  The ids of the runs started now."""
        self._cancel_by(event)
        started: list[str] = []
        for fn in self.runner.functions.values():
            if not triggered(fn, event):
                continue
            with self.store.tx() as conn:
                started.extend(self._admit(conn, fn, event))
        return started

    def _admit(self, conn: sqlite3.Connection, fn: Target, event: dict[str, Any]) -> list[str]:
        options = options_of(fn)
        now = self._now()
        batch = options.batch_events
        if batch is not None and event.get("name") != "inngest/function.invoked":
            # pkg/execution/batch/batch.go: append; the first event schedules the batch's
            # run after timeout; a full batch starts at once.  An event whose `if` is false
            # runs alone.
            if batch.if_program is not None:
                try:
                    batched = bool(evaluate_option(batch.if_program, {"event": event}))
                except Exception:
                    batched = False
                if not batched:
                    run = self.schedule(conn, fn, event, [event])
                    return [run] if run else []
            key = key_hash(_key(batch.key_program, event)) if batch.key else ""
            held = self.fs.buffer(conn, fn.slug, "batch", key)
            events, first, fire = held if held else ([], now, now + batch.timeout_ns // 1000)
            events.append(event)
            if len(events) >= batch.max_size:
                self.fs.pop_buffer(conn, fn.slug, "batch", key)
                run = self.schedule(conn, fn, events[0], events)
                return [run] if run else []
            self.fs.put_buffer(conn, fn.slug, "batch", key, events, first, fire)
            return []
        debounce = options.debounce
        if debounce is not None and event.get("name") != "inngest/function.invoked":
            # pkg/execution/debounce/debounce.go: each event replaces the held one and
            # moves the run to `period` after it, but never past `timeout` after the first.
            key = key_hash(_key(debounce.key_program, event)) if debounce.key else ""
            held = self.fs.buffer(conn, fn.slug, "debounce", key)
            first = held[1] if held else now
            fire = now + debounce.period_ns // 1000
            if debounce.timeout_ns is not None:
                fire = min(fire, first + debounce.timeout_ns // 1000)
            self.fs.put_buffer(conn, fn.slug, "debounce", key, [event], first, fire)
            return []
        run = self.schedule(conn, fn, event, [event])
        return [run] if run else []

    def schedule(self, conn: sqlite3.Connection, fn: Target, event: dict[str, Any],
                 events: Sequence[dict[str, Any]] | None = None) -> str | None:
        """Start a run of ``fn`` with ``event`` (and ``events``, a batch) unless its rate
        limit, idempotency key or singleton keeps it from starting; its id, or ``None``.
        The order is the server's (``pkg/execution/executor/executor.go`` ``schedule``:
        rate limit, then the run's idempotency key, then singleton)."""
        events = [event] if events is None else list(events)
        options = options_of(fn)
        now = self._now()
        # pkg/execution/executor/executor.go idempotencyKey: the run's key is the option's
        # value, else the event's id (pkg/execution/runner/runner.go Initialize: the id the
        # sender gave), else none for a batch; held for FunctionIdempotencyPeriod.  A key
        # already held starts nothing and costs no rate-limit capacity (the server's rate
        # limiter keeps the same key: ratelimit.WithIdempotency).
        program = options.idempotency_program
        idem = None
        if program is not None:
            idem = f"idem:{fn.slug}:{key_hash(_key(program, event))}"
        elif len(events) == 1 and event.get("id"):
            idem = f"idem:{fn.slug}:id:{event['id']}"
        if idem is not None and self.fs.key_held(conn, idem, now):
            self.fs.skip(conn, fn.slug, "idempotency", event)
            return None
        limit = options.rate_limit
        if limit is not None:
            # pkg/execution/ratelimit/ratelimit.go RateLimitKey: the function, or the
            # function and the key's value; a key that is false is not rate limited.
            # ratelimit_lua.go: burst = limit / 10.
            value = _key(limit.key_program, event) if limit.key else None
            if value is not False:
                key = f"rate:{fn.slug}:{key_hash(value)}" if limit.key else f"rate:{fn.slug}"
                allowed, new_tat, _ = gcra(self.fs.tat(conn, key), now_ns=now * 1000,
                                           period_ns=limit.period_ns, limit=limit.limit,
                                           burst=limit.limit // 10)
                if not allowed:
                    self.fs.skip(conn, fn.slug, "rate_limit", event)
                    return None
                self.fs.set_tat(conn, key, new_tat)
        if idem is not None:
            self.fs.claim_key(conn, idem, now + IDEMPOTENCY_PERIOD_NS // 1000)
        singleton = options.singleton
        if singleton is not None:
            skey = self._singleton_key(fn, event)
            if skey is not None:
                live = self.fs.live(conn, fn.slug, skey)
                if live and singleton.mode == "skip":
                    # pkg/execution/executor/executor.go: skip mode drops the new run.
                    self.fs.skip(conn, fn.slug, "singleton", event)
                    return None
                for run_id, _ in live:
                    self._cancel(conn, run_id, {"reason": "singleton",
                                                "event": _event_ref(event)})
        return self.runner._start(conn, fn, event, events)

    def _singleton_key(self, fn: Target, event: Mapping[str, Any]) -> str | None:
        # pkg/execution/singleton/singleton.go SingletonKey: a key that is false makes no
        # singleton.
        singleton = options_of(fn).singleton
        if singleton is None:
            return None
        if singleton.key_program is None:
            return f"single:{fn.slug}"
        value = _key(singleton.key_program, event)
        if value is False:
            return None
        return f"single:{fn.slug}:{key_hash(value)}"

    def created(self, conn: sqlite3.Connection, fn: Target, run_id: str,
                event: Mapping[str, Any]) -> None:
        """A run was made: file its keys, rank and start deadline if its function has
        options that act on live runs."""
        options = options_of(fn)
        if not _has_run_state(options):
            return
        now = self._now()
        ckeys: list[tuple[str, int]] = []
        for limit in options.concurrency:
            if limit.limit <= 0:  # 0: the most available (docs/SDK_SPEC.md 4.3.2)
                continue
            # pkg/execution/queue/item.go GetCustomConcurrencyKeys: scope, scope id, and the
            # key's value; a fn-scoped limit without a key is the function's own.
            scope = limit.scope or "fn"
            owner = fn.slug if scope == "fn" else "local"
            if limit.key is None:
                ckeys.append((f"c:{scope}:{owner}", limit.limit))
            else:
                value = _key(limit.key_program, event)
                ckeys.append((f"c:{scope}:{owner}:{limit.key}:{key_hash(value)}", limit.limit))
        tkey = None
        throttle = options.throttle
        if throttle is not None:
            # pkg/execution/queue/item.go GetThrottleConfig: the function, plus the key's value.
            tkey = f"throttle:{fn.slug}"
            if throttle.key is not None:
                tkey += ":" + key_hash(_key(throttle.key_program, event))
        rank = now
        if options.priority is not None and options.priority.run_program is not None:
            # pkg/execution/queue/item.go (Score, GetPriorityFactor): the run's start is
            # queued `factor` seconds earlier (later when negative).
            rank = now - priority_factor(options.priority.run_program, event) * 1_000_000
            self.store.schedule(conn, run_id, attempt=0, due_us=rank)
        start_by = None
        if options.timeouts is not None and options.timeouts.start_ns is not None:
            start_by = now + options.timeouts.start_ns // 1000
        self.fs.add_run(conn, run_id, fn.slug, created=now, rank=rank, ckeys=ckeys,
                        tkey=tkey, skey=self._singleton_key(fn, event), start_by=start_by)

    # ------------------------------------------------------------------ driving

    def gate(self, run_id: str) -> bool:
        """Whether the due run may be called now: it holds (or takes) a slot of each of its
        concurrency keys, and its first call passes the throttle.  Otherwise it is queued
        for a slot, or delayed to its throttle turn."""
        row = self.fs.run(self.store.conn, run_id)
        if row is None or row["holding"]:
            return True
        with self.store.tx() as conn:
            now = self._now()
            fn = self.runner.functions[row["function_id"]]
            for ckey, limit in row["ckeys"]:
                if self.fs.used(conn, ckey) >= limit:
                    self.fs.enqueue(conn, run_id, [k for k, _ in row["ckeys"]], row["rank"],
                                    self.fs.run_seq(conn, run_id))
                    self.store.log(conn, run_id, None, "ConcurrencyLimited",
                                   result={"limit": limit})
                    return False
            throttle = options_of(fn).throttle
            if throttle is not None and row["tkey"] and not row["started"] \
                    and not row["admitted"]:
                # Throttle applies to a run's start only (pkg/execution/queue/item.go:
                # Throttle on the queue item that starts the run).
                _, new_tat, allow_at = gcra(self.fs.tat(conn, row["tkey"]), now_ns=now * 1000,
                                            period_ns=throttle.period_ns, limit=throttle.limit,
                                            burst=throttle.burst)
                self.fs.set_tat(conn, row["tkey"], new_tat)
                self.fs.mark(conn, run_id, admitted=1)
                at = -(-allow_at // 1000)
                if at > now:
                    self.store.schedule(conn, run_id, attempt=0, due_us=at)
                    self.store.log(conn, run_id, None, "Throttled", until=at)
                    # It may have been woken for a slot it does not take now: pass it on.
                    for ckey, limit in row["ckeys"]:
                        if self.fs.used(conn, ckey) < limit:
                            self.fs.dequeue_next(conn, ckey, now)
                    return False
            if row["ckeys"]:
                self.fs.take(conn, run_id, [k for k, _ in row["ckeys"]])
            if not row["started"]:
                options = options_of(fn)
                finish = options.timeouts.finish_ns if options.timeouts else None
                self.fs.mark(conn, run_id, started=1, start_by=None,
                             finish_by=None if finish is None else now + finish // 1000)
        return True

    def after(self, run_id: str) -> None:
        """After a call: a run that ended, parked or backs off gives its slots back (the
        first queued run takes each); an ended run leaves flow control."""
        row = self.fs.run(self.store.conn, run_id)
        if row is None:
            return
        status, due = self.fs.run_state(self.store.conn, run_id)
        if status in ENDED:
            with self.store.tx() as conn:
                self._release(conn, run_id)
                self.fs.drop_run(conn, run_id)
        elif row["holding"] and (status != "running" or due is None or due > self._now()):
            with self.store.tx() as conn:
                self._release(conn, run_id)

    def _release(self, conn: sqlite3.Connection, run_id: str) -> None:
        now = self._now()
        for ckey in self.fs.release(conn, run_id):
            self.fs.dequeue_next(conn, ckey, now)

    # ------------------------------------------------------------------ cancelling

    def _cancel(self, conn: sqlite3.Connection, run_id: str, cause: dict[str, Any]) -> None:
        wait = self.store.pop_wait(conn, run_id)
        group_waits = self.runner.plans.drop(conn, run_id)
        self.store.cancel(conn, run_id)
        self._release(conn, run_id)
        self.fs.drop_run(conn, run_id)
        self.store.log(conn, run_id, None, "RunCancelled", result=cause)
        if wait is not None:
            self.runner.waits.remove(run_id, wait)
        for key, name in group_waits:
            self.runner.waits.remove(key, name)
        # An invoked run that is cancelled resumes its caller with the finished event the
        # server sends: no result, no error (executor.go Cancel finalizes with an empty
        # response; state/pause.go GetResumeData then resumes with the whole event).
        slug, event, events = self.fs.run_events(conn, run_id)
        if event.get("name") == "inngest/function.invoked":
            fn = self.runner.functions[slug]
            meta = event.get("data", {}).get("_inngest") or {}
            [finished] = admit({"name": _FINISHED_EVENT, "data": {
                "function_id": getattr(fn, "id", None) or fn.composite_id(self.runner.app_id),
                "run_id": run_id, "event": event, "events": events,
                "correlation_id": meta.get("correlation_id"),
                "_inngest": {"status": "Cancelled"}}}, self.clock.now())
            self.runner._invoke_done(conn, run_id, finished, "InvokeCancelled",
                                     result=finished["data"]["_inngest"])

    def cancel(self, run_id: str, cause: dict[str, Any]) -> bool:
        """Cancel a live run (``cause`` goes into its history); ``False`` if it has ended."""
        with self.store.tx() as conn:
            if self.store.status(run_id) in ENDED:
                return False
            self._cancel(conn, run_id, cause)
        return True

    def _cancel_by(self, event: Mapping[str, Any]) -> None:
        name = event.get("name")
        now = self._now()
        for fn in self.runner.functions.values():
            cancels = [c for c in options_of(fn).cancel if c.event == name]
            if not cancels:
                continue
            with self.store.tx() as conn:
                for run_id, created in self.fs.live(conn, fn.slug):
                    trigger = self.store.trigger_event(conn, run_id)
                    for cancel in cancels:
                        timeout = cancel.timeout_ns if cancel.timeout_ns is not None \
                            else CANCEL_DEFAULT_NS
                        if now > created + timeout // 1000:
                            continue
                        # docs/SDK_SPEC.md 4.3.2 cancel.if: `event` is the run's
                        # triggering event, `async` the incoming one.
                        if cancel.if_ is not None and not cancel_matches(cancel.if_, trigger,
                                                                         event):
                            continue
                        self._cancel(conn, run_id, {"reason": "cancel",
                                                    "event": _event_ref(event),
                                                    "if": cancel.if_})
                        break

    # ------------------------------------------------------------------ timers

    def tick(self) -> None:
        """Cancel the runs past a ``timeouts`` deadline and start the debounce and batch
        runs due now."""
        now = self._now()
        for run_id, start_by, finish_by in (self.fs.deadlines_due(now) if self._deadlines
                                            else ()):
            fn = self.runner.functions[self.fs.function_of(run_id)]
            timeouts = options_of(fn).timeouts
            if start_by is not None and start_by <= now:
                which = "start"
                ns = timeouts.start_ns if timeouts else None
            else:
                which = "finish"
                ns = timeouts.finish_ns if timeouts else None
            cause: dict[str, Any] = {"reason": f"timeouts.{which}"}
            if ns is not None:
                cause["timeout"] = format_duration(ns)
            self.cancel(run_id, cause)
        for slug, kind, key in (self.fs.buffers_due(now) if self._buffers else ()):
            fn = self.runner.functions[slug]
            with self.store.tx() as conn:
                held = self.fs.buffer(conn, slug, kind, key)
                self.fs.pop_buffer(conn, slug, kind, key)
                if held:
                    events = held[0]
                    # A debounce starts with the last event, a batch with all of them.
                    self.schedule(conn, fn, events[0], events)

    def next_at(self) -> int | None:
        """When the next deadline or buffer is due (microseconds; ``None`` if none)."""
        times = [self.fs.next_deadline() if self._deadlines else None,
                 self.fs.next_buffer() if self._buffers else None]
        known = [t for t in times if t is not None]
        return min(known) if known else None

    # ------------------------------------------------------------------ failures, restarts

    def failed_event(self, conn: sqlite3.Connection, run_id: str,
                     error: Mapping[str, Any]) -> dict[str, Any] | None:
        """The ``inngest/function.failed`` event the server sends when the run failed for
        good (``pkg/execution/executor/finalize.go`` and ``executor.go``
        ``functionFinishedData``: ``function_id`` (the composite id), ``run_id``,
        ``event``, ``events``, ``error``; the event's id is the run id); ``None`` for a run
        started by such an event itself."""
        slug, event, events = self.fs.run_events(conn, run_id)
        if event.get("name") in (FUNCTION_FAILED_EVENT, _FINISHED_EVENT):
            return None
        fn = self.runner.functions[slug]
        composite = getattr(fn, "id", None) or fn.composite_id(self.runner.app_id)
        [doc] = admit({"name": FUNCTION_FAILED_EVENT, "id": run_id,
                       "data": {"function_id": composite, "run_id": run_id, "error": dict(error),
                                "event": event, "events": events,
                                "_inngest": {"status": "Failed"}}}, self.clock.now())
        return doc

    def recover(self) -> None:
        """After a restart: give back the slots of runs that ended, parked or back off, and
        drop ended runs (a crash between a call's commit and :meth:`after`)."""
        with self.store.tx() as conn:
            now = self._now()
            for run_id, status, due in self.fs.stale(conn):
                if status in ENDED:
                    self._release(conn, run_id)
                    self.fs.drop_run(conn, run_id)
                elif status != "running" or due is None or due > now:
                    self._release(conn, run_id)

    def skips(self) -> list[tuple[str, str, dict[str, Any], Any]]:
        return self.fs.skips()


def _event_ref(event: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": event.get("name"), "id": event.get("id")}
