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

A group may hold sleeps, waits and invokes too: each is a member pending on its own, as the
server hands each op of an answer to its own handler (``handleGeneratorGroup``).  A sleep
wakes at its time (memo ``null``), a wait takes the first matching event (filed in the
runner's wait index under :func:`wait_key`) or times out (``null``), an invoke ends with the
invoked run's result or error, or times out (``InngestInvokeTimeoutError``); none of them
makes a call.  The run stays ``running`` meanwhile, due when its next member is, and holds
no concurrency slot while nothing is due.  The discovery call comes once, after the last
member is resolved (the server's ``SavePending`` and ``shouldEnqueueDiscovery``).

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

import json
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

# ``kind``: ``step`` (a planned block, run in a call of its own), ``sleep``, ``wait`` or
# ``invoke`` (a member of a group pending on its own; ``due_at`` is when it wakes or times
# out).  A wait keeps its event name, expression and the order it was made in (``wait_seq``).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS planned_steps (
    run_id  TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    step    TEXT NOT NULL,
    display TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    due_at  INTEGER NOT NULL,
    kind    TEXT NOT NULL DEFAULT 'step',
    event_name TEXT,
    expression TEXT,
    wait_seq   INTEGER,
    PRIMARY KEY (run_id, step)
);
CREATE TABLE IF NOT EXISTS planning_runs (
    run_id TEXT PRIMARY KEY
);
"""
#: Columns added since the first schema (a file written by an older runner gains them).
_ADDED = (("kind", "TEXT NOT NULL DEFAULT 'step'"), ("event_name", "TEXT"),
          ("expression", "TEXT"), ("wait_seq", "INTEGER"))

#: A group member due: ``(hashed id, display name, attempt, kind)``.
Planned = tuple[str, str, int, str]

#: The ops a group may report, each resolved on its own (SDK spec 5.5; the server's
#: ``handleGeneratorGroup`` hands every op of an answer to its own handler).
_GROUP_OPS = frozenset({protocol.STEP_PLANNED, protocol.SLEEP, protocol.WAIT_FOR_EVENT,
                        protocol.INVOKE_FUNCTION, protocol.STEP_RUN, protocol.STEP_FAILED})
#: A group holds at least one op that is pending after the answer (the server's
#: ``hasPlanOp``); results alone are no group.
_PLAN_OPS = _GROUP_OPS - {protocol.STEP_RUN, protocol.STEP_FAILED}


def is_plan(status: int, body: Any) -> bool:
    """Whether an answer plans steps: a 206 of ``StepPlanned`` ops only, or a group of
    several ops (planned blocks, sleeps, waits, invokes -- at least one of them -- and
    steps that already ran or failed for good), each then pending on its own.

    >>> is_plan(206, [{"op": "StepPlanned", "id": "a"}]), is_plan(206, [{"op": "Sleep"}])
    (True, False)
    >>> is_plan(206, [{"op": "Sleep", "id": "a"}, {"op": "StepPlanned", "id": "b"}])
    True
    """
    if status != 206 or not isinstance(body, list) or not body:
        return False
    allowed = _GROUP_OPS if len(body) > 1 else (protocol.STEP_PLANNED,)
    return all(isinstance(op, dict) and op.get("op") in allowed
               and isinstance(op.get("id"), str) for op in body) \
        and any(op["op"] in _PLAN_OPS for op in body)


def wait_key(run_id: str, step: str) -> str:
    """The key a group member's wait is filed under in the runner's wait index (a run's
    own wait is filed under its run id, which has no ``/``).

    >>> wait_key("r1", "ab12")
    'r1/ab12'
    """
    return f"{run_id}/{step}"


class Plans:
    """The planned steps of the runs in the runner's database (``conn``)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        conn.executescript(_SCHEMA)
        have = {row[1] for row in conn.execute("PRAGMA table_info(planned_steps)")}
        for column, decl in _ADDED:
            if column not in have:
                conn.execute(f"ALTER TABLE planned_steps ADD COLUMN {column} {decl}")
        self.conn = conn

    def due(self, run_id: str, now_us: int) -> Planned | None:
        """The group member the run's next call resolves, if one is due: a planned block
        to run, or a sleep, wait or invoke whose time came."""
        row = self.conn.execute(
            "SELECT step, display, attempt, kind FROM planned_steps WHERE run_id = ? "
            "AND due_at <= ? ORDER BY due_at, seq LIMIT 1", (run_id, now_us)).fetchone()
        return None if row is None else (row[0], row[1], int(row[2]), row[3])

    def waits(self) -> list[tuple[str, int, str, str | None, dict[str, Any]]]:
        """The waits of group members, as :meth:`RunStore.waits
        <inngest_core.sdk.store.RunStore.waits>` lists a run's own (keyed by
        :func:`wait_key`), to file again when a runner opens the file."""
        rows = self.conn.execute(
            "SELECT p.run_id, p.step, p.wait_seq, p.event_name, p.expression, r.event "
            "FROM planned_steps p JOIN runs r ON r.run_id = p.run_id "
            "WHERE p.kind = 'wait' ORDER BY p.wait_seq").fetchall()
        return [(wait_key(run_id, step), seq, name, expression, json.loads(event))
                for run_id, step, seq, name, expression, event in rows]

    def drop(self, conn: sqlite3.Connection, run_id: str) -> list[tuple[str, str]]:
        """Forget the run's group (it was cancelled); the ``(wait key, event name)`` of its
        waits, to take out of the wait index."""
        rows = conn.execute("SELECT step, event_name FROM planned_steps WHERE run_id = ? "
                            "AND kind = 'wait'", (run_id,)).fetchall()
        conn.execute("DELETE FROM planned_steps WHERE run_id = ?", (run_id,))
        return [(wait_key(run_id, step), name) for step, name in rows]

    def resume_wait(self, runner: LocalRunner, key: str, event: dict[str, Any]) -> None:
        """The event ``event`` matched the group member's wait filed under ``key``."""
        run_id, step = key.split("/", 1)
        with runner.store.tx() as conn:
            row = conn.execute("SELECT display FROM planned_steps WHERE run_id = ? AND "
                               "step = ? AND kind = 'wait'", (run_id, step)).fetchone()
            if row is not None:
                runner.store.memo(conn, run_id, step, event)
                runner.store.log(conn, run_id, row[0], "EventReceived", result=event)
                self._done(runner, conn, run_id, step)
        runner.waits.remove(key, event["name"])

    def resume_invoke(self, runner: LocalRunner, conn: sqlite3.Connection, run_id: str,
                      step: str, memo: dict[str, Any], op: str, **detail: Any) -> bool:
        """The run a group member invoked ended with ``memo``; whether ``step`` of
        ``run_id`` was such a member (still waiting for it)."""
        row = conn.execute("SELECT display FROM planned_steps WHERE run_id = ? AND step = ? "
                           "AND kind = 'invoke'", (run_id, step)).fetchone()
        if row is None:
            return False
        runner.store.memo(conn, run_id, step, memo)
        runner.store.log(conn, run_id, row[0], op, **detail)
        self._done(runner, conn, run_id, step)
        return True

    def expire(self, runner: LocalRunner, run_id: str, member: Planned) -> None:
        """A sleep of the group woke, or a wait or invoke of it timed out: its memo is
        written as the server writes it, and the member is done."""
        step, display, _, kind = member
        wait: str | None = None
        with runner.store.tx() as conn:
            if kind == "invoke":
                timed_out = dict(kinds.INVOKE_TIMEOUT_ERROR)
                runner.store.memo(conn, run_id, step, {"error": timed_out})
                runner.store.log(conn, run_id, display, "InvokeTimedOut", error=timed_out)
            elif kind == "wait":
                row = conn.execute("SELECT event_name FROM planned_steps WHERE run_id = ? "
                                   "AND step = ?", (run_id, step)).fetchone()
                wait = row[0]
                runner.store.memo(conn, run_id, step, None)
                runner.store.log(conn, run_id, display, "TimedOut")
            else:
                runner.store.memo(conn, run_id, step, None)
                runner.store.log(conn, run_id, display, "Woke")
            self._done(runner, conn, run_id, step)
        if wait is not None:
            runner.waits.remove(wait_key(run_id, step), wait)

    def planning(self, run_id: str) -> bool:
        """Whether the run's calls ask for planning (``disable_immediate_execution``)."""
        return self.conn.execute("SELECT 1 FROM planning_runs WHERE run_id = ?",
                                 (run_id,)).fetchone() is not None

    def plan(self, runner: LocalRunner, run_id: str, fn: Target,
             ops: Sequence[Mapping[str, Any]]) -> None:
        """File the steps an answer planned, each pending on its own: a planned block runs
        in a call of its own (at once), a sleep wakes at its time, a wait takes its event
        or times out, an invoke ends with the invoked run or times out; a step that
        already ran or failed is memoized at once.  The run is called again to discover
        what follows once no member is pending (the server enqueues its discovery step
        when ``SaveStep`` finds no pending step: ``shouldEnqueueDiscovery``).  An op that
        cannot be carried out (a bad wait, say) fails the run, as a single op does."""
        store, now = runner.store, runner.clock.now()
        added: list[tuple[str, int, str, str | None]] = []
        try:
            with store.tx() as conn:
                for op in ops:
                    display = str(op.get("displayName") or op.get("name") or op["id"])
                    if op["op"] == protocol.STEP_PLANNED:
                        self._add(conn, runner, run_id, op["id"], display, us(now), "step")
                        store.log(conn, run_id, display, protocol.STEP_PLANNED)
                        continue
                    raw_opts = op.get("opts")
                    kinds.RESOLVERS[op["op"]](
                        _Member(self, runner, conn, run_id, op["id"], display, fn, now,
                                added), op, raw_opts if isinstance(raw_opts, dict) else {})
                if len(ops) > 1:
                    conn.execute("INSERT OR IGNORE INTO planning_runs (run_id) VALUES (?)",
                                 (run_id,))
                self._reschedule(runner, conn, run_id)
        except ValueError as exc:
            with store.tx() as conn:
                runner._fail(conn, run_id, {"name": "ProtocolError", "message": str(exc)})
            return
        for key, seq, name, expression in added:
            try:
                runner.waits.add(key, seq, name, expression, store.trigger_event(
                    store.conn, run_id))
            except Exception as exc:
                # Inngest stores such a wait too; no event can match it, so it times out.
                with store.tx() as conn:
                    store.log(conn, run_id, self._display(conn, key), "WaitNeverMatches",
                              error={"name": type(exc).__name__, "message": str(exc)})

    def _display(self, conn: sqlite3.Connection, key: str) -> str:
        run_id, step = key.split("/", 1)
        row = conn.execute("SELECT display FROM planned_steps WHERE run_id = ? AND step = ?",
                           (run_id, step)).fetchone()
        return str(row[0]) if row is not None else step

    def _add(self, conn: sqlite3.Connection, runner: LocalRunner, run_id: str, step: str,
             display: str, due_us: int, kind: str, event_name: str | None = None,
             expression: str | None = None, wait_seq: int | None = None) -> None:
        conn.execute("INSERT OR IGNORE INTO planned_steps (run_id, seq, step, display, due_at, "
                     "kind, event_name, expression, wait_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (run_id, runner.store.next_seq(conn, "planned"), step, display, due_us,
                      kind, event_name, expression, wait_seq))

    def apply(self, runner: LocalRunner, run_id: str, fn: Target, planned: Planned,
              answer: CallResult, retry_at: datetime | None) -> None:
        """Apply the answer to the call that ran ``planned``."""
        step, display, attempt, _ = planned
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


class _Member:
    """The verbs of :class:`~inngest_core.sdk.kinds.Resolution` for one op of a group: a
    sleep, wait or invoke files a member pending on its own; a step's result or final
    failure is memoized at once."""

    def __init__(self, plans: Plans, runner: LocalRunner, conn: sqlite3.Connection,
                 run_id: str, step: str, display: str, fn: Target, now: datetime,
                 added: list[tuple[str, int, str, str | None]]) -> None:
        self.plans, self.runner, self.conn, self.run_id = plans, runner, conn, run_id
        self.step, self.display, self.fn, self.now, self.added = (step, display, fn, now,
                                                                  added)
        self.attempt, self.max_attempts = 0, fn.max_attempts

    def proceed(self, memo: object, op: str, **detail: Any) -> None:
        self.runner.store.memo(self.conn, self.run_id, self.step, memo)
        self.runner.store.log(self.conn, self.run_id, self.display, op, **detail)

    def retry(self, op: str, **detail: Any) -> None:
        raise ValueError(f"a group reported {op} for {self.display!r}: only a planned step "
                         "is retried on its own")

    def sleep(self, until: datetime) -> None:
        self.plans._add(self.conn, self.runner, self.run_id, self.step, self.display,
                        us(until), "sleep")
        self.runner.store.log(self.conn, self.run_id, self.display, protocol.SLEEP,
                              until=us(until))

    def wait(self, event: str, expression: str | None, timeout_at: datetime) -> None:
        seq = self.runner.store.next_seq(self.conn, "waits")
        self.plans._add(self.conn, self.runner, self.run_id, self.step, self.display,
                        us(timeout_at), "wait", event, expression, seq)
        self.runner.store.log(self.conn, self.run_id, self.display, protocol.WAIT_FOR_EVENT,
                              until=us(timeout_at), event=event, expression=expression)
        self.added.append((wait_key(self.run_id, self.step), seq, event, expression))

    def invoke(self, function_id: str, payload: Mapping[str, Any],
               timeout_at: datetime) -> None:
        from .runner import start_invoked

        child = start_invoked(self.runner, self.conn, self.run_id, self.step, self.display,
                              self.fn, function_id, payload, timeout_at, self.now)
        if child is None:
            return
        self.plans._add(self.conn, self.runner, self.run_id, self.step, self.display,
                        us(timeout_at), "invoke")
        self.runner.store.log(self.conn, self.run_id, self.display, protocol.INVOKE_FUNCTION,
                              until=us(timeout_at),
                              result={"function_id": function_id, "run_id": child})


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
