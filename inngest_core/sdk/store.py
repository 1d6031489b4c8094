"""The run state store of the local runner: every run's state -- its events, status, memos,
pending sleep or wait, attempts, outcome, timeline -- and the cron schedule, in SQLite
(WAL, one transaction per state change), so a new runner on the same file resumes every
pending run exactly where it stopped.  Every SQL statement of the runner is here.

Times are stored as integer microseconds since the epoch (:func:`us`, :func:`dt`).

>>> from inngest_core.sdk.clock import ManualClock
>>> store = RunStore(":memory:", ManualClock(datetime(2024, 1, 1, tzinfo=timezone.utc)), ["f"])
>>> with store.tx() as conn:
...     store.insert_run(conn, "r1", "f", {"name": "a"}, [{"name": "a"}], due_us=0)
>>> store.status("r1"), store.due(now_us=0)
('running', ['r1'])
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from ..datetimes import format_datetime
from .clock import Clock

__all__ = ["RunStore", "HistoryEntry", "RUN_STATUSES", "ENDED", "us", "dt", "dumps"]

RUN_STATUSES: Final = ("running", "sleeping", "waiting", "invoking", "completed", "failed",
                       "cancelled")
#: The statuses of a run that is over.
ENDED: Final = ("completed", "failed", "cancelled")

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
CREATE TABLE IF NOT EXISTS cron_fires (
    function_id  TEXT NOT NULL,
    cron         TEXT NOT NULL,
    scheduled_at INTEGER NOT NULL,
    fire_at      INTEGER NOT NULL,
    PRIMARY KEY (function_id, cron)
);
-- Flow control (inngest_core.sdk.flow).  flow_runs: the live runs of functions with flow
-- options -- their keys, queue order and deadlines; a row goes when its run ends.
CREATE TABLE IF NOT EXISTS flow_runs (
    run_id      TEXT PRIMARY KEY,
    function_id TEXT NOT NULL,
    created     INTEGER NOT NULL,
    rank        INTEGER NOT NULL,
    ckeys       TEXT NOT NULL,
    tkey        TEXT,
    skey        TEXT,
    started     INTEGER NOT NULL DEFAULT 0,
    admitted    INTEGER NOT NULL DEFAULT 0,
    holding     INTEGER NOT NULL DEFAULT 0,
    queued      INTEGER NOT NULL DEFAULT 0,
    start_by    INTEGER,
    finish_by   INTEGER
);
CREATE INDEX IF NOT EXISTS flow_runs_fn ON flow_runs (function_id, skey);
CREATE INDEX IF NOT EXISTS flow_runs_start_by ON flow_runs (start_by)
    WHERE start_by IS NOT NULL;
CREATE INDEX IF NOT EXISTS flow_runs_finish_by ON flow_runs (finish_by)
    WHERE finish_by IS NOT NULL;
CREATE TABLE IF NOT EXISTS flow_slots (
    ckey   TEXT NOT NULL,
    run_id TEXT NOT NULL,
    PRIMARY KEY (ckey, run_id)
);
CREATE TABLE IF NOT EXISTS flow_queue (
    ckey   TEXT NOT NULL,
    rank   INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    PRIMARY KEY (ckey, rank, seq, run_id)
);
CREATE INDEX IF NOT EXISTS flow_queue_run ON flow_queue (run_id);
CREATE TABLE IF NOT EXISTS flow_gcra (
    key TEXT PRIMARY KEY,
    tat INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS flow_keys (
    key     TEXT PRIMARY KEY,
    expires INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS flow_buffers (
    function_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL,
    events      TEXT NOT NULL,
    first_at    INTEGER NOT NULL,
    fire_at     INTEGER NOT NULL,
    PRIMARY KEY (function_id, kind, key)
);
CREATE INDEX IF NOT EXISTS flow_buffers_fire ON flow_buffers (fire_at);
CREATE TABLE IF NOT EXISTS flow_skips (
    seq         INTEGER PRIMARY KEY,
    function_id TEXT NOT NULL,
    at          INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    event       TEXT NOT NULL
);
"""

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def us(moment: datetime) -> int:
    """Microseconds since the epoch.

    >>> us(datetime(1970, 1, 1, 0, 0, 1, tzinfo=timezone.utc))
    1000000
    """
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def dt(micros: int) -> datetime:
    """The aware UTC time ``micros`` microseconds after the epoch.

    >>> dt(1000000).second
    1
    """
    return _EPOCH + timedelta(microseconds=micros)


def dumps(value: object) -> str:
    """Compact JSON, UTF-8 kept as is (how every stored value is written)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


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


class RunStore:
    """The SQLite database ``db`` (a path or ``":memory:"``) seen by a runner of the
    functions ``names`` (runs and crons of other functions in the same file are left alone);
    ``clock`` stamps the timeline.  Writes take the connection of an open :meth:`tx`."""

    def __init__(self, db: str, clock: Clock, names: Sequence[str]) -> None:
        self.clock = clock
        self.conn = sqlite3.connect(db, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        # WAL with synchronous=NORMAL survives a killed process (not a power cut) and keeps a
        # commit per state change cheap.
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)
        self._names = sorted(names)
        self._in = ",".join("?" * len(self._names)) or "NULL"

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # ------------------------------------------------------------------ writes

    def next_seq(self, conn: sqlite3.Connection, name: str) -> int:
        """The next number of the counter ``name`` (1, 2, ...), kept across runners."""
        row = conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        value = (row[0] if row else 0) + 1
        conn.execute("INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)",
                     (name, value))
        return int(value)

    def log(self, conn: sqlite3.Connection, run_id: str, step: str | None, op: str,
            **detail: Any) -> None:
        """Append a line to the run's timeline, at the clock's time."""
        row = conn.execute("SELECT COALESCE(MAX(pos), 0) FROM history WHERE run_id = ?",
                           (run_id,)).fetchone()
        conn.execute("INSERT INTO history (run_id, pos, at, step, op, detail) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     (run_id, row[0] + 1, us(self.clock.now()), step, op, dumps(detail)))

    def memo(self, conn: sqlite3.Connection, run_id: str, step: str, value: object) -> None:
        """Memoize the hashed ``step`` of the run as ``value``."""
        row = conn.execute("SELECT COALESCE(MAX(pos), 0) FROM memos WHERE run_id = ?",
                           (run_id,)).fetchone()
        conn.execute("INSERT OR REPLACE INTO memos (run_id, step, pos, value) "
                     "VALUES (?, ?, ?, ?)", (run_id, step, row[0] + 1, dumps(value)))

    def insert_run(self, conn: sqlite3.Connection, run_id: str, slug: str,
                   event: Mapping[str, Any], events: Sequence[Mapping[str, Any]], *,
                   due_us: int) -> None:
        """A new run of function ``slug``, due at ``due_us``."""
        conn.execute(
            "INSERT INTO runs (run_id, seq, function_id, event, events, status, attempt, "
            "due_at) VALUES (?, ?, ?, ?, ?, 'running', 0, ?)",
            (run_id, self.next_seq(conn, "runs"), slug, dumps(event), dumps(list(events)),
             due_us))

    def schedule(self, conn: sqlite3.Connection, run_id: str, *, attempt: int,
                 due_us: int) -> None:
        """Call the run again at ``due_us``, at ``attempt``."""
        conn.execute("UPDATE runs SET attempt = ?, due_at = ? WHERE run_id = ?",
                     (attempt, due_us, run_id))

    def retry(self, conn: sqlite3.Connection, run_id: str, *, attempt: int,
              due_us: int) -> None:
        """Call the run (running again) at ``due_us``, at ``attempt``."""
        conn.execute("UPDATE runs SET attempt = ?, due_at = ?, status = 'running' "
                     "WHERE run_id = ?", (attempt, due_us, run_id))

    def pend(self, conn: sqlite3.Connection, run_id: str, status: str, *, due_us: int,
             step: str, display: str) -> None:
        """Park the run (``sleeping`` or ``waiting``) on ``step`` until ``due_us``."""
        conn.execute("UPDATE runs SET status = ?, due_at = ?, pending = ? WHERE run_id = ?",
                     (status, due_us, dumps([step, display]), run_id))

    def unpend(self, conn: sqlite3.Connection, run_id: str, *,
               due_us: int | None = None) -> None:
        """Running again from the first attempt (due at ``due_us`` if given)."""
        if due_us is None:
            conn.execute("UPDATE runs SET status = 'running', pending = NULL, attempt = 0 "
                         "WHERE run_id = ?", (run_id,))
        else:
            conn.execute("UPDATE runs SET status = 'running', due_at = ?, pending = NULL, "
                         "attempt = 0 WHERE run_id = ?", (due_us, run_id))

    def complete(self, conn: sqlite3.Connection, run_id: str, output: object) -> None:
        conn.execute("UPDATE runs SET status = 'completed', due_at = NULL, output = ? "
                     "WHERE run_id = ?", (dumps(output), run_id))

    def fail(self, conn: sqlite3.Connection, run_id: str, error: Mapping[str, Any]) -> None:
        conn.execute("UPDATE runs SET status = 'failed', due_at = NULL, pending = NULL, "
                     "error = ? WHERE run_id = ?", (dumps(error), run_id))

    def cancel(self, conn: sqlite3.Connection, run_id: str) -> None:
        conn.execute("UPDATE runs SET status = 'cancelled', due_at = NULL, pending = NULL "
                     "WHERE run_id = ?", (run_id,))

    def add_wait(self, conn: sqlite3.Connection, run_id: str, seq: int, event_name: str,
                 expression: str | None) -> None:
        conn.execute("INSERT OR REPLACE INTO waits (run_id, seq, event_name, expression) "
                     "VALUES (?, ?, ?, ?)", (run_id, seq, event_name, expression))

    def pop_wait(self, conn: sqlite3.Connection, run_id: str) -> str | None:
        """Drop the run's wait; the event name it waited for (``None`` if none)."""
        row = conn.execute("SELECT event_name FROM waits WHERE run_id = ?",
                           (run_id,)).fetchone()
        conn.execute("DELETE FROM waits WHERE run_id = ?", (run_id,))
        return None if row is None else str(row[0])

    def init_cron(self, conn: sqlite3.Connection, slug: str, cron: str, scheduled_us: int,
                  fire_us: int) -> None:
        """The schedule ``cron`` of ``slug`` is next due at ``scheduled_us`` (its run starts
        at ``fire_us``, after the jitter), unless the file knows better."""
        conn.execute("INSERT OR IGNORE INTO cron_fires (function_id, cron, scheduled_at, "
                     "fire_at) VALUES (?, ?, ?, ?)", (slug, cron, scheduled_us, fire_us))

    def keep_crons(self, conn: sqlite3.Connection, slug: str, crons: Sequence[str]) -> None:
        """Forget the schedules of ``slug`` that are not in ``crons`` (its triggers changed)."""
        marks = ",".join("?" * len(crons)) or "NULL"
        conn.execute(f"DELETE FROM cron_fires WHERE function_id = ? AND cron NOT IN ({marks})",
                     (slug, *crons))

    def set_cron(self, conn: sqlite3.Connection, slug: str, cron: str, scheduled_us: int,
                 fire_us: int) -> None:
        conn.execute("UPDATE cron_fires SET scheduled_at = ?, fire_at = ? "
                     "WHERE function_id = ? AND cron = ?", (scheduled_us, fire_us, slug, cron))

    # ------------------------------------------------------------------ reads

    def run(self, run_id: str) -> tuple[str, dict[str, Any], list[dict[str, Any]], str, int,
                                        tuple[str, str] | None, int | None]:
        """``(function id, event, events, status, attempt, pending (step, display), due)``."""
        slug, event, events, status, attempt, pending, due_at = self.conn.execute(
            "SELECT function_id, event, events, status, attempt, pending, due_at FROM runs "
            "WHERE run_id = ?", (run_id,)).fetchone()
        parked = tuple(json.loads(pending)) if pending is not None else None
        return (slug, json.loads(event), json.loads(events), status, attempt,
                parked, due_at)

    def pending(self, run_id: str) -> tuple[str, str]:
        """The step a parked run waits on: ``(hashed id, display name)``."""
        row = self.conn.execute("SELECT pending FROM runs WHERE run_id = ?",
                                (run_id,)).fetchone()
        step, display = json.loads(row[0])
        return step, display

    def trigger_event(self, conn: sqlite3.Connection, run_id: str) -> dict[str, Any]:
        row = conn.execute("SELECT event FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return json.loads(row[0])  # type: ignore[no-any-return]

    def memos(self, run_id: str) -> dict[str, Any]:
        """The run's memos by hashed step id, in the order they were made."""
        rows = self.conn.execute("SELECT step, value FROM memos WHERE run_id = ? ORDER BY pos",
                                 (run_id,)).fetchall()
        return {step: json.loads(value) for step, value in rows}

    def waits(self) -> list[tuple[str, int, str, str | None, dict[str, Any]]]:
        """Every stored wait, oldest first: ``(run_id, seq, event name, expression,
        the run's triggering event)``."""
        rows = self.conn.execute(
            "SELECT w.run_id, w.seq, w.event_name, w.expression, r.event FROM waits w "
            "JOIN runs r ON r.run_id = w.run_id ORDER BY w.seq").fetchall()
        return [(run_id, seq, name, expression, json.loads(event))
                for run_id, seq, name, expression, event in rows]

    def due(self, now_us: int, limit: int = 256) -> list[str]:
        """Runs due at ``now_us``, earliest first."""
        rows = self.conn.execute(
            f"SELECT run_id FROM runs WHERE due_at IS NOT NULL AND due_at <= ? "
            f"AND function_id IN ({self._in}) ORDER BY due_at, seq LIMIT ?",
            (now_us, *self._names, limit)).fetchall()
        return [row[0] for row in rows]

    def next_due(self) -> int | None:
        """When the next run is due (``None`` if none is)."""
        row = self.conn.execute(
            f"SELECT MIN(due_at) FROM runs WHERE due_at IS NOT NULL "
            f"AND function_id IN ({self._in})", self._names).fetchone()
        return None if row[0] is None else int(row[0])

    def due_crons(self, now_us: int) -> list[tuple[str, str, int, int]]:
        """``(function id, cron, scheduled time, fire time)`` of the crons due at ``now_us``,
        earliest first."""
        rows = self.conn.execute(
            f"SELECT function_id, cron, scheduled_at, fire_at FROM cron_fires "
            f"WHERE fire_at <= ? AND function_id IN ({self._in}) ORDER BY fire_at",
            (now_us, *self._names)).fetchall()
        return [(slug, cron, scheduled, fire) for slug, cron, scheduled, fire in rows]

    def next_cron(self) -> int | None:
        """When the next cron fires (``None`` if there is none)."""
        row = self.conn.execute(
            f"SELECT MIN(fire_at) FROM cron_fires WHERE function_id IN ({self._in})",
            self._names).fetchone()
        return None if row[0] is None else int(row[0])

    def status(self, run_id: str) -> str:
        row = self.conn.execute("SELECT status FROM runs WHERE run_id = ?",
                                (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"unknown run id {run_id}")
        return str(row[0])

    def _json_column(self, column: str, run_id: str) -> Any:
        row = self.conn.execute(f"SELECT {column} FROM runs WHERE run_id = ?",
                                (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"unknown run id {run_id}")
        return None if row[0] is None else json.loads(row[0])

    def result(self, run_id: str) -> Any:
        return self._json_column("output", run_id)

    def error(self, run_id: str) -> dict[str, Any] | None:
        return self._json_column("error", run_id)  # type: ignore[no-any-return]

    def runs(self) -> list[tuple[str, str, str]]:
        rows = self.conn.execute("SELECT run_id, function_id, status FROM runs ORDER BY seq")
        return [(r[0], r[1], r[2]) for r in rows]

    def history(self, run_id: str) -> list[HistoryEntry]:
        self.status(run_id)
        rows = self.conn.execute(
            "SELECT step, op, at, detail FROM history WHERE run_id = ? ORDER BY pos",
            (run_id,)).fetchall()
        entries = []
        for step, op, at, detail_text in rows:
            detail = json.loads(detail_text)
            until = detail.get("until")
            entries.append(HistoryEntry(step, op, dt(at), detail.get("result"),
                                        detail.get("error"),
                                        dt(until) if until is not None else None))
        return entries


class FlowStore:
    """The flow-control state of the runs in ``store`` (:mod:`~inngest_core.sdk.flow`):
    live runs' keys and deadlines, concurrency slots and the queue of runs waiting for one,
    GCRA times (throttle, rate limit), idempotency keys, debounce and batch buffers, skipped
    events.  Every statement is here; writes take the connection of an open ``tx``."""

    _RUN_COLUMNS: Final = ("started", "admitted", "holding", "queued", "start_by",
                           "finish_by")

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self.conn = store.conn

    # ---------------------------------------------------------------- runs

    def add_run(self, conn: sqlite3.Connection, run_id: str, slug: str, *, created: int,
                rank: int, ckeys: Sequence[tuple[str, int]], tkey: str | None,
                skey: str | None, start_by: int | None) -> None:
        conn.execute(
            "INSERT INTO flow_runs (run_id, function_id, created, rank, ckeys, tkey, skey, "
            "start_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, slug, created, rank, dumps([list(k) for k in ckeys]), tkey, skey,
             start_by))

    def run(self, conn: sqlite3.Connection, run_id: str) -> dict[str, Any] | None:
        row = conn.execute(
            "SELECT function_id, created, rank, ckeys, tkey, skey, started, admitted, "
            "holding, queued, start_by, finish_by FROM flow_runs WHERE run_id = ?",
            (run_id,)).fetchone()
        if row is None:
            return None
        keys = ("function_id", "created", "rank", "ckeys", "tkey", "skey", "started",
                "admitted", "holding", "queued", "start_by", "finish_by")
        doc = dict(zip(keys, row))
        doc["ckeys"] = [(k, int(limit)) for k, limit in json.loads(doc["ckeys"])]
        return doc

    def mark(self, conn: sqlite3.Connection, run_id: str, **columns: int | None) -> None:
        """Set the named columns (of :attr:`_RUN_COLUMNS`) of the run's row."""
        names = [name for name in columns if name in self._RUN_COLUMNS]
        if len(names) != len(columns):
            raise ValueError(f"unknown flow_runs columns: {sorted(columns)}")
        sets = ", ".join(f"{name} = ?" for name in names)
        conn.execute(f"UPDATE flow_runs SET {sets} WHERE run_id = ?",
                     (*[columns[n] for n in names], run_id))

    def live(self, conn: sqlite3.Connection, slug: str,
             skey: str | None = None) -> list[tuple[str, int]]:
        """``(run_id, created)`` of the live runs of ``slug`` (with singleton key ``skey``
        if given), oldest first."""
        if skey is None:
            rows = conn.execute("SELECT run_id, created FROM flow_runs WHERE function_id = ? "
                                "ORDER BY created, run_id", (slug,)).fetchall()
        else:
            rows = conn.execute("SELECT run_id, created FROM flow_runs WHERE function_id = ? "
                                "AND skey = ? ORDER BY created, run_id",
                                (slug, skey)).fetchall()
        return [(r[0], int(r[1])) for r in rows]

    def drop_run(self, conn: sqlite3.Connection, run_id: str) -> None:
        conn.execute("DELETE FROM flow_runs WHERE run_id = ?", (run_id,))
        conn.execute("DELETE FROM flow_queue WHERE run_id = ?", (run_id,))

    def stale(self, conn: sqlite3.Connection) -> list[tuple[str, str, int | None]]:
        """``(run_id, status, due)`` of the runs holding slots or listed live, as the runs
        table has them (what a restart reconciles)."""
        rows = conn.execute(
            "SELECT f.run_id, r.status, r.due_at FROM flow_runs f "
            "JOIN runs r ON r.run_id = f.run_id WHERE f.holding = 1 OR r.status IN "
            "('completed', 'failed', 'cancelled')").fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def deadlines_due(self, now_us: int) -> list[tuple[str, int | None, int | None]]:
        """``(run_id, start_by, finish_by)`` of the live runs with a deadline passed."""
        rows = self.conn.execute(
            f"SELECT run_id, start_by, finish_by FROM flow_runs WHERE start_by <= ? "
            f"AND start_by IS NOT NULL AND function_id IN ({self.store._in}) UNION "
            f"SELECT run_id, start_by, finish_by FROM flow_runs WHERE finish_by <= ? "
            f"AND finish_by IS NOT NULL AND function_id IN ({self.store._in})",
            (now_us, *self.store._names, now_us, *self.store._names)).fetchall()
        return sorted((r[0], r[1], r[2]) for r in rows)

    def next_deadline(self) -> int | None:
        """The next ``start_by`` or ``finish_by`` of a live run (``None`` if none)."""
        names = self.store._names
        row = self.conn.execute(
            f"SELECT MIN(t) FROM (SELECT MIN(start_by) AS t FROM flow_runs "
            f"WHERE start_by IS NOT NULL AND function_id IN ({self.store._in}) UNION ALL "
            f"SELECT MIN(finish_by) FROM flow_runs WHERE finish_by IS NOT NULL "
            f"AND function_id IN ({self.store._in}))", (*names, *names)).fetchone()
        return None if row[0] is None else int(row[0])

    def next_buffer(self) -> int | None:
        """When the next debounce or batch buffer fires (``None`` if none)."""
        row = self.conn.execute(
            f"SELECT MIN(fire_at) FROM flow_buffers WHERE function_id IN ({self.store._in})",
            self.store._names).fetchone()
        return None if row[0] is None else int(row[0])

    def run_state(self, conn: sqlite3.Connection, run_id: str) -> tuple[str, int | None]:
        """The run's ``(status, due)``."""
        row = conn.execute("SELECT status, due_at FROM runs WHERE run_id = ?",
                           (run_id,)).fetchone()
        return str(row[0]), row[1]

    def function_of(self, run_id: str) -> str:
        return str(self.conn.execute("SELECT function_id FROM runs WHERE run_id = ?",
                                     (run_id,)).fetchone()[0])

    def run_events(self, conn: sqlite3.Connection,
                   run_id: str) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
        """The run's ``(function id, event, events)``."""
        slug, event, events = conn.execute(
            "SELECT function_id, event, events FROM runs WHERE run_id = ?",
            (run_id,)).fetchone()
        return str(slug), json.loads(event), json.loads(events)

    # ---------------------------------------------------------------- concurrency

    def used(self, conn: sqlite3.Connection, ckey: str) -> int:
        row = conn.execute("SELECT COUNT(*) FROM flow_slots WHERE ckey = ?", (ckey,)).fetchone()
        return int(row[0])

    def take(self, conn: sqlite3.Connection, run_id: str, ckeys: Sequence[str]) -> None:
        conn.executemany("INSERT OR IGNORE INTO flow_slots (ckey, run_id) VALUES (?, ?)",
                         [(k, run_id) for k in ckeys])
        conn.execute("UPDATE flow_runs SET holding = 1 WHERE run_id = ?", (run_id,))

    def release(self, conn: sqlite3.Connection, run_id: str) -> list[str]:
        """Free the run's slots; the keys freed."""
        rows = conn.execute("SELECT ckey FROM flow_slots WHERE run_id = ?",
                            (run_id,)).fetchall()
        conn.execute("DELETE FROM flow_slots WHERE run_id = ?", (run_id,))
        conn.execute("UPDATE flow_runs SET holding = 0 WHERE run_id = ?", (run_id,))
        return [r[0] for r in rows]

    def enqueue(self, conn: sqlite3.Connection, run_id: str, ckeys: Sequence[str],
                rank: int, seq: int) -> None:
        """Queue the run for a slot (it is due nowhere meanwhile)."""
        conn.executemany("INSERT OR IGNORE INTO flow_queue (ckey, rank, seq, run_id) "
                         "VALUES (?, ?, ?, ?)", [(k, rank, seq, run_id) for k in ckeys])
        conn.execute("UPDATE flow_runs SET queued = 1 WHERE run_id = ?", (run_id,))
        conn.execute("UPDATE runs SET due_at = NULL WHERE run_id = ?", (run_id,))

    def dequeue_next(self, conn: sqlite3.Connection, ckey: str, due_us: int) -> str | None:
        """Take the first queued run for ``ckey`` (by rank) off the queue, due at
        ``due_us``; its id (``None`` if none waits)."""
        row = conn.execute("SELECT run_id FROM flow_queue WHERE ckey = ? "
                           "ORDER BY rank, seq LIMIT 1", (ckey,)).fetchone()
        if row is None:
            return None
        run_id = row[0]
        conn.execute("DELETE FROM flow_queue WHERE run_id = ?", (run_id,))
        conn.execute("UPDATE flow_runs SET queued = 0 WHERE run_id = ?", (run_id,))
        conn.execute("UPDATE runs SET due_at = ? WHERE run_id = ?", (due_us, run_id))
        return str(run_id)

    def run_seq(self, conn: sqlite3.Connection, run_id: str) -> int:
        return int(conn.execute("SELECT seq FROM runs WHERE run_id = ?",
                                (run_id,)).fetchone()[0])

    # ---------------------------------------------------------------- GCRA, keys

    def tat(self, conn: sqlite3.Connection, key: str) -> int | None:
        row = conn.execute("SELECT tat FROM flow_gcra WHERE key = ?", (key,)).fetchone()
        return None if row is None else int(row[0])

    def set_tat(self, conn: sqlite3.Connection, key: str, tat: int) -> None:
        conn.execute("INSERT OR REPLACE INTO flow_gcra (key, tat) VALUES (?, ?)", (key, tat))

    def key_held(self, conn: sqlite3.Connection, key: str, now_us: int) -> bool:
        """Whether the idempotency ``key`` is held at ``now_us``."""
        row = conn.execute("SELECT expires FROM flow_keys WHERE key = ?", (key,)).fetchone()
        return row is not None and int(row[0]) > now_us

    def claim_key(self, conn: sqlite3.Connection, key: str, expires_us: int) -> None:
        """Hold the idempotency ``key`` until ``expires_us``."""
        conn.execute("INSERT OR REPLACE INTO flow_keys (key, expires) VALUES (?, ?)",
                     (key, expires_us))

    # ---------------------------------------------------------------- buffers

    def buffer(self, conn: sqlite3.Connection, slug: str, kind: str,
               key: str) -> tuple[list[dict[str, Any]], int, int] | None:
        """``(events, first event's time, fire time)`` of a debounce or batch buffer."""
        row = conn.execute("SELECT events, first_at, fire_at FROM flow_buffers "
                           "WHERE function_id = ? AND kind = ? AND key = ?",
                           (slug, kind, key)).fetchone()
        return None if row is None else (json.loads(row[0]), int(row[1]), int(row[2]))

    def put_buffer(self, conn: sqlite3.Connection, slug: str, kind: str, key: str,
                   events: Sequence[Mapping[str, Any]], first_us: int, fire_us: int) -> None:
        conn.execute("INSERT OR REPLACE INTO flow_buffers (function_id, kind, key, events, "
                     "first_at, fire_at) VALUES (?, ?, ?, ?, ?, ?)",
                     (slug, kind, key, dumps(list(events)), first_us, fire_us))

    def pop_buffer(self, conn: sqlite3.Connection, slug: str, kind: str, key: str) -> None:
        conn.execute("DELETE FROM flow_buffers WHERE function_id = ? AND kind = ? AND key = ?",
                     (slug, kind, key))

    def buffers_due(self, now_us: int) -> list[tuple[str, str, str]]:
        """``(function id, kind, key)`` of the buffers due at ``now_us``, earliest first."""
        rows = self.conn.execute(
            f"SELECT function_id, kind, key FROM flow_buffers WHERE fire_at <= ? "
            f"AND function_id IN ({self.store._in}) ORDER BY fire_at, first_at",
            (now_us, *self.store._names)).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    # ---------------------------------------------------------------- skips

    def skip(self, conn: sqlite3.Connection, slug: str, reason: str,
             event: Mapping[str, Any]) -> None:
        conn.execute("INSERT INTO flow_skips (seq, function_id, at, reason, event) "
                     "VALUES (?, ?, ?, ?, ?)",
                     (self.store.next_seq(conn, "skips"), slug, us(self.store.clock.now()),
                      reason, dumps(event)))

    def skips(self) -> list[tuple[str, str, dict[str, Any], datetime]]:
        """Every event a flow option kept from starting a run: ``(function id, reason,
        event, when)``, oldest first."""
        rows = self.conn.execute("SELECT function_id, reason, event, at FROM flow_skips "
                                 "ORDER BY seq").fetchall()
        return [(r[0], r[1], json.loads(r[2]), dt(r[3])) for r in rows]
