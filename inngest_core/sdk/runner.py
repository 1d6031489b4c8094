"""The local runner: Inngest's server in miniature, on SQLite, for development and tests.

It drives functions only through Inngest's step protocol -- real call requests, JSON in,
JSON out -- either in process (:meth:`Function.handle`) or over HTTP
(:meth:`LocalRunner.remote`, signed calls as Inngest's server makes them), and keeps every run's state -- memos, pending sleeps and waits, attempts, outcome
-- in SQLite (WAL, one transaction per state change), so a new runner on the same file
resumes every pending run exactly where it stopped.

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

import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from ..datetimes import format_datetime
from ..wait import ExpressionIndex
from . import kinds, protocol
from .clock import Clock, ManualClock, SystemClock
from .function import Function
from .transport import InProcess, Target

__all__ = ["LocalRunner", "HistoryEntry", "RUN_STATUSES", "BACKOFF_TABLE", "backoff",
           "SCHEDULED_EVENT"]

RUN_STATUSES: Final = ("running", "sleeping", "waiting", "completed", "failed")
#: The event a cron trigger starts its runs with (as Inngest names it).
SCHEDULED_EVENT: Final = "inngest/scheduled.timer"

#: Inngest's retry delays (``pkg/backoff`` ``BackoffTable``), indexed by the failed attempt.
#: Inngest adds 0-30 s of random jitter; the local runner does not, so runs are repeatable.
BACKOFF_TABLE: Final = tuple(timedelta(seconds=s) for s in (
    15, 30, 60, 120, 300, 600, 1200, 2400, 3600, 7200))

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL,
    function_id TEXT NOT NULL,
    event       TEXT NOT NULL,
    events      TEXT NOT NULL,
    status      TEXT NOT NULL,
    attempt     INTEGER NOT NULL DEFAULT 0,
    due_at      INTEGER,
    pending     TEXT,
    output      TEXT,
    error       TEXT
);
CREATE INDEX IF NOT EXISTS runs_due ON runs (due_at, seq) WHERE due_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS memos (
    run_id TEXT NOT NULL,
    step   TEXT NOT NULL,
    pos    INTEGER NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, step)
);
CREATE TABLE IF NOT EXISTS waits (
    run_id     TEXT PRIMARY KEY,
    seq        INTEGER NOT NULL,
    event_name TEXT NOT NULL,
    expression TEXT
);
CREATE TABLE IF NOT EXISTS history (
    run_id TEXT NOT NULL,
    pos    INTEGER NOT NULL,
    at     INTEGER NOT NULL,
    step   TEXT,
    op     TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (run_id, pos)
);
CREATE TABLE IF NOT EXISTS crons (
    function_id TEXT PRIMARY KEY,
    next_at     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _us(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _dt(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def backoff(attempt: int) -> timedelta:
    """The delay before retrying after the 0-based ``attempt`` failed (Inngest's table).

    >>> [str(backoff(n)) for n in (0, 1, 2, 3, 4, 50)]
    ['0:00:15', '0:00:30', '0:01:00', '0:02:00', '0:05:00', '2:00:00']
    """
    return BACKOFF_TABLE[min(max(attempt, 0), len(BACKOFF_TABLE) - 1)]


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a run's timeline: the ``step`` (its id as written; ``None`` for the run
    itself), the opcode or event (``op``), when (``at``), and ``result``, ``error`` and
    ``until`` (a sleep's end, a retry's time, a wait's timeout) where they apply.

    >>> HistoryEntry("create user", "StepRun", datetime(2024, 1, 1, tzinfo=timezone.utc),
    ...              result={"id": 1}).as_dict()["at"]
    '2024-01-01T00:00:00Z'
    """

    step: str | None
    op: str
    at: datetime
    result: Any = None
    error: dict[str, Any] | None = None
    until: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (times in RFC 3339)."""
        doc: dict[str, Any] = {"step": self.step, "op": self.op,
                               "at": format_datetime(self.at, "RFC3339")}
        if self.result is not None:
            doc["result"] = self.result
        if self.error is not None:
            doc["error"] = self.error
        if self.until is not None:
            doc["until"] = format_datetime(self.until, "RFC3339")
        return doc


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
        self._conn = sqlite3.connect(db, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # WAL with synchronous=NORMAL survives a killed process (not a power cut) and keeps a
        # commit per state change cheap.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._names = sorted(self.functions)
        self._in = ",".join("?" * len(self._names)) or "NULL"
        self._plain_waits: dict[str, dict[str, int]] = {}
        self._indexes: dict[str, Any] = {}
        self._wait_seq: dict[str, int] = {}
        self._load_waits()
        self._init_crons()

    # ------------------------------------------------------------------ storage helpers

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _next(self, conn: sqlite3.Connection, name: str) -> int:
        row = conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        value = (row[0] if row else 0) + 1
        conn.execute("INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)",
                     (name, value))
        return value

    def _log(self, conn: sqlite3.Connection, run_id: str, step: str | None, op: str,
             **detail: Any) -> None:
        row = conn.execute("SELECT COALESCE(MAX(pos), 0) FROM history WHERE run_id = ?",
                           (run_id,)).fetchone()
        conn.execute("INSERT INTO history (run_id, pos, at, step, op, detail) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     (run_id, row[0] + 1, _us(self.clock.now()), step, op, _dumps(detail)))

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
        self._conn.close()

    def __enter__(self) -> LocalRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ waits and crons

    def _load_waits(self) -> None:
        rows = self._conn.execute(
            "SELECT w.run_id, w.seq, w.event_name, w.expression, r.event FROM waits w "
            "JOIN runs r ON r.run_id = w.run_id ORDER BY w.seq").fetchall()
        for run_id, seq, name, expression, event in rows:
            try:
                self._index_wait(run_id, seq, name, expression, json.loads(event))
            except Exception:  # as when it was stored: it can only time out
                pass

    def _index_wait(self, run_id: str, seq: int, name: str, expression: str | None,
                    event: Mapping[str, Any]) -> None:
        self._wait_seq[run_id] = seq
        if expression is None:
            self._plain_waits.setdefault(name, {})[run_id] = seq
            return
        index = self._indexes.get(name)
        if index is None:
            index = self._indexes[name] = ExpressionIndex()
        index.add(run_id, expression, event=event)

    def _unindex_wait(self, run_id: str, name: str) -> None:
        self._wait_seq.pop(run_id, None)
        plain = self._plain_waits.get(name)
        if plain is not None and run_id in plain:
            del plain[run_id]
            return
        index = self._indexes.get(name)
        if index is not None and run_id in index:
            index.remove(run_id)

    def _init_crons(self) -> None:
        now = self.clock.now()
        with self._tx() as conn:
            for fn in self.functions.values():
                if fn.trigger.cron is None:
                    continue
                conn.execute("INSERT OR IGNORE INTO crons (function_id, next_at) VALUES (?, ?)",
                             (fn.slug, _us(fn.trigger.next_fire(now))))

    def _fire_crons(self) -> list[str]:
        now_us = _us(self.clock.now())
        started = []
        rows = self._conn.execute(
            f"SELECT function_id, next_at FROM crons WHERE next_at <= ? "
            f"AND function_id IN ({self._in}) ORDER BY next_at", (now_us, *self._names)).fetchall()
        for slug, next_at in rows:
            fn = self.functions[slug]
            fired = _dt(next_at)
            event = self._normalize({"name": SCHEDULED_EVENT,
                                     "data": {"cron": fn.trigger.cron}})
            with self._tx() as conn:
                # Fires missed while no runner was up collapse into this one.
                after = max(fired, self.clock.now())
                conn.execute("UPDATE crons SET next_at = ? WHERE function_id = ?",
                             (_us(fn.trigger.next_fire(after)), slug))
                started.append(self._start(conn, fn, event, [event]))
        return started

    # ------------------------------------------------------------------ events

    def _normalize(self, event: object) -> dict[str, Any]:
        if not isinstance(event, Mapping):
            raise TypeError(f"an event is a mapping, not {type(event).__name__}")
        name = event.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError('an event needs a "name" (a non-empty str)')
        doc = dict(event)
        data = doc.setdefault("data", {})
        if not isinstance(data, Mapping):
            raise ValueError('an event\'s "data" must be an object')
        doc.setdefault("id", uuid.uuid4().hex)
        doc.setdefault("ts", _us(self.clock.now()) // 1000)
        try:
            return json.loads(_dumps(doc))  # type: ignore[no-any-return]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"an event must be JSON-serializable: {exc}") from None

    def _start(self, conn: sqlite3.Connection, fn: Target, event: Mapping[str, Any],
               events: Sequence[Mapping[str, Any]]) -> str:
        run_id = uuid.uuid4().hex
        conn.execute(
            "INSERT INTO runs (run_id, seq, function_id, event, events, status, attempt, "
            "due_at) VALUES (?, ?, ?, ?, ?, 'running', 0, ?)",
            (run_id, self._next(conn, "runs"), fn.slug, _dumps(event), _dumps(list(events)),
             _us(self.clock.now())))
        self._log(conn, run_id, None, "RunStarted", result=dict(event))
        return run_id

    def send(self, event: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[str]:
        """Send one event (or a list): resume the waits it matches, earliest first, start a
        run of every function it triggers, and drive what is due.  Returns the new run ids.

        >>> LocalRunner([], db=":memory:").send({"name": "nobody/listens"})
        []
        """
        batch = [event] if isinstance(event, Mapping) else list(event)
        started: list[str] = []
        for raw in batch:
            doc = self._normalize(raw)
            self._resume_waits(doc)
            for fn in self.functions.values():
                if _triggered(fn, doc):
                    with self._tx() as conn:
                        started.append(self._start(conn, fn, doc, [doc]))
        self.run_until_idle()
        return started

    def _resume_waits(self, event: dict[str, Any]) -> None:
        name = event["name"]
        matched = list(self._plain_waits.get(name, {}))
        index = self._indexes.get(name)
        if index is not None:
            matched.extend(index.match(event))
        matched.sort(key=lambda run_id: self._wait_seq.get(run_id, 0))
        now_us = _us(self.clock.now())
        for run_id in matched:
            row = self._conn.execute("SELECT pending FROM runs WHERE run_id = ?",
                                     (run_id,)).fetchone()
            with self._tx() as conn:
                step, display = json.loads(row[0])
                self._memo(conn, run_id, step, event)
                conn.execute("DELETE FROM waits WHERE run_id = ?", (run_id,))
                conn.execute("UPDATE runs SET status = 'running', due_at = ?, pending = NULL, "
                             "attempt = 0 WHERE run_id = ?", (now_us, run_id))
                self._log(conn, run_id, display, "EventReceived", result=event)
            self._unindex_wait(run_id, name)

    def _memo(self, conn: sqlite3.Connection, run_id: str, step: str, value: object) -> None:
        row = conn.execute("SELECT COALESCE(MAX(pos), 0) FROM memos WHERE run_id = ?",
                           (run_id,)).fetchone()
        conn.execute("INSERT OR REPLACE INTO memos (run_id, step, pos, value) "
                     "VALUES (?, ?, ?, ?)", (run_id, step, row[0] + 1, _dumps(value)))

    # ------------------------------------------------------------------ driving

    def _due(self, limit: int = 256) -> list[str]:
        rows = self._conn.execute(
            f"SELECT run_id FROM runs WHERE due_at IS NOT NULL AND due_at <= ? "
            f"AND function_id IN ({self._in}) ORDER BY due_at, seq LIMIT ?",
            (_us(self.clock.now()), *self._names, limit)).fetchall()
        return [row[0] for row in rows]

    def run_until_idle(self) -> None:
        """Drive every run (and cron fire) due at the clock's current time, until none is.

        >>> LocalRunner([], db=":memory:").run_until_idle()
        """
        while True:
            self._fire_crons()
            due = self._due()
            if not due:
                return
            for run_id in due:
                self._step(run_id)

    def next_due(self, *, crons: bool = True) -> datetime | None:
        """When the next sleep, retry, wait timeout (or cron fire) is due; ``None`` if never.

        >>> LocalRunner([], db=":memory:").next_due() is None
        True
        """
        row = self._conn.execute(
            f"SELECT MIN(due_at) FROM runs WHERE due_at IS NOT NULL "
            f"AND function_id IN ({self._in})", self._names).fetchone()
        times = [row[0]] if row[0] is not None else []
        if crons:
            row = self._conn.execute(
                f"SELECT MIN(next_at) FROM crons WHERE function_id IN ({self._in})",
                self._names).fetchone()
            if row[0] is not None:
                times.append(row[0])
        return _dt(min(times)) if times else None

    def _manual(self) -> ManualClock:
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance and fast_forward need a ManualClock")
        return self.clock

    def advance(self, delta: timedelta) -> None:
        """Move a :class:`ManualClock` forward by ``delta``, driving everything that falls
        due on the way, in time order.

        >>> LocalRunner([], db=":memory:", clock=ManualClock()).advance(timedelta(days=1))
        """
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
        """Jump a :class:`ManualClock` through every pending sleep, retry and wait timeout
        until no run has anything left to wait for (cron schedules do not count).

        >>> LocalRunner([], db=":memory:", clock=ManualClock()).fast_forward()
        """
        clock = self._manual()
        self.run_until_idle()
        for _ in range(max_steps):
            nxt = self.next_due(crons=False)
            if nxt is None:
                return
            if nxt > clock.now():
                clock.set(nxt)
            self.run_until_idle()

    def _step(self, run_id: str) -> None:
        row = self._conn.execute(
            "SELECT function_id, event, events, status, attempt, pending, due_at FROM runs "
            "WHERE run_id = ?", (run_id,)).fetchone()
        slug, event_text, events_text, status, attempt, pending, due_at = row
        now_us = _us(self.clock.now())
        if due_at is None or due_at > now_us:
            return
        fn = self.functions[slug]
        wait = None
        if status in ("sleeping", "waiting"):
            step, display = json.loads(pending)
            with self._tx() as conn:
                self._memo(conn, run_id, step, None)
                conn.execute("UPDATE runs SET status = 'running', pending = NULL, attempt = 0 "
                             "WHERE run_id = ?", (run_id,))
                if status == "waiting":
                    wait = conn.execute("SELECT event_name FROM waits WHERE run_id = ?",
                                        (run_id,)).fetchone()
                    conn.execute("DELETE FROM waits WHERE run_id = ?", (run_id,))
                    self._log(conn, run_id, display, "TimedOut")
                else:
                    self._log(conn, run_id, display, "Woke")
            if wait is not None:
                self._unindex_wait(run_id, wait[0])
            attempt = 0
        memos = self._conn.execute("SELECT step, value FROM memos WHERE run_id = ? ORDER BY pos",
                                   (run_id,)).fetchall()
        steps = {step: json.loads(value) for step, value in memos}
        request = protocol.call_request(
            json.loads(event_text), events=json.loads(events_text), run_id=run_id,
            attempt=attempt, steps=steps, max_attempts=fn.max_attempts, fn_id=fn.slug)
        answer = fn.call(request)
        self._apply(run_id, fn, attempt, answer.status, answer.no_retry, answer.body)

    def _apply(self, run_id: str, fn: Target, attempt: int, status: int, no_retry: bool,
               body: Any) -> None:
        now = self.clock.now()
        with self._tx() as conn:
            if status == 200:
                conn.execute("UPDATE runs SET status = 'completed', due_at = NULL, output = ? "
                             "WHERE run_id = ?", (_dumps(body), run_id))
                self._log(conn, run_id, None, "RunComplete", result=body)
                return
            if status == 206 and isinstance(body, list) and len(body) == 1 \
                    and isinstance(body[0], dict):
                try:
                    self._apply_op(conn, run_id, fn, attempt, body[0], now)
                    return
                except ValueError as exc:
                    error = {"name": "ProtocolError", "message": str(exc)}
                    self._fail(conn, run_id, error)
                    return
            if status == 206:
                error = {"name": "ProtocolError",
                         "message": "the local runner takes one op per response"}
                no_retry = True
            else:
                error = body if isinstance(body, dict) else {"name": "Error",
                                                            "message": str(body)}
            if not no_retry and attempt + 1 < fn.max_attempts:
                retry_at = now + backoff(attempt)
                conn.execute("UPDATE runs SET attempt = ?, due_at = ?, status = 'running' "
                             "WHERE run_id = ?", (attempt + 1, _us(retry_at), run_id))
                self._log(conn, run_id, None, "FunctionError", error=error,
                          until=_us(retry_at), status=status)
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
        conn.execute("UPDATE runs SET status = 'failed', due_at = NULL, pending = NULL, "
                     "error = ? WHERE run_id = ?", (_dumps(error), run_id))
        self._log(conn, run_id, None, "RunFailed", error=error)

    # ------------------------------------------------------------------ reading

    def status(self, run_id: str) -> str:
        """``running``, ``sleeping``, ``waiting``, ``completed`` or ``failed``.

        >>> LocalRunner([], db=":memory:").status("nope")
        Traceback (most recent call last):
        ...
        KeyError: 'unknown run id nope'
        """
        row = self._conn.execute("SELECT status FROM runs WHERE run_id = ?",
                                 (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"unknown run id {run_id}")
        return str(row[0])

    def result(self, run_id: str) -> Any:
        """A completed run's return value (``None`` otherwise).

        >>> from inngest_core.sdk import function, Trigger
        >>> f = function(id="f", trigger=Trigger(event="a"))(lambda ctx, step: [1, 2])
        >>> runner = LocalRunner([f], db=":memory:")
        >>> runner.result(runner.send({"name": "a"})[0])
        [1, 2]
        """
        row = self._conn.execute("SELECT output FROM runs WHERE run_id = ?",
                                 (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"unknown run id {run_id}")
        return None if row[0] is None else json.loads(row[0])

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
        row = self._conn.execute("SELECT error FROM runs WHERE run_id = ?",
                                 (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"unknown run id {run_id}")
        return None if row[0] is None else json.loads(row[0])

    def runs(self) -> list[tuple[str, str, str]]:
        """Every run in the database: ``(run_id, function id, status)``, oldest first.

        >>> from inngest_core.sdk import function, Trigger
        >>> f = function(id="f", trigger=Trigger(event="a"))(lambda ctx, step: None)
        >>> runner = LocalRunner([f], db=":memory:")
        >>> [run] = runner.send({"name": "a"})
        >>> runner.runs() == [(run, "f", "completed")]
        True
        """
        rows = self._conn.execute("SELECT run_id, function_id, status FROM runs ORDER BY seq")
        return [(r[0], r[1], r[2]) for r in rows]

    def history(self, run_id: str) -> list[HistoryEntry]:
        """The run's timeline, oldest first.

        >>> from inngest_core.sdk import function, Trigger
        >>> f = function(id="f", trigger=Trigger(event="a"))(
        ...     lambda ctx, step: step.step("s", lambda: 1))
        >>> runner = LocalRunner([f], db=":memory:")
        >>> [(e.step, e.op, e.result) for e in runner.history(runner.send({"name": "a"})[0])][1:]
        [('s', 'StepRun', 1), (None, 'RunComplete', 1)]
        """
        self.status(run_id)
        rows = self._conn.execute(
            "SELECT step, op, at, detail FROM history WHERE run_id = ? ORDER BY pos",
            (run_id,)).fetchall()
        entries = []
        for step, op, at, detail_text in rows:
            detail = json.loads(detail_text)
            until = detail.get("until")
            entries.append(HistoryEntry(step, op, _dt(at), detail.get("result"),
                                        detail.get("error"),
                                        _dt(until) if until is not None else None))
        return entries


def _triggered(fn: Target, event: Mapping[str, Any]) -> bool:
    try:
        return fn.trigger.matches(event)
    except Exception:  # an expression that cannot evaluate on this event does not match
        return False


class _Resolution:
    """The runner's verbs for one reported op (see :class:`~inngest_core.sdk.kinds.Resolution`),
    inside the transaction that applies it."""

    def __init__(self, runner: LocalRunner, conn: sqlite3.Connection, run_id: str, step: str,
                 display: str, attempt: int, max_attempts: int, now: datetime) -> None:
        self.runner, self.conn, self.run_id, self.step = runner, conn, run_id, step
        self.display, self.attempt, self.max_attempts, self.now = (display, attempt,
                                                                   max_attempts, now)

    def proceed(self, memo: object, op: str, **detail: Any) -> None:
        self.runner._memo(self.conn, self.run_id, self.step, memo)
        self.conn.execute("UPDATE runs SET attempt = 0, due_at = ? WHERE run_id = ?",
                          (_us(self.now), self.run_id))
        self.runner._log(self.conn, self.run_id, self.display, op, **detail)

    def retry(self, op: str, **detail: Any) -> None:
        retry_at = self.now + backoff(self.attempt)
        self.conn.execute("UPDATE runs SET attempt = ?, due_at = ? WHERE run_id = ?",
                          (self.attempt + 1, _us(retry_at), self.run_id))
        self.runner._log(self.conn, self.run_id, self.display, op, until=_us(retry_at),
                         **detail)

    def sleep(self, until: datetime) -> None:
        self.conn.execute("UPDATE runs SET status = 'sleeping', due_at = ?, pending = ? "
                          "WHERE run_id = ?",
                          (_us(until), _dumps([self.step, self.display]), self.run_id))
        self.runner._log(self.conn, self.run_id, self.display, protocol.SLEEP, until=_us(until))

    def wait(self, event: str, expression: str | None, timeout_at: datetime) -> None:
        runner, conn, run_id, display = self.runner, self.conn, self.run_id, self.display
        trigger = json.loads(conn.execute("SELECT event FROM runs WHERE run_id = ?",
                                          (run_id,)).fetchone()[0])
        seq = runner._next(conn, "waits")
        conn.execute("INSERT OR REPLACE INTO waits (run_id, seq, event_name, expression) "
                     "VALUES (?, ?, ?, ?)", (run_id, seq, event, expression))
        conn.execute("UPDATE runs SET status = 'waiting', due_at = ?, pending = ? "
                     "WHERE run_id = ?", (_us(timeout_at), _dumps([self.step, display]), run_id))
        runner._log(conn, run_id, display, protocol.WAIT_FOR_EVENT, until=_us(timeout_at),
                    event=event, expression=expression)
        try:
            runner._index_wait(run_id, seq, event, expression, trigger)
        except Exception as exc:
            # Inngest stores such a wait too; no event can match it, so it times out.
            runner._log(conn, run_id, display, "WaitNeverMatches",
                        error={"name": type(exc).__name__, "message": str(exc)})
