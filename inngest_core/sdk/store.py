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

__all__ = ["RunStore", "HistoryEntry", "RUN_STATUSES", "us", "dt", "dumps"]

RUN_STATUSES: Final = ("running", "sleeping", "waiting", "invoking", "completed", "failed")

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

    def init_cron(self, conn: sqlite3.Connection, slug: str, next_us: int) -> None:
        """The cron of ``slug`` fires next at ``next_us``, unless the file knows better."""
        conn.execute("INSERT OR IGNORE INTO crons (function_id, next_at) VALUES (?, ?)",
                     (slug, next_us))

    def set_cron(self, conn: sqlite3.Connection, slug: str, next_us: int) -> None:
        conn.execute("UPDATE crons SET next_at = ? WHERE function_id = ?", (next_us, slug))

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

    def due_crons(self, now_us: int) -> list[tuple[str, int]]:
        """``(function id, fire time)`` of the crons due at ``now_us``, earliest first."""
        rows = self.conn.execute(
            f"SELECT function_id, next_at FROM crons WHERE next_at <= ? "
            f"AND function_id IN ({self._in}) ORDER BY next_at",
            (now_us, *self._names)).fetchall()
        return [(slug, next_at) for slug, next_at in rows]

    def next_cron(self) -> int | None:
        """When the next cron fires (``None`` if there is none)."""
        row = self.conn.execute(
            f"SELECT MIN(next_at) FROM crons WHERE function_id IN ({self._in})",
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
