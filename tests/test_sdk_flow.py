"""The local runner honours every function option (issue 15), each under the manual clock:
concurrency, throttle, rate limit, debounce, priority, idempotency, batching, cancel,
timeouts, singleton, on_failure, several triggers and cron jitter, flow state across a
restart, and many runs through concurrency and a throttle, each exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from inngest_core.sdk import (
    Batch,
    Cancel,
    Concurrency,
    Context,
    Debounce,
    LocalRunner,
    ManualClock,
    NonRetriableError,
    Priority,
    RateLimit,
    Singleton,
    Step,
    Throttle,
    Timeouts,
    Trigger,
    function,
)

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=timezone.utc)


def runner_for(*functions: Any, db: str = ":memory:", start: datetime = T0) -> LocalRunner:
    return LocalRunner(functions, db=db, clock=ManualClock(start))


def ops(runner: LocalRunner, run_id: str) -> list[str]:
    return [e.op for e in runner.history(run_id)]


def started_at(runner: LocalRunner, run_id: str) -> datetime:
    """When the run's first step ran."""
    return next(e.at for e in runner.history(run_id) if e.op == "StepRun")


# ---------------------------------------------------------------------- concurrency


def test_concurrency_one_run_at_a_time_and_queued_runs_wait() -> None:
    calls: list[tuple[str, str]] = []

    @function(id="c", trigger=Trigger(event="c/go"), concurrency=1)
    def c(ctx: Context, step: Step) -> Any:
        for name in ("a", "b", "c"):
            step.step(name, lambda name=name: calls.append((ctx.event["data"]["n"], name)))
        return None

    runner = runner_for(c)
    runner.accept([{"name": "c/go", "data": {"n": n}} for n in ("1", "2", "3")])
    runner.run_until_idle()
    # No interleaving: each run's three steps, then the next run's.
    assert calls == [(n, s) for n in ("1", "2", "3") for s in ("a", "b", "c")]
    runs = [run for run, _, _ in runner.runs()]
    assert [runner.status(r) for r in runs] == ["completed"] * 3
    assert "ConcurrencyLimited" in ops(runner, runs[1])
    assert "ConcurrencyLimited" not in ops(runner, runs[0])


def test_without_concurrency_runs_interleave() -> None:
    calls: list[str] = []

    @function(id="free", trigger=Trigger(event="f/go"))
    def free(ctx: Context, step: Step) -> Any:
        step.step("a", lambda: calls.append(ctx.event["data"]["n"] + "a"))
        step.step("b", lambda: calls.append(ctx.event["data"]["n"] + "b"))

    runner = runner_for(free)
    runner.accept([{"name": "f/go", "data": {"n": n}} for n in ("1", "2")])
    runner.run_until_idle()
    assert calls == ["1a", "2a", "1b", "2b"]


def test_concurrency_is_per_key() -> None:
    calls: list[str] = []

    @function(id="k", trigger=Trigger(event="k/go"),
              concurrency=Concurrency(limit=1, key="event.data.user"))
    def k(ctx: Context, step: Step) -> Any:
        tag = ctx.event["data"]["user"] + ctx.event["data"]["n"]
        step.step("a", lambda: calls.append(tag + "a"))
        step.step("b", lambda: calls.append(tag + "b"))

    runner = runner_for(k)
    runner.accept([{"name": "k/go", "data": {"user": u, "n": n}}
                   for u, n in (("u", "1"), ("v", "1"), ("u", "2"))])
    runner.run_until_idle()
    # u1 and v1 interleave (two keys); u2 waits for u1.
    assert calls == ["u1a", "v1a", "u1b", "v1b", "u2a", "u2b"]


def test_sleeping_and_waiting_runs_hold_no_slot() -> None:
    @function(id="s", trigger=Trigger(event="s/go"), concurrency=1)
    def s(ctx: Context, step: Step) -> Any:
        step.step("a", lambda: 1)
        if ctx.event["data"]["how"] == "sleep":
            step.sleep("nap", "1h")
        else:
            step.wait_for_event("ok", event="s/ok", timeout="1h")
        return step.step("b", lambda: 2)

    runner = runner_for(s)
    [sleeper] = runner.send({"name": "s/go", "data": {"how": "sleep"}})
    [waiter] = runner.send({"name": "s/go", "data": {"how": "wait"}})
    [third] = runner.send({"name": "s/go", "data": {"how": "sleep"}})
    assert [runner.status(r) for r in (sleeper, waiter, third)] == \
        ["sleeping", "waiting", "sleeping"]
    runner.send({"name": "s/ok"})
    assert runner.status(waiter) == "completed"
    runner.advance(timedelta(hours=1))
    assert [runner.status(r) for r in (sleeper, third)] == ["completed", "completed"]


# ---------------------------------------------------------------------- throttle


def test_throttle_delays_runs_over_the_limit_and_drops_none() -> None:
    @function(id="t", trigger=Trigger(event="t/go"),
              throttle=Throttle(limit=1, period="1m", burst=0))
    def t(ctx: Context, step: Step) -> Any:
        return step.step("a", lambda: ctx.event["data"]["n"])

    runner = runner_for(t)
    runner.accept([{"name": "t/go", "data": {"n": n}} for n in range(3)])
    runner.run_until_idle()
    runs = [run for run, _, _ in runner.runs()]
    assert [runner.status(r) for r in runs] == ["completed", "running", "running"]
    throttled = [e for e in runner.history(runs[2]) if e.op == "Throttled"]
    assert throttled[0].until == T0 + timedelta(minutes=2)
    runner.advance(timedelta(minutes=1))
    assert [runner.status(r) for r in runs] == ["completed", "completed", "running"]
    runner.advance(timedelta(minutes=1))
    assert [runner.result(r) for r in runs] == [0, 1, 2]
    assert [started_at(runner, r) - T0 for r in runs] == \
        [timedelta(0), timedelta(minutes=1), timedelta(minutes=2)]


def test_throttle_burst_starts_burst_plus_one_at_once_per_key() -> None:
    @function(id="tb", trigger=Trigger(event="tb/go"),
              throttle=Throttle(limit=2, period="1m", burst=1, key="event.data.user"))
    def tb(ctx: Context, step: Step) -> Any:
        return step.step("a", lambda: 1)

    runner = runner_for(tb)
    runner.accept([{"name": "tb/go", "data": {"user": u}} for u in "uuuv"])
    runner.run_until_idle()
    runs = [run for run, _, _ in runner.runs()]
    # GCRA: emission 30s, burst 1: two of "u" at once, the third 30s later; "v" has its own.
    assert [runner.status(r) for r in runs] == ["completed", "completed", "running",
                                                "completed"]
    runner.advance(timedelta(seconds=30))
    assert started_at(runner, runs[2]) == T0 + timedelta(seconds=30)


# ---------------------------------------------------------------------- rate limit


def test_rate_limit_skips_runs_over_the_limit() -> None:
    @function(id="r", trigger=Trigger(event="r/go"),
              rate_limit=RateLimit(limit=1, period="1h", key="event.data.user"))
    def r(ctx: Context, step: Step) -> Any:
        return ctx.event["data"]["user"]

    runner = runner_for(r)
    assert len(runner.send({"name": "r/go", "data": {"user": "u"}})) == 1
    assert runner.send({"name": "r/go", "data": {"user": "u"}}) == []
    assert len(runner.send({"name": "r/go", "data": {"user": "v"}})) == 1
    [(fn_id, reason, event, at)] = runner.skipped()
    assert (fn_id, reason, event["data"], at) == ("r", "rate_limit", {"user": "u"}, T0)
    runner.advance(timedelta(minutes=59))
    assert runner.send({"name": "r/go", "data": {"user": "u"}}) == []
    runner.advance(timedelta(minutes=1))
    assert len(runner.send({"name": "r/go", "data": {"user": "u"}})) == 1
    assert len(runner.runs()) == 3


# ---------------------------------------------------------------------- debounce


def test_debounce_runs_the_last_event_period_after_it() -> None:
    @function(id="d", trigger=Trigger(event="d/go"), debounce=Debounce(period="5m"))
    def d(ctx: Context, step: Step) -> Any:
        return ctx.event["data"]["n"]

    runner = runner_for(d)
    for n in range(3):
        assert runner.send({"name": "d/go", "data": {"n": n}}) == []
        runner.advance(timedelta(minutes=2))
    assert runner.runs() == []
    runner.advance(timedelta(minutes=2, seconds=59))  # 4m59s after the last event
    assert runner.runs() == []
    runner.advance(timedelta(seconds=1))
    [(run, _, status)] = runner.runs()
    assert (status, runner.result(run)) == ("completed", 2)
    assert runner.history(run)[0].at == T0 + timedelta(minutes=9)


def test_debounce_timeout_caps_the_delay_and_keys_apart() -> None:
    @function(id="dt", trigger=Trigger(event="dt/go"),
              debounce=Debounce(period="5m", timeout="10m", key="event.data.user"))
    def dt(ctx: Context, step: Step) -> Any:
        return ctx.event["data"]["n"]

    runner = runner_for(dt)
    for n in range(5):  # every 3 minutes: the period never passes
        runner.send({"name": "dt/go", "data": {"user": "u", "n": n}})
        runner.send({"name": "dt/go", "data": {"user": "v", "n": n * 10}})
        runner.advance(timedelta(minutes=3))
    runs = runner.runs()
    assert len(runs) == 2
    # The timeout: 10m after the first event, with the last event before it (n=3 at 9m).
    assert sorted(runner.result(r) for r, _, _ in runs) == [3, 30]
    assert {runner.history(r)[0].at for r, _, _ in runs} == {T0 + timedelta(minutes=10)}


# ---------------------------------------------------------------------- priority


def test_priority_queued_runs_start_by_priority() -> None:
    order: list[str] = []

    @function(id="p", trigger=Trigger(event="p/go"), concurrency=1,
              priority=Priority(run="event.data.plan == 'pro' ? 120 : 0"))
    def p(ctx: Context, step: Step) -> Any:
        step.step("a", lambda: order.append(ctx.event["data"]["n"]))

    runner = runner_for(p)
    runner.accept([{"name": "p/go", "data": {"n": n, "plan": plan}}
                   for n, plan in (("1", "free"), ("2", "free"), ("3", "pro"))])
    runner.run_until_idle()
    assert order == ["3", "1", "2"]


def test_negative_priority_delays_the_start() -> None:
    @function(id="pn", trigger=Trigger(event="pn/go"), priority=Priority(run="-60"))
    def pn(ctx: Context, step: Step) -> Any:
        return 1

    runner = runner_for(pn)
    [run] = runner.send({"name": "pn/go"})
    assert runner.status(run) == "running"
    runner.advance(timedelta(seconds=60))
    assert runner.status(run) == "completed"


# ---------------------------------------------------------------------- idempotency


def test_idempotency_one_run_per_key_per_24h() -> None:
    @function(id="i", trigger=Trigger(event="i/go"), idempotency="event.data.order")
    def i(ctx: Context, step: Step) -> Any:
        return ctx.event["data"]["order"]

    runner = runner_for(i)
    assert len(runner.send({"name": "i/go", "data": {"order": 1}})) == 1
    assert runner.send({"name": "i/go", "data": {"order": 1}}) == []
    assert len(runner.send({"name": "i/go", "data": {"order": 2}})) == 1
    runner.advance(timedelta(hours=23, minutes=59))
    assert runner.send({"name": "i/go", "data": {"order": 1}}) == []
    runner.advance(timedelta(minutes=1))
    assert len(runner.send({"name": "i/go", "data": {"order": 1}})) == 1
    assert [reason for _, reason, _, _ in runner.skipped()] == ["idempotency"] * 2


# ---------------------------------------------------------------------- batching


def test_batch_full_starts_at_once_and_timeout_starts_the_rest() -> None:
    seen: list[list[int]] = []

    @function(id="b", trigger=Trigger(event="b/go"),
              batch_events=Batch(max_size=3, timeout="10s"))
    def b(ctx: Context, step: Step) -> Any:
        ns = [e["data"]["n"] for e in ctx.events]
        seen.append(ns)
        return ns

    runner = runner_for(b)
    assert runner.send({"name": "b/go", "data": {"n": 0}}) == []
    assert runner.send({"name": "b/go", "data": {"n": 1}}) == []
    [full] = runner.send({"name": "b/go", "data": {"n": 2}})
    assert runner.result(full) == [0, 1, 2]
    runner.send([{"name": "b/go", "data": {"n": 3}}, {"name": "b/go", "data": {"n": 4}}])
    runner.advance(timedelta(seconds=9))
    assert len(runner.runs()) == 1
    runner.advance(timedelta(seconds=1))
    [_, (rest, _, _)] = runner.runs()
    assert runner.result(rest) == [3, 4]
    assert seen == [[0, 1, 2], [3, 4]]


def test_batch_key_and_if() -> None:
    @function(id="bk", trigger=Trigger(event="bk/go"),
              batch_events=Batch(max_size=2, timeout="5s", key="event.data.user",
                                 if_="event.data.batch == true"))
    def bk(ctx: Context, step: Step) -> Any:
        return [e["data"]["n"] for e in ctx.events]

    runner = runner_for(bk)
    [alone] = runner.send({"name": "bk/go", "data": {"user": "u", "n": 0, "batch": False}})
    assert runner.result(alone) == [0]
    runner.send([{"name": "bk/go", "data": {"user": u, "n": n, "batch": True}}
                 for u, n in (("u", 1), ("v", 2), ("u", 3))])
    runner.advance(timedelta(seconds=5))
    assert sorted(runner.result(r) for r, _, _ in runner.runs()) == [[0], [1, 3], [2]]


# ---------------------------------------------------------------------- cancel


@pytest.mark.parametrize("state", ["running", "sleeping", "waiting"])
def test_cancel_event_cancels_a_run_in_any_state(state: str) -> None:
    @function(id="x", trigger=Trigger(event="order/created"), retries=3,
              cancel=Cancel(event="order/cancelled", if_="event.data.id == async.data.id"))
    def x(ctx: Context, step: Step) -> Any:
        if state == "running":  # backing off for a retry
            step.step("flaky", lambda: 1 / 0)
        elif state == "sleeping":
            step.sleep("nap", "1h")
        else:
            step.wait_for_event("paid", event="order/paid", timeout="1h")
        return "done"

    runner = runner_for(x)
    [run] = runner.send({"name": "order/created", "data": {"id": 7}})
    assert runner.status(run) == state
    runner.send({"name": "order/cancelled", "data": {"id": 8}})
    assert runner.status(run) == state
    runner.send({"name": "order/cancelled", "id": "c1", "data": {"id": 7}})
    assert runner.status(run) == "cancelled"
    last = runner.history(run)[-1]
    assert last.op == "RunCancelled"
    assert last.result == {"reason": "cancel", "event": {"name": "order/cancelled", "id": "c1"},
                           "if": "event.data.id == async.data.id"}
    runner.fast_forward()
    runner.send({"name": "order/paid"})
    assert runner.status(run) == "cancelled"


def test_cancel_only_within_its_timeout() -> None:
    @function(id="xt", trigger=Trigger(event="a/go"),
              cancel=Cancel(event="a/stop", timeout="1h"))
    def xt(ctx: Context, step: Step) -> Any:
        step.sleep("nap", "2h")

    runner = runner_for(xt)
    [run] = runner.send({"name": "a/go"})
    runner.advance(timedelta(minutes=61))
    runner.send({"name": "a/stop"})
    assert runner.status(run) == "sleeping"
    runner.advance(timedelta(hours=1))
    assert runner.status(run) == "completed"


# ---------------------------------------------------------------------- timeouts


def test_timeouts_start_cancels_a_run_queued_too_long() -> None:
    @function(id="ts", trigger=Trigger(event="ts/go"),
              throttle=Throttle(limit=1, period="1h", burst=0), timeouts=Timeouts(start="10m"))
    def ts(ctx: Context, step: Step) -> Any:
        return 1

    runner = runner_for(ts)
    runner.accept([{"name": "ts/go"}, {"name": "ts/go"}])
    runner.run_until_idle()
    first, second = (r for r, _, _ in runner.runs())
    assert (runner.status(first), runner.status(second)) == ("completed", "running")
    runner.advance(timedelta(minutes=10))
    assert runner.status(second) == "cancelled"
    assert runner.history(second)[-1].result == {"reason": "timeouts.start", "timeout": "10m"}
    assert runner.history(second)[-1].at == T0 + timedelta(minutes=10)


def test_timeouts_finish_cancels_a_run_running_too_long() -> None:
    @function(id="tf", trigger=Trigger(event="tf/go"), timeouts=Timeouts(finish="30m"))
    def tf(ctx: Context, step: Step) -> Any:
        step.step("a", lambda: 1)
        step.sleep("nap", ctx.event["data"]["nap"])
        return "done"

    runner = runner_for(tf)
    [slow] = runner.send({"name": "tf/go", "data": {"nap": "1h"}})
    [quick] = runner.send({"name": "tf/go", "data": {"nap": "10m"}})
    runner.advance(timedelta(minutes=30))
    assert (runner.status(slow), runner.status(quick)) == ("cancelled", "completed")
    assert runner.history(slow)[-1].result == {"reason": "timeouts.finish", "timeout": "30m"}
    runner.fast_forward()
    assert runner.status(slow) == "cancelled"


# ---------------------------------------------------------------------- singleton


def test_singleton_skip_drops_new_runs_while_one_is_live() -> None:
    @function(id="one", trigger=Trigger(event="one/go"),
              singleton=Singleton(mode="skip", key="event.data.user"))
    def one(ctx: Context, step: Step) -> Any:
        step.sleep("nap", "1h")

    runner = runner_for(one)
    [first] = runner.send({"name": "one/go", "data": {"user": "u"}})
    assert runner.send({"name": "one/go", "data": {"user": "u"}}) == []
    assert len(runner.send({"name": "one/go", "data": {"user": "v"}})) == 1
    runner.advance(timedelta(hours=1))
    assert runner.status(first) == "completed"
    assert len(runner.send({"name": "one/go", "data": {"user": "u"}})) == 1
    assert [reason for _, reason, _, _ in runner.skipped()] == ["singleton"]


def test_singleton_cancel_replaces_the_live_run() -> None:
    @function(id="rep", trigger=Trigger(event="rep/go"), singleton=Singleton(mode="cancel"))
    def rep(ctx: Context, step: Step) -> Any:
        step.sleep("nap", "1h")

    runner = runner_for(rep)
    [first] = runner.send({"name": "rep/go", "id": "e1"})
    [second] = runner.send({"name": "rep/go", "id": "e2"})
    assert (runner.status(first), runner.status(second)) == ("cancelled", "sleeping")
    assert runner.history(first)[-1].result == {
        "reason": "singleton", "event": {"name": "rep/go", "id": "e2"}}


# ---------------------------------------------------------------------- on_failure


def test_on_failure_runs_with_the_function_failed_event_after_the_last_attempt() -> None:
    got: list[dict[str, Any]] = []

    def handler(ctx: Context, step: Step) -> Any:
        got.append(ctx.event)
        return "handled"

    @function(id="pay", trigger=Trigger(event="pay/go"), retries=1, on_failure=handler)
    def pay(ctx: Context, step: Step) -> Any:
        raise RuntimeError("card declined")

    runner = runner_for(pay)
    [run] = runner.send({"name": "pay/go", "id": "e1", "data": {"amount": 5}})
    assert runner.status(run) == "running" and got == []  # one retry left
    runner.advance(timedelta(seconds=15))
    assert runner.status(run) == "failed"
    [event] = got
    assert event["name"] == "inngest/function.failed" and event["id"] == run
    data = event["data"]
    assert (data["function_id"], data["run_id"]) == ("local-pay", run)
    assert data["error"]["name"] == "RuntimeError"
    assert data["error"]["message"] == "card declined"
    assert data["event"]["data"] == {"amount": 5} and data["event"]["id"] == "e1"
    assert [e["id"] for e in data["events"]] == ["e1"]
    [(handled, fn_id, status)] = [r for r in runner.runs() if r[1] == "pay-failure"]
    assert (status, runner.result(handled)) == ("completed", "handled")


def test_a_failing_failure_handler_starts_nothing_more() -> None:
    def handler(ctx: Context, step: Step) -> Any:
        raise NonRetriableError("also broken")

    @function(id="f", trigger=Trigger(event="f/go"), retries=0, on_failure=handler)
    def f(ctx: Context, step: Step) -> Any:
        raise NonRetriableError("broken")

    runner = runner_for(f)
    runner.send({"name": "f/go"})
    assert sorted((fn, status) for _, fn, status in runner.runs()) == [
        ("f", "failed"), ("f-failure", "failed")]


# ---------------------------------------------------------------------- triggers, crons


def test_any_trigger_starts_the_function_and_each_cron_fires_with_its_jitter() -> None:
    @function(id="multi", trigger=[Trigger(event="a/one"), Trigger(event="a/two"),
                                   Trigger(cron="0 * * * *", jitter="30s"),
                                   Trigger(cron="30 * * * *")])
    def multi(ctx: Context, step: Step) -> Any:
        return ctx.event["name"]

    runner = runner_for(multi)
    assert len(runner.send({"name": "a/one"})) == 1
    assert len(runner.send({"name": "a/two"})) == 1
    runner.advance(timedelta(hours=1, minutes=1))
    cron_runs = [r for r, _, _ in runner.runs()][2:]
    events = [runner.history(r)[0].result for r in cron_runs]
    assert [e["data"]["cron"] for e in events] == ["30 * * * *", "0 * * * *"]
    at_30, at_0 = (runner.history(r)[0].at for r in cron_runs)
    assert at_30 == T0 + timedelta(minutes=30)
    assert T0 + timedelta(hours=1, seconds=1) <= at_0 < T0 + timedelta(hours=1, seconds=30)
    assert events[1]["id"] == events[1]["data"]["scheduledAt"] == "2024-01-01T13:00:00Z"
    assert events[1]["data"]["fireAt"] == at_0.replace(microsecond=0).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------- restarts


def test_throttle_debounce_and_queue_state_survive_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "flow.db")
    clock = ManualClock(T0)

    @function(id="t", trigger=Trigger(event="t/go"),
              throttle=Throttle(limit=1, period="1m", burst=0))
    def t(ctx: Context, step: Step) -> Any:
        return step.step("a", lambda: ctx.event["data"]["n"])

    @function(id="d", trigger=Trigger(event="d/go"), debounce=Debounce(period="5m"))
    def d(ctx: Context, step: Step) -> Any:
        return ctx.event["data"]["n"]

    first = LocalRunner([t, d], db=db, clock=clock)
    first.accept([{"name": "t/go", "data": {"n": n}} for n in range(3)])
    first.run_until_idle()
    first.send({"name": "d/go", "data": {"n": 1}})
    first.advance(timedelta(seconds=30))
    first.send({"name": "d/go", "data": {"n": 2}})
    first.close()

    second = LocalRunner([t, d], db=db, clock=clock)
    second.advance(timedelta(minutes=5))  # T0+5m30s: throttled runs done, debounce fired
    throttled = [r for r, fn, _ in second.runs() if fn == "t"]
    assert [second.result(r) for r in throttled] == [0, 1, 2]
    assert [started_at(second, r) - T0 for r in throttled] == \
        [timedelta(0), timedelta(minutes=1), timedelta(minutes=2)]
    [debounced] = [r for r, fn, _ in second.runs() if fn == "d"]
    assert second.result(debounced) == 2
    assert second.history(debounced)[0].at == T0 + timedelta(minutes=5, seconds=30)
    second.close()


def test_idempotency_and_rate_limit_survive_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "keys.db")
    clock = ManualClock(T0)

    @function(id="i", trigger=Trigger(event="i/go"), idempotency="event.data.k")
    def i(ctx: Context, step: Step) -> Any:
        return 1

    with LocalRunner([i], db=db, clock=clock) as runner:
        assert len(runner.send({"name": "i/go", "data": {"k": 1}})) == 1
    with LocalRunner([i], db=db, clock=clock) as runner:
        assert runner.send({"name": "i/go", "data": {"k": 1}}) == []


# ---------------------------------------------------------------------- volume


def test_many_runs_through_concurrency_and_throttle_each_exactly_once() -> None:
    n = 1000
    seen: dict[int, int] = {}
    most = [0]

    @function(id="bulk", trigger=Trigger(event="bulk/go"), concurrency=10,
              throttle=Throttle(limit=100, period="1s", burst=50))
    def bulk(ctx: Context, step: Step) -> Any:
        key = ctx.event["data"]["n"]

        def count() -> int:
            seen[key] = seen.get(key, 0) + 1
            held = runner.store.conn.execute("SELECT COUNT(*) FROM flow_slots").fetchone()[0]
            most[0] = max(most[0], held)
            return key

        step.step("a", count)
        return step.step("b", lambda: key)

    runner = runner_for(bulk)
    runner.accept([{"name": "bulk/go", "data": {"n": k}} for k in range(n)])
    runner.run_until_idle()
    runner.fast_forward()
    runs = runner.runs()
    assert len(runs) == n
    assert {status for _, _, status in runs} == {"completed"}
    assert sorted(runner.result(r) for r, _, _ in runs) == list(range(n))
    assert seen == {k: 1 for k in range(n)}
    assert most[0] == 10
    # 51 at once, then 100 a second.
    assert runner.clock.now() - T0 == pytest.approx(timedelta(seconds=(n - 51) / 100),
                                                    abs=timedelta(seconds=0.02))


# ---------------------------------------------------------------------- over HTTP


def test_options_triggers_and_on_failure_of_an_app_served_over_http() -> None:
    from test_serve_support import KEY, wsgi_server

    from inngest_core.sdk import App

    def handler(ctx: Context, step: Step) -> Any:
        return {"function_id": ctx.event["data"]["function_id"],
                "message": ctx.event["data"]["error"]["message"]}

    @function(id="paced", trigger=[Trigger(event="h/one"), Trigger(event="h/two")],
              throttle=Throttle(limit=1, period="1m", burst=0),
              cancel=Cancel(event="h/stop", if_="event.data.n == async.data.n"))
    def paced(ctx: Context, step: Step) -> Any:
        step.sleep("nap", "10m")
        return ctx.event["data"]["n"]

    @function(id="broken", trigger=Trigger(event="h/break"), retries=0, on_failure=handler)
    def broken(ctx: Context, step: Step) -> Any:
        raise NonRetriableError("nope")

    app = App("shop", [paced, broken], signing_key=KEY, env={})
    with wsgi_server(app.wsgi()) as base:
        runner = LocalRunner.remote(base + "/api/inngest", KEY, clock=ManualClock(T0))
        with runner:
            [first] = runner.send({"name": "h/one", "data": {"n": 1}})
            [second] = runner.send({"name": "h/two", "data": {"n": 2}})
            [third] = runner.send({"name": "h/one", "data": {"n": 3}})
            assert [runner.status(r) for r in (first, second, third)] == \
                ["sleeping", "running", "running"]
            runner.send({"name": "h/stop", "data": {"n": 3}})
            assert runner.status(third) == "cancelled"
            runner.advance(timedelta(minutes=10))
            assert [runner.status(r) for r in (first, second)] == ["completed", "sleeping"]
            assert started_at_op(runner, second, "Sleep") == T0 + timedelta(minutes=1)
            [failed] = runner.send({"name": "h/break"})
            assert runner.status(failed) == "failed"
            [handled] = [r for r, fn, _ in runner.runs() if fn == "broken-failure"]
            assert runner.result(handled) == {"function_id": "shop-broken", "message": "nope"}


def started_at_op(runner: LocalRunner, run_id: str, op: str) -> datetime:
    return next(e.at for e in runner.history(run_id) if e.op == op)


def test_a_cancelled_invoked_run_resumes_its_caller_as_the_server_does() -> None:
    @function(id="child", trigger=Trigger(event="child/never"),
              cancel=Cancel(event="child/stop"))
    def child(ctx: Context, step: Step) -> Any:
        step.sleep("nap", "1h")
        return "slept"

    @function(id="parent", trigger=Trigger(event="parent/go"))
    def parent(ctx: Context, step: Step) -> Any:
        got = step.invoke("call", function=child, timeout="2h")
        return got["_inngest"]["status"] if isinstance(got, dict) else got

    runner = runner_for(child, parent)
    [run] = runner.send({"name": "parent/go"})
    assert runner.status(run) == "invoking"
    runner.send({"name": "child/stop"})
    [kid] = [r for r, fn, _ in runner.runs() if fn == "child"]
    assert runner.status(kid) == "cancelled"
    assert (runner.status(run), runner.result(run)) == ("completed", "Cancelled")
    assert ("call", "InvokeCancelled") in [(e.step, e.op) for e in runner.history(run)]


def test_invoked_runs_and_sent_events_go_through_flow_control() -> None:
    order: list[int] = []

    @function(id="worker", trigger=Trigger(event="w/never"), concurrency=1)
    def worker(ctx: Context, step: Step) -> Any:
        n = ctx.event["data"]["n"]
        step.step("a", lambda: order.append(n))
        step.sleep("nap", "1m")
        step.step("b", lambda: order.append(n))
        return n

    @function(id="limited", trigger=Trigger(event="l/go"),
              rate_limit=RateLimit(limit=1, period="1h"))
    def limited(ctx: Context, step: Step) -> Any:
        return ctx.event["data"]["n"]

    @function(id="boss", trigger=Trigger(event="boss/go"))
    def boss(ctx: Context, step: Step) -> Any:
        n = ctx.event["data"]["n"]
        step.send_event("tell", {"name": "l/go", "data": {"n": n}})
        return step.invoke("work", function=worker, data={"n": n})

    runner = runner_for(worker, limited, boss)
    runner.accept([{"name": "boss/go", "data": {"n": n}} for n in (1, 2)])
    runner.run_until_idle()
    runner.fast_forward()
    bosses = [r for r, fn, _ in runner.runs() if fn == "boss"]
    assert sorted(runner.result(r) for r in bosses) == [1, 2]
    # The rate limit let one sent event through.
    assert len([r for r, fn, _ in runner.runs() if fn == "limited"]) == 1
    assert [reason for _, reason, _, _ in runner.skipped()] == ["rate_limit"]
    # Sleeping runs free their slot, so both invoked runs start before either ends.
    assert order == [1, 2, 1, 2]


# ---------------------------------------------------------------------- the run command


FLOW_FILE = '''
from inngest_core.sdk import Debounce, RateLimit, Timeouts, Trigger, function

@function(id="capped", trigger=Trigger(event="cli/capped"), timeouts=Timeouts(finish="10m"))
def capped(ctx, step):
    step.sleep("nap", "1h")

@function(id="settle", trigger=Trigger(event="cli/settle"), debounce=Debounce(period="5m"))
def settle(ctx, step):
    return ctx.event["data"]

@function(id="once", trigger=Trigger(event="cli/once"), rate_limit=RateLimit(limit=1, period="1h"))
def once(ctx, step):
    return 1
'''


def test_the_run_command_shows_flow_control(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from inngest_core.cli import main

    path = tmp_path / "flow.py"
    path.write_text(FLOW_FILE)
    assert main(["run", str(path), "--fast-forward", "--event", '{"name": "cli/capped"}']) == 0
    out = capsys.readouterr().out
    assert "capped: cancelled" in out
    assert 'RunCancelled  result={"reason": "timeouts.finish", "timeout": "10m"}' in out
    assert main(["run", str(path), "--event", '{"name": "cli/settle"}']) == 0
    assert "no run started yet: 'cli/settle' is held by debounce" in capsys.readouterr().out
    assert main(["run", str(path), "--fast-forward", "--event",
                 '{"name": "cli/settle", "data": {"n": 1}}']) == 0
    assert "settle: completed" in capsys.readouterr().out
    db = str(tmp_path / "runs.db")
    assert main(["run", str(path), "--db", db, "--event", '{"name": "cli/once"}']) == 0
    assert "once: completed" in capsys.readouterr().out
    assert main(["run", str(path), "--db", db, "--event",
                 '{"name": "cli/once", "id": "e2"}']) == 0
    assert capsys.readouterr().out == "skipped once: rate_limit (event e2)\n"


def test_a_schedule_removed_from_a_function_is_forgotten_on_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "crons.db")
    clock = ManualClock(T0)
    fired: list[str] = []

    def body(ctx: Context, step: Step) -> Any:
        fired.append(ctx.event["data"]["cron"])

    both = function(id="c", trigger=[Trigger(cron="0 * * * *"), Trigger(cron="30 * * * *")])(body)
    with LocalRunner([both], db=db, clock=clock) as runner:
        runner.advance(timedelta(minutes=1))
    one = function(id="c", trigger=Trigger(cron="0 * * * *"))(body)
    with LocalRunner([one], db=db, clock=clock) as runner:
        runner.advance(timedelta(hours=1))
        assert runner.next_due() == T0 + timedelta(hours=2)
    assert fired == ["0 * * * *"]


def test_an_event_id_starts_one_run_per_function_per_24h() -> None:
    @function(id="e", trigger=Trigger(event="e/go"))
    def e(ctx: Context, step: Step) -> Any:
        return 1

    @function(id="e2", trigger=Trigger(event="e/go"))
    def e2(ctx: Context, step: Step) -> Any:
        return 2

    runner = runner_for(e, e2)
    assert len(runner.send({"name": "e/go", "id": "same"})) == 2
    assert runner.send({"name": "e/go", "id": "same"}) == []
    assert len(runner.send({"name": "e/go"})) == 2  # ids the runner gives are unique
    runner.advance(timedelta(hours=24))
    assert len(runner.send({"name": "e/go", "id": "same"})) == 2
    assert [(fn, reason) for fn, reason, _, _ in runner.skipped()] == [
        ("e", "idempotency"), ("e2", "idempotency")]


def test_a_repeated_event_costs_no_rate_limit_capacity() -> None:
    @function(id="rl", trigger=Trigger(event="rl/go"),
              rate_limit=RateLimit(limit=2, period="1h"))
    def rl(ctx: Context, step: Step) -> Any:
        return 1

    # GCRA with the server's burst of limit // 10 = 0: one run, then one per 30 minutes.
    runner = runner_for(rl)
    assert len(runner.send({"name": "rl/go", "id": "a"})) == 1
    runner.advance(timedelta(minutes=30))
    assert runner.send({"name": "rl/go", "id": "a"}) == []
    assert len(runner.send({"name": "rl/go", "id": "b"})) == 1
    assert runner.send({"name": "rl/go", "id": "c"}) == []
    assert [reason for _, reason, _, _ in runner.skipped()] == ["idempotency", "rate_limit"]


CRASHY_FLOW = '''
import json, sys, time
from datetime import datetime, timezone
from inngest_core.sdk import LocalRunner, ManualClock, Throttle, Trigger, function

db, log, phase = sys.argv[1], sys.argv[2], sys.argv[3]
most = [0]

@function(id="bulk", trigger=Trigger(event="bulk/go"), concurrency=2,
          throttle=Throttle(limit=50, period="1s", burst=10))
def bulk(ctx, step):
    n = ctx.event["data"]["n"]

    def work():
        held = runner.store.conn.execute("SELECT COUNT(*) FROM flow_slots").fetchone()[0]
        most[0] = max(most[0], held)
        with open(log, "a") as out:
            out.write(f"{n}\\n")
        time.sleep(0.005)
        return n

    step.step("a", work)
    return step.step("b", lambda: n)

runner = LocalRunner([bulk], db=db, clock=ManualClock(datetime(2024, 1, 1, tzinfo=timezone.utc)))
if phase == "first":
    runner.send([{"name": "bulk/go", "data": {"n": n}} for n in range(200)])
runner.fast_forward()
slots = runner.store.conn.execute("SELECT COUNT(*) FROM flow_slots").fetchone()[0]
print(json.dumps({"runs": runner.runs(), "most": most[0], "slots": slots,
                  "results": sorted(runner.result(r) for r, _, _ in runner.runs())}))
'''


def test_a_sigkilled_runner_resumes_its_flow_queue(tmp_path: Path) -> None:
    import json
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "crashy.py"
    script.write_text(CRASHY_FLOW)
    db, log = str(tmp_path / "crash.db"), tmp_path / "steps.log"
    log.write_text("")
    child = subprocess.Popen([sys.executable, str(script), db, str(log), "first"],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(log.read_text().split()) < 40:
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the child never got going"
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    before = log.read_text().split()
    assert 40 <= len(before) < 200

    done = subprocess.run([sys.executable, str(script), db, str(log), "second"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert len(report["runs"]) == 200
    assert {status for _, _, status in report["runs"]} == {"completed"}
    assert report["results"] == list(range(200))
    assert report["most"] <= 2 and report["slots"] == 0
    logged = [int(n) for n in log.read_text().split()]
    assert sorted(set(logged)) == list(range(200))
    # At most the step under way when the process died runs again.
    assert len(logged) - 200 <= 1
