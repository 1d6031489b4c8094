"""Function options (issue 15): valid forms, registration fragments, and the exact error raised
at definition time for every range bound, bad type and bad expression."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import inngest_core
from inngest_core.sdk import (App, Batch, Cancel, Concurrency, Debounce, Function,
                              FunctionConfigError, FunctionOptions, Priority, RateLimit,
                              Singleton, Throttle, Timeouts, Trigger, function)
from inngest_core.sdk.protocol import call_request

EVENT = Trigger(event="shop/order")


def noop(ctx: Any, step: Any) -> None:
    return None


def error(make: Any) -> str:
    with pytest.raises(FunctionConfigError) as info:
        make()
    return str(info.value)


# ---------------------------------------------------------------- valid forms


def test_every_option_to_config() -> None:
    assert Concurrency(limit=0).to_config() == {"limit": 0}
    assert Concurrency(limit=3, key="event.data.account", scope="env").to_config() == {
        "limit": 3, "key": "event.data.account", "scope": "env"}
    assert Throttle(limit=2, period=timedelta(seconds=90), burst=0).to_config() == {
        "limit": 2, "period": "1m30s", "burst": 0}
    assert RateLimit(limit=5, period="PT24H", key="event.data.id").to_config() == {
        "limit": 5, "period": "1d", "key": "event.data.id"}
    assert Debounce(period="7d", key="event.data.id", timeout="1w1s").to_config() == {
        "period": "1w", "key": "event.data.id", "timeout": "1w1s"}
    assert Priority(run="event.data.vip ? 600 : 0").to_config() == {
        "run": "event.data.vip ? 600 : 0"}
    assert Batch(max_size=2, timeout="1s", key="event.data.user").to_config() == {
        "maxSize": 2, "timeout": "1s", "key": "event.data.user"}
    assert Batch(max_size=100, timeout=timedelta(minutes=1)).to_config() == {
        "maxSize": 100, "timeout": "1m"}
    assert Cancel(event="a/b", timeout="365d").to_config() == {"event": "a/b",
                                                               "timeout": "52w1d"}
    assert Timeouts(start="1s", finish=timedelta(hours=2)).to_config() == {
        "start": "1s", "finish": "2h"}
    assert Singleton(mode="cancel").to_config() == {"mode": "cancel"}


def test_durations_and_programs_are_kept_for_the_runner() -> None:
    throttle = Throttle(limit=1, period="2m", key="event.data.user_id")
    assert throttle.period_ns == 120 * 10**9
    assert throttle.key_program is not None
    assert throttle.key_program.evaluate({"event": {"data": {"user_id": "u1"}}}) == "u1"
    cancel = Cancel(event="a/b", if_="event.data.id == async.data.id")
    assert cancel.if_program is not None and cancel.if_program.variables == {"event", "async"}
    assert Timeouts(finish="1h").start_ns is None
    assert Debounce(period="1m").timeout_ns is None


def test_options_are_frozen_and_compare_by_their_fields() -> None:
    throttle = Throttle(limit=1, period="1m", key="event.data.a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        throttle.limit = 2  # type: ignore[misc]
    assert throttle == Throttle(limit=1, period="1m", key="event.data.a")
    assert hash(throttle) == hash(Throttle(limit=1, period="1m", key="event.data.a"))
    assert repr(throttle) == ("Throttle(limit=1, period='1m', burst=1, "
                              "key='event.data.a')")
    with pytest.raises(TypeError):
        Throttle(1, "1m")  # type: ignore[misc]


def test_function_takes_every_option() -> None:
    @function(id="order", name="Order", retries=2,
              trigger=[Trigger(event="shop/order", if_="event.data.total > 0"),
                       Trigger(cron="TZ=Europe/Paris 0 9 * * *", jitter="30s")],
              concurrency=[Concurrency(limit=5), Concurrency(limit=1, key="event.data.user",
                                                             scope="account")],
              throttle=Throttle(limit=10, period="1m", burst=2, key="event.data.user"),
              debounce=Debounce(period="5s", timeout="1m"),
              priority=Priority(run="event.data.vip ? 60 : 0"),
              idempotency="event.data.order_id",
              cancel=[Cancel(event="shop/order.cancelled", if_="event.data.id == async.data.id",
                             timeout="1d")],
              timeouts=Timeouts(start="10m", finish="1h"),
              singleton=Singleton(mode="skip", key="event.data.user"),
              on_failure=noop)
    def order(ctx: Any, step: Any) -> None:
        return None

    assert order.options.throttle is not None and order.options.throttle.burst == 2
    assert order.trigger is order.triggers[0] and len(order.triggers) == 2
    doc = order.config("shop", "http://h/api")
    assert doc["triggers"] == [
        {"event": "shop/order", "expression": "event.data.total > 0"},
        {"cron": "TZ=Europe/Paris 0 9 * * *", "jitter": "30s"}]
    assert {key: doc[key] for key in doc if key not in ("id", "name", "triggers", "steps")} == {
        "concurrency": [{"limit": 5}, {"limit": 1, "key": "event.data.user",
                                       "scope": "account"}],
        "throttle": {"limit": 10, "period": "1m", "burst": 2, "key": "event.data.user"},
        "debounce": {"period": "5s", "timeout": "1m"},
        "priority": {"run": "event.data.vip ? 60 : 0"},
        "idempotency": "event.data.order_id",
        "cancel": [{"event": "shop/order.cancelled", "if": "event.data.id == async.data.id",
                    "timeout": "1d"}],
        "timeouts": {"start": "10m", "finish": "1h"},
        "singleton": {"mode": "skip", "key": "event.data.user"},
    }
    json.dumps(doc)


def test_concurrency_forms() -> None:
    assert FunctionOptions.of(concurrency=4).concurrency == (Concurrency(limit=4),)
    one = Concurrency(limit=2, key="event.data.a")
    assert FunctionOptions.of(concurrency=one).concurrency == (one,)
    assert FunctionOptions.of(concurrency=(one, one)).concurrency == (one, one)
    assert FunctionOptions.of(concurrency=[]).to_config() == {}
    assert FunctionOptions.of(cancel=Cancel(event="a")).cancel == (Cancel(event="a"),)
    assert FunctionOptions().to_config() == {}


# ---------------------------------------------------------------- ranges, at and past each bound


def test_duration_bounds() -> None:
    # Each bound itself is allowed.
    Throttle(limit=1, period="1s")
    RateLimit(limit=1, period="1s")
    RateLimit(limit=1, period="24h")
    Debounce(period="1s")
    Debounce(period=timedelta(days=7))
    Batch(max_size=2, timeout="60s")
    Cancel(event="a", timeout="1s")
    Cancel(event="a", timeout=timedelta(days=365))
    Timeouts(start="1s")
    Trigger(cron="@daily", jitter="0s")
    Trigger(cron="@daily", jitter="1s")
    Trigger(cron="@daily", jitter="5m")
    assert error(lambda: Throttle(limit=1, period="999ms")) == (
        'throttle.period: "999ms" is out of range: it must be at least 1s')
    assert error(lambda: Throttle(limit=1, period="1m500ms")) == (
        'throttle.period: "1m500ms" is not a whole number of seconds (Inngest keeps a '
        "throttle period in seconds)")
    assert error(lambda: RateLimit(limit=1, period="24h1s")) == (
        'rate_limit.period: "24h1s" is out of range: it must be from 1s to 24h')
    assert error(lambda: RateLimit(limit=1, period="0s")) == (
        'rate_limit.period: "0s" is out of range: it must be from 1s to 24h')
    assert error(lambda: Debounce(period="999999999ns")) == (
        'debounce.period: "999999999ns" is out of range: it must be from 1s to 7d')
    assert error(lambda: Debounce(period=timedelta(days=7, microseconds=1))) == (
        "debounce.period: datetime.timedelta(days=7, microseconds=1) is out of range: "
        "it must be from 1s to 7d")
    assert error(lambda: Debounce(period="1m", timeout="0.5s")) == (
        'debounce.timeout: "0.5s" is out of range: it must be at least 1s')
    assert error(lambda: Batch(max_size=2, timeout="61s")) == (
        'batch_events.timeout: "61s" is out of range: it must be from 1s to 60s')
    assert error(lambda: Batch(max_size=2, timeout="900ms")) == (
        'batch_events.timeout: "900ms" is out of range: it must be from 1s to 60s')
    assert error(lambda: Cancel(event="a", timeout="365d1s")) == (
        'cancel.timeout: "365d1s" is out of range: it must be from 1s to 365d')
    assert error(lambda: Timeouts(finish="-1h")) == (
        'timeouts.finish: "-1h" is out of range: it must be at least 1s')
    assert error(lambda: Timeouts(start="500ms")) == (
        'timeouts.start: "500ms" is out of range: it must be at least 1s')
    assert error(lambda: Trigger(cron="@daily", jitter="500ms")) == (
        'trigger.jitter: "500ms" is out of range: it must be 0s, or from 1s to 5m')
    assert error(lambda: Trigger(cron="@daily", jitter="5m1s")) == (
        'trigger.jitter: "5m1s" is out of range: it must be 0s, or from 1s to 5m')


def test_number_bounds() -> None:
    Batch(max_size=100, timeout="1s")
    assert error(lambda: Batch(max_size=1, timeout="1s")) == (
        "batch_events.max_size: 1 is out of range: it must be from 2 to 100")
    assert error(lambda: Batch(max_size=101, timeout="1s")) == (
        "batch_events.max_size: 101 is out of range: it must be from 2 to 100")
    assert error(lambda: Throttle(limit=0, period="1s")) == (
        "throttle.limit: 0 is out of range: it must be at least 1")
    assert error(lambda: Throttle(limit=1, period="1s", burst=-1)) == (
        "throttle.burst: -1 is out of range: it must be at least 0")
    assert error(lambda: RateLimit(limit=0, period="1s")) == (
        "rate_limit.limit: 0 is out of range: it must be at least 1")
    assert error(lambda: Concurrency(limit=-1)) == (
        "concurrency.limit: -1 is out of range: it must be at least 0")
    three = [Concurrency(limit=1)] * 3
    assert error(lambda: FunctionOptions.of(concurrency=three)) == (
        "concurrency: 3 given: Inngest allows at most 2")
    FunctionOptions.of(cancel=[Cancel(event="a")] * 5)
    assert error(lambda: FunctionOptions.of(cancel=[Cancel(event="a")] * 6)) == (
        "cancel: 6 given: Inngest allows at most 5")


def test_triggers() -> None:
    ten = [Trigger(event=f"e/{n}") for n in range(9)] + [Trigger(cron="@hourly")]
    assert len(function(id="f", trigger=ten)(noop).triggers) == 10
    eleven = ten + [Trigger(event="e/10")]
    assert error(lambda: function(id="f", trigger=eleven)) == (
        "trigger: 11 triggers given: Inngest takes from 1 to 10")
    assert error(lambda: function(id="f", trigger=[])) == (
        "trigger: 0 triggers given: Inngest takes from 1 to 10")
    assert error(lambda: function(id="f", trigger=[Trigger(event="a"), Trigger(event="a")])) == (
        "trigger: the trigger Trigger(event='a') is given twice")
    # Another expression makes another trigger.
    function(id="f", trigger=[Trigger(event="a"), Trigger(event="a", if_="event.data.x")])
    assert error(lambda: function(id="f", trigger=[Trigger(cron="@daily"),
                                                    Trigger(cron="@daily", jitter="1m")])) == (
        "trigger: the cron schedule '@daily' is given twice")
    with pytest.raises(TypeError, match="trigger must be a Trigger or a list of them, not a "
                                        "list holding str"):
        function(id="f", trigger=[EVENT, "a"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="an event Trigger takes no jitter"):
        Trigger(event="a", jitter="1m")
    Trigger(event="e" * 255)
    assert error(lambda: Trigger(event="e" * 256)) == (
        "trigger.event: the event name is 256 characters long: Inngest allows at most 255")
    assert error(lambda: Trigger(cron="@daily", jitter=60)) == (  # type: ignore[arg-type]
        'trigger.jitter: expected a duration (a str such as "1h30m", or a timedelta), not int')
    assert repr(Trigger(cron="@daily", jitter=timedelta(seconds=90))) == (
        "Trigger(cron='@daily', jitter='1m30s')")


# ---------------------------------------------------------------- types, choices, expressions


def test_bad_types_and_choices() -> None:
    assert error(lambda: Throttle(limit="1", period="1s")) == (  # type: ignore[arg-type]
        "throttle.limit: expected an int, not str")
    assert error(lambda: Throttle(limit=True, period="1s")) == (
        "throttle.limit: expected an int, not bool")
    assert error(lambda: Debounce(period=5)) == (  # type: ignore[arg-type]
        'debounce.period: expected a duration (a str such as "1h30m", or a timedelta), not int')
    assert error(lambda: Debounce(period="5 minutes")) == (
        'debounce.period: unexpected character " " at position 1 in duration "5 minutes"')
    assert error(lambda: RateLimit(limit=1, period="1x")) == (
        'rate_limit.period: unknown unit "x" at position 1 in duration "1x"')
    assert error(lambda: Singleton(mode="once")) == (  # type: ignore[arg-type]
        'singleton.mode: "once" is not one of "skip", "cancel"')
    assert error(lambda: Concurrency(limit=1, scope="app")) == (  # type: ignore[arg-type]
        'concurrency.scope: "app" is not one of "fn", "env", "account"')
    assert error(lambda: Concurrency(limit=1, scope="env")) == (
        'concurrency.key: an "env"-scoped limit needs a key')
    assert error(lambda: Cancel(event="")) == (
        'cancel.event: expected an event name (a non-empty str), not ""')
    assert error(lambda: Timeouts()) == "timeouts: give start, finish or both"
    assert error(lambda: function(id="f", trigger=EVENT,
                                  throttle={"limit": 1})) == (  # type: ignore[arg-type]
        "throttle: expected a Throttle, not dict")
    assert error(lambda: function(id="f", trigger=EVENT, concurrency="5")) == (  # type: ignore[arg-type]
        'concurrency: expected a Concurrency or a list of them, not "5"')
    assert error(lambda: function(id="f", trigger=EVENT, on_failure="x")(noop)) == (  # type: ignore[arg-type]
        "on_failure: expected a function fn(ctx, step), not str")


@pytest.mark.parametrize("make,option", [
    (lambda src: Concurrency(limit=1, key=src), "concurrency.key"),
    (lambda src: Throttle(limit=1, period="1s", key=src), "throttle.key"),
    (lambda src: RateLimit(limit=1, period="1s", key=src), "rate_limit.key"),
    (lambda src: Debounce(period="1s", key=src), "debounce.key"),
    (lambda src: Priority(run=src), "priority.run"),
    (lambda src: Batch(max_size=2, timeout="1s", key=src), "batch_events.key"),
    (lambda src: Batch(max_size=2, timeout="1s", if_=src), "batch_events.if_"),
    (lambda src: Cancel(event="a", if_=src), "cancel.if_"),
    (lambda src: Singleton(mode="skip", key=src), "singleton.key"),
    (lambda src: FunctionOptions.of(idempotency=src), "idempotency"),
    (lambda src: Trigger(event="a", if_=src), "trigger.if_"),
])
def test_expression_errors_name_the_option_and_show_the_caret(make: Any, option: str) -> None:
    assert error(lambda: make("event.data +* 1")) == (
        f"{option}: unexpected \"*\" at line 1, column 13\n"
        "  event.data +* 1\n"
        "              ^")
    with pytest.raises(inngest_core.ExpressionSyntaxError) as plain:
        inngest_core.compile_expression("event.data.id ==")
    assert error(lambda: make("event.data.id ==")) == f"{option}: {plain.value}"
    assert error(lambda: make(42)) == f"{option}: expected an expression (a str), not int"


def test_combinations_the_server_refuses() -> None:
    batch = Batch(max_size=10, timeout="10s")
    for name, value in (("cancel", Cancel(event="a")), ("debounce", Debounce(period="1s")),
                        ("singleton", Singleton(mode="skip")),
                        ("priority", Priority(run="1"))):
        assert error(lambda: function(id="f", trigger=EVENT, batch_events=batch,
                                      **{name: value})) == (
            f"batch_events: Inngest does not batch a function that has {name}")
    assert error(lambda: function(id="f", trigger=EVENT, idempotency="event.data.id",
                                  rate_limit=RateLimit(limit=1, period="1h"))) == (
        "idempotency: Inngest replaces rate_limit with idempotency: give one of them")


def test_error_attributes() -> None:
    with pytest.raises(FunctionConfigError) as info:
        Debounce(period="8d")
    assert (info.value.option, info.value.value) == ("debounce.period", "8d")
    assert isinstance(info.value, ValueError)


# ---------------------------------------------------------------- on_failure, served


def test_on_failure_is_served_as_its_own_function() -> None:
    seen: list[Any] = []

    def failed(ctx: Any, step: Any) -> str:
        seen.append(ctx.event["data"]["function_id"])
        return "noted"

    @function(id="charge", name="Charge", trigger=EVENT, on_failure=failed)
    def charge(ctx: Any, step: Any) -> None:
        return None

    app = App("shop", [charge], dev=True)
    configs = app.configs("http://h/api")
    assert [doc["id"] for doc in configs] == ["shop-charge", "shop-charge-failure"]
    failure = configs[1]
    assert failure["name"] == "Charge (failure)"
    assert failure["triggers"] == [{"event": "inngest/function.failed",
                                    "expression": "event.data.function_id == 'shop-charge'"}]
    assert failure["steps"]["step"]["retries"] == {"attempts": 0}
    assert failure["steps"]["step"]["runtime"]["url"] == (
        "http://h/api?fnId=shop-charge-failure&stepId=step")
    event = {"name": "inngest/function.failed", "data": {"function_id": "shop-charge"}}
    assert app.functions["shop-charge-failure"].trigger.matches(event)
    body = json.dumps(call_request(event, run_id="r")).encode()
    status, _, answer = app.handle_http(
        "POST", "http://h/api?fnId=shop-charge-failure&stepId=step", {}, body)
    assert (status, json.loads(answer), seen) == (200, "noted", ["shop-charge"])
    assert charge.failure_function("shop") is not None
    assert function(id="x", trigger=EVENT)(noop).failure_function("shop") is None


def test_a_failure_handler_id_clash_is_refused() -> None:
    from inngest_core.sdk import ConfigurationError

    main = function(id="charge", trigger=EVENT, on_failure=noop)(noop)
    other = function(id="charge-failure", trigger=EVENT)(noop)
    with pytest.raises(ConfigurationError, match="two functions share the id 'charge-failure'"):
        App("shop", [main, other], dev=True)


def test_function_object_options() -> None:
    fn = Function(noop, slug="f", trigger=EVENT,
                  options=FunctionOptions.of(throttle=Throttle(limit=1, period="1s")))
    assert fn.options.throttle == Throttle(limit=1, period="1s")
    with pytest.raises(TypeError, match="options must be FunctionOptions, not dict"):
        Function(noop, slug="f", trigger=EVENT, options={})  # type: ignore[arg-type]


# ---------------------------------------------------------------- typing


def test_mypy_strict_catches_a_misspelt_field(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    snippet = tmp_path / "snippet.py"
    snippet.write_text(textwrap.dedent("""\
        from inngest_core.sdk import Singleton, Throttle, Trigger, function

        @function(id="ok", trigger=Trigger(event="a"), throttle=Throttle(limit=1, period="1m"))
        def ok(ctx: object, step: object) -> None:
            return None

        Throttle(limt=1, period="1m")
        Singleton(mode="once")
        """))
    # From the test run's directory, as the async tools' mypy test: mypy finds the package
    # there (a checkout) or installed (py.typed) beside this interpreter.
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--follow-imports=silent",
         "--no-error-summary", "--hide-error-context", "--cache-dir", str(tmp_path / "cache"),
         str(snippet)],
        capture_output=True, text=True, timeout=300)
    errors = [line.split(": error: ", 1)[1] for line in done.stdout.splitlines()
              if ": error: " in line]
    assert done.returncode == 1, done.stdout + done.stderr
    assert errors == [
        'Unexpected keyword argument "limt" for "Throttle"; did you mean "limit"?  [call-arg]',
        'Argument "mode" to "Singleton" has incompatible type "Literal[\'once\']"; expected '
        '"Literal[\'skip\', \'cancel\']"  [arg-type]',
    ], done.stdout
