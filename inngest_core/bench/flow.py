"""Benchmark group for the local runner's flow control: 10,000 runs of a function with
concurrency 10 and a throttle, each with two steps, driven to the end on a manual clock in
an in-memory SQLite database (ours only: there is no peer).  The checked value is how many
runs completed and how many distinct results they returned, so a run lost or run twice fails
the check before anything is timed.  Throughput is ``RUNS`` divided by the median time
(:func:`throughput` prints it).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from . import Contender, Group

RUNS = 10_000
CONCURRENCY = 10
#: 1,000 starts a second, 100 at once: the throttle delays most runs (the manual clock jumps).
THROTTLE = {"limit": 1000, "period": "1s", "burst": 99}


def drive(runs: int = RUNS) -> tuple[int, int, int]:
    """Send ``runs`` events through a fresh runner and drive every run to its end:
    ``(completed runs, distinct results, step executions)``."""
    from ..sdk import LocalRunner, ManualClock, Throttle, Trigger, function

    executed = [0]

    def work(n: int) -> int:
        executed[0] += 1
        return n

    @function(id="bulk", trigger=Trigger(event="bench/bulk"), concurrency=CONCURRENCY,
              throttle=Throttle(**THROTTLE))  # type: ignore[arg-type]
    def bulk(ctx: Any, step: Any) -> int:
        n = ctx.event["data"]["n"]
        step.step("first", lambda: work(n))
        return int(step.step("second", lambda: work(n)))

    clock = ManualClock(datetime(2024, 1, 1, tzinfo=timezone.utc))
    with LocalRunner([bulk], db=":memory:", clock=clock) as runner:
        runner.accept([{"name": "bench/bulk", "data": {"n": n}} for n in range(runs)])
        runner.run_until_idle()
        runner.fast_forward()
        completed = [run_id for run_id, _, status in runner.runs() if status == "completed"]
        results = {runner.result(run_id) for run_id in completed}
    return len(completed), len(results), executed[0]


def groups() -> list[Group]:
    return [Group("flow", f"{RUNS:,} runs, concurrency {CONCURRENCY} + throttle "
                          f"{THROTTLE['limit']}/{THROTTLE['period']} (LocalRunner, 2 steps each)",
                  (RUNS, RUNS, 2 * RUNS),
                  [Contender("inngest_core LocalRunner", "compiled", lambda: drive)],
                  rounds=1)]


def throughput(runs: int = RUNS) -> float:
    """Runs per second of wall time for one :func:`drive` of ``runs`` runs."""
    began = time.perf_counter()
    done, distinct, _ = drive(runs)
    elapsed = time.perf_counter() - began
    assert done == distinct == runs, (done, distinct)
    return runs / elapsed


if __name__ == "__main__":
    print(f"{throughput():,.0f} runs/s")
