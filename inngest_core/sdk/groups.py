"""Planned steps in the local runner, as Inngest's server runs them (SDK spec 5.3.1, 5.5;
``pkg/execution/executor/executor.go``, ``HandleGeneratorResponse`` and
``handleGeneratorStepPlanned``).

A call that answers ``StepPlanned`` ops -- a group of :meth:`Step.parallel
<inngest_core.sdk.Step.parallel>`, or a block the function planned because the server asked
for planning -- files each planned step here.  The run's next calls each run one of them
(``?stepId=<its hashed id>``, ``ctx.disable_immediate_execution`` true), in the order
reported, each with its own attempts and retries; when none is left, the run is called again
to discover what follows (the server's discovery step, enqueued once no step of the group is
pending).  Once a call has reported more than one op, every later call of the run asks for
planning (the server's ``ForceStepPlan``).  The state is kept in the runner's SQLite file,
so a restarted runner carries on.

>>> from inngest_core.sdk import LocalRunner, function, Trigger
>>> @function(id="pair", trigger=Trigger(event="demo/pair"))
... def pair(ctx, step):
...     return step.parallel([lambda: step.step("a", lambda: 1),
...                           lambda: step.step("b", lambda: 2)])
>>> runner = LocalRunner([pair], db=":memory:")
>>> [run] = runner.send({"name": "demo/pair"})
>>> runner.result(run)
[1, 2]
>>> [(e.step, e.op) for e in runner.history(run)][1:]
[('a', 'StepPlanned'), ('b', 'StepPlanned'), ('a', 'StepRun'), ('b', 'StepRun'), (None, 'RunComplete')]
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import kinds, protocol
from .store import us

if TYPE_CHECKING:
    from .runner import LocalRunner
    from .transport import CallResult, Target

__all__ = ["Plans", "is_plan"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS planned_steps (
    run_id  TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    step    TEXT NOT NULL,
    display TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    due_at  INTEGER NOT NULL,
    PRIMARY KEY (run_id, step)
);
CREATE TABLE IF NOT EXISTS planning_runs (
    run_id TEXT PRIMARY KEY
);
"""

#: A planned step due: ``(hashed id, display name, attempt)``.
Planned = tuple[str, str, int]


def is_plan(status: int, body: Any) -> bool:
    """Whether an answer plans steps: a 206 of ``StepPlanned`` ops only.

    >>> is_plan(206, [{"op": "StepPlanned", "id": "a"}]), is_plan(206, [{"op": "Sleep"}])
    (True, False)
    """
    return (status == 206 and isinstance(body, list) and bool(body)
            and all(isinstance(op, dict) and op.get("op") == protocol.STEP_PLANNED
                    and isinstance(op.get("id"), str) for op in body))


class Plans:
    """The planned steps of the runs in the runner's database (``conn``)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        conn.executescript(_SCHEMA)
        self.conn = conn

    def due(self, run_id: str, now_us: int) -> Planned | None:
        """The planned step the run's next call runs, if one is due."""
        row = self.conn.execute(
            "SELECT step, display, attempt FROM planned_steps WHERE run_id = ? AND due_at <= ? "
            "ORDER BY due_at, seq LIMIT 1", (run_id, now_us)).fetchone()
        return None if row is None else (row[0], row[1], int(row[2]))

    def planning(self, run_id: str) -> bool:
        """Whether the run's calls ask for planning (``disable_immediate_execution``)."""
        return self.conn.execute("SELECT 1 FROM planning_runs WHERE run_id = ?",
                                 (run_id,)).fetchone() is not None

    def plan(self, runner: LocalRunner, run_id: str, ops: Sequence[Mapping[str, Any]]) -> None:
        """File the steps an answer planned; the run is called for the first at once."""
        store, now = runner.store, us(runner.clock.now())
        with store.tx() as conn:
            for op in ops:
                display = str(op.get("displayName") or op.get("name") or op["id"])
                conn.execute("INSERT OR IGNORE INTO planned_steps (run_id, seq, step, display, "
                             "due_at) VALUES (?, ?, ?, ?, ?)",
                             (run_id, store.next_seq(conn, "planned"), op["id"], display, now))
                store.log(conn, run_id, display, protocol.STEP_PLANNED)
            if len(ops) > 1:
                conn.execute("INSERT OR IGNORE INTO planning_runs (run_id) VALUES (?)",
                             (run_id,))
            store.schedule(conn, run_id, attempt=0, due_us=now)

    def apply(self, runner: LocalRunner, run_id: str, fn: Target, planned: Planned,
              answer: CallResult, retry_at: datetime | None) -> None:
        """Apply the answer to the call that ran ``planned``."""
        step, display, attempt = planned
        now = runner.clock.now()
        body = answer.body
        if answer.status == 206 and isinstance(body, list) and len(body) == 1 \
                and isinstance(body[0], dict) and body[0].get("id") == step:
            op = body[0]
            kind = op.get("op")
            with runner.store.tx() as conn:
                if kind == protocol.STEP_NOT_FOUND:
                    self._done(runner, conn, run_id, step)
                    runner.store.log(conn, run_id, display, protocol.STEP_NOT_FOUND)
                    return
                if kind in (protocol.STEP_RUN, protocol.STEP_ERROR, protocol.STEP_FAILED):
                    raw_opts = op.get("opts")
                    resolution = _Resolution(self, runner, conn, run_id, step, display,
                                             attempt, fn.max_attempts, now, retry_at)
                    kinds.RESOLVERS[kind](resolution, op,
                                          raw_opts if isinstance(raw_opts, dict) else {})
                    return
        if answer.status in (200, 206):
            if answer.status == 206:
                error = {"name": "ProtocolError",
                         "message": f"the call running the planned step {display!r} did not "
                                    "answer with that step's result"}
                with runner.store.tx() as conn:
                    runner._fail(conn, run_id, error)
                return
            runner._apply(run_id, fn, attempt, answer.status, answer.no_retry, body,
                          answer.retry_after)
            return
        # The call failed as a whole: retried as the planned step's attempt.
        error = body if isinstance(body, dict) else {"name": "Error", "message": str(body)}
        with runner.store.tx() as conn:
            if not answer.no_retry and attempt + 1 < fn.max_attempts:
                at = retry_at or runner.scheduler.retry_at(attempt, now)
                self._retry(runner, conn, run_id, step, attempt + 1, us(at))
                runner.store.log(conn, run_id, display, "FunctionError", error=error,
                                 until=us(at), status=answer.status)
            else:
                runner._fail(conn, run_id, error)

    def _reschedule(self, runner: LocalRunner, conn: sqlite3.Connection, run_id: str) -> None:
        row = conn.execute("SELECT MIN(due_at) FROM planned_steps WHERE run_id = ?",
                           (run_id,)).fetchone()
        due = row[0] if row[0] is not None else us(runner.clock.now())
        runner.store.schedule(conn, run_id, attempt=0, due_us=int(due))

    def _done(self, runner: LocalRunner, conn: sqlite3.Connection, run_id: str,
              step: str) -> None:
        conn.execute("DELETE FROM planned_steps WHERE run_id = ? AND step = ?", (run_id, step))
        self._reschedule(runner, conn, run_id)

    def _retry(self, runner: LocalRunner, conn: sqlite3.Connection, run_id: str, step: str,
               attempt: int, due_us: int) -> None:
        conn.execute("UPDATE planned_steps SET attempt = ?, due_at = ? "
                     "WHERE run_id = ? AND step = ?", (attempt, due_us, run_id, step))
        self._reschedule(runner, conn, run_id)


class _Resolution:
    """The verbs of :class:`~inngest_core.sdk.kinds.Resolution` for the result of a planned
    step: its memo, or a retry of that step alone."""

    def __init__(self, plans: Plans, runner: LocalRunner, conn: sqlite3.Connection,
                 run_id: str, step: str, display: str, attempt: int, max_attempts: int,
                 now: datetime, retry_at: datetime | None) -> None:
        self.plans, self.runner, self.conn, self.run_id = plans, runner, conn, run_id
        self.step, self.display, self.attempt, self.max_attempts = (step, display, attempt,
                                                                    max_attempts)
        self.now, self.retry_at = now, retry_at

    def proceed(self, memo: object, op: str, **detail: Any) -> None:
        self.runner.store.memo(self.conn, self.run_id, self.step, memo)
        self.plans._done(self.runner, self.conn, self.run_id, self.step)
        self.runner.store.log(self.conn, self.run_id, self.display, op, **detail)

    def retry(self, op: str, **detail: Any) -> None:
        at = self.retry_at or self.runner.scheduler.retry_at(self.attempt, self.now)
        self.plans._retry(self.runner, self.conn, self.run_id, self.step, self.attempt + 1,
                          us(at))
        self.runner.store.log(self.conn, self.run_id, self.display, op, until=us(at),
                              **detail)

    def sleep(self, until: datetime) -> None:
        raise ValueError("a planned step answered a sleep")

    def wait(self, event: str, expression: str | None, timeout_at: datetime) -> None:
        raise ValueError("a planned step answered a wait")

    def invoke(self, function_id: str, payload: Mapping[str, Any],
               timeout_at: datetime) -> None:
        raise ValueError("a planned step answered an invoke")
