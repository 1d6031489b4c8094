"""Registration cross-check of the function options against the official Inngest Python SDK
(``inngest`` 0.5.19, test-only): a table of functions declared with every option in both
SDKs, whose registration documents -- the function's own and its ``on_failure`` function's --
are compared field by field.

Deliberate differences, each applied by :func:`official_as_ours` and nowhere else:

- ``null``: the official SDK writes every unset field as ``null`` (``"key": null``,
  ``"expression": null``, ``"throttle": null``, ...); we leave it out.  Inngest's server reads
  both the same (pointer fields with ``omitempty``: inngest/inngest pkg/sdk/function.go,
  pkg/inngest/function.go, trigger.go, concurrency.go, batch.go).
- empty lists: the official failure function writes ``"cancel": []`` and
  ``"concurrency": []``; we leave them out (the server reads ``[]`` and absent the same:
  pkg/inngest/concurrency.go ``UnmarshalJSON``, ``Cancel []Cancel``).
- duration text: the official SDK writes the largest unit that divides the duration
  (``"90m"``, ``"36h"``); we write the canonical form of :func:`inngest_core.format_duration`
  (``"1h30m"``, ``"1d12h"``).  The server parses both to the same duration
  (``str2duration``; a batch timeout, at most 60s, with Go's ``time.ParseDuration``, which
  reads both forms too), so durations are compared by value, and the test lists the rows
  where the texts differ.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from inngest_core import parse_duration_ns
from inngest_core.sdk import (Batch, Cancel, Concurrency, Debounce, Priority, RateLimit,
                              Singleton, Throttle, Timeouts, Trigger, function)

inngest = pytest.importorskip("inngest")

APP = "shop"
URL = "http://h/api/inngest"
#: The registration fields that hold a duration, by path from a function document.
DURATIONS = {("throttle", "period"), ("rateLimit", "period"), ("debounce", "period"),
             ("debounce", "timeout"), ("batchEvents", "timeout"), ("timeouts", "start"),
             ("timeouts", "finish"), ("cancel", "timeout"), ("triggers", "jitter")}


def body(ctx: Any, step: Any = None) -> None:
    return None


def official_body(ctx: Any) -> None:
    return None


def row_everything() -> tuple[Any, Any]:
    ours = function(
        id="order-flow", name="Order flow", retries=3,
        trigger=[Trigger(event="shop/order.placed", if_="event.data.total > 100"),
                 Trigger(event="shop/order.updated"),
                 Trigger(cron="TZ=Europe/Paris 0 9 * * 1-5", jitter="30s")],
        concurrency=[Concurrency(limit=10),
                     Concurrency(limit=2, key="event.data.customer_id", scope="env")],
        throttle=Throttle(limit=20, period="1m", burst=5, key="event.data.customer_id"),
        debounce=Debounce(period="10s", key="event.data.customer_id", timeout="2m"),
        priority=Priority(run="event.data.vip ? 300 : 0"),
        idempotency="event.data.order_id",
        cancel=[Cancel(event="shop/order.cancelled", if_="event.data.id == async.data.id",
                       timeout="7d"),
                Cancel(event="shop/store.closed")],
        timeouts=Timeouts(start="5m", finish="2h"),
        singleton=Singleton(mode="cancel", key="event.data.customer_id"),
        on_failure=body)(body)
    theirs = dict(
        fn_id="order-flow", name="Order flow", retries=3,
        trigger=[inngest.TriggerEvent(event="shop/order.placed",
                                      expression="event.data.total > 100"),
                 inngest.TriggerEvent(event="shop/order.updated"),
                 inngest.TriggerCron(cron="TZ=Europe/Paris 0 9 * * 1-5", jitter="30s")],
        concurrency=[inngest.Concurrency(limit=10),
                     inngest.Concurrency(limit=2, key="event.data.customer_id", scope="env")],
        throttle=inngest.Throttle(limit=20, period=timedelta(minutes=1), burst=5,
                                  key="event.data.customer_id"),
        debounce=inngest.Debounce(period=timedelta(seconds=10), key="event.data.customer_id",
                                  timeout=timedelta(minutes=2)),
        priority=inngest.Priority(run="event.data.vip ? 300 : 0"),
        idempotency="event.data.order_id",
        cancel=[inngest.Cancel(event="shop/order.cancelled",
                               if_exp="event.data.id == async.data.id",
                               timeout=timedelta(days=7)),
                inngest.Cancel(event="shop/store.closed")],
        timeouts=inngest.Timeouts(start=timedelta(minutes=5), finish=timedelta(hours=2)),
        singleton=inngest.Singleton(mode="cancel", key="event.data.customer_id"),
        on_failure=official_body)
    return ours, theirs


def row_batch() -> tuple[Any, Any]:
    ours = function(
        id="import", retries=0, trigger=Trigger(event="crm/contact.imported"),
        concurrency=5,
        batch_events=Batch(max_size=100, timeout="60s", key="event.data.account_id",
                           if_="event.data.bulk == true"),
        rate_limit=RateLimit(limit=1000, period=timedelta(hours=24), key="event.data.account_id"),
        throttle=Throttle(limit=1, period="1s"),
        timeouts=Timeouts(finish="30m"))(body)
    theirs = dict(
        fn_id="import", retries=0, trigger=inngest.TriggerEvent(event="crm/contact.imported"),
        concurrency=[inngest.Concurrency(limit=5)],
        batch_events=inngest.Batch(max_size=100, timeout=timedelta(seconds=60),
                                   key="event.data.account_id",
                                   if_exp="event.data.bulk == true"),
        rate_limit=inngest.RateLimit(limit=1000, period=timedelta(hours=24),
                                     key="event.data.account_id"),
        throttle=inngest.Throttle(limit=1, period=timedelta(seconds=1)),
        timeouts=inngest.Timeouts(finish=timedelta(minutes=30)))
    return ours, theirs


def row_duration_texts() -> tuple[Any, Any]:
    ours = function(
        id="digest", retries=1, trigger=Trigger(event="mail/digest.requested"),
        debounce=Debounce(period="1h30m", timeout="PT36H"),
        rate_limit=RateLimit(limit=1, period="1d"),
        timeouts=Timeouts(start=timedelta(days=2, hours=12), finish="1w"),
        cancel=Cancel(event="mail/unsubscribed", timeout="90s"),
        concurrency=Concurrency(limit=1, key="event.data.user_id", scope="account"),
        singleton=Singleton(mode="skip"))(body)
    theirs = dict(
        fn_id="digest", retries=1, trigger=inngest.TriggerEvent(event="mail/digest.requested"),
        debounce=inngest.Debounce(period=timedelta(minutes=90), timeout=timedelta(hours=36)),
        rate_limit=inngest.RateLimit(limit=1, period=timedelta(days=1)),
        timeouts=inngest.Timeouts(start=timedelta(days=2, hours=12), finish=timedelta(weeks=1)),
        cancel=[inngest.Cancel(event="mail/unsubscribed", timeout=timedelta(seconds=90))],
        concurrency=[inngest.Concurrency(limit=1, key="event.data.user_id", scope="account")],
        singleton=inngest.Singleton(mode="skip"))
    return ours, theirs


def row_cron() -> tuple[Any, Any]:
    ours = function(id="nightly", name="Nightly report", retries=2,
                    trigger=[Trigger(cron="0 2 * * *", jitter="5m"), Trigger(cron="@hourly")],
                    priority=Priority(run="-600"), on_failure=body)(body)
    theirs = dict(fn_id="nightly", name="Nightly report", retries=2,
                  trigger=[inngest.TriggerCron(cron="0 2 * * *", jitter="5m"),
                           inngest.TriggerCron(cron="@hourly")],
                  priority=inngest.Priority(run="-600"), on_failure=official_body)
    return ours, theirs


ROWS: dict[str, Callable[[], tuple[Any, Any]]] = {
    "everything": row_everything,
    "batch": row_batch,
    "duration-texts": row_duration_texts,
    "cron": row_cron,
}

#: Where the duration texts differ (same duration): row -> {path: (ours, official)}.
TEXT_DIFFERENCES: dict[str, dict[str, tuple[str, str]]] = {
    "everything": {},
    "batch": {},
    "duration-texts": {
        "[0].debounce.period": ("1h30m", "90m"),
        "[0].debounce.timeout": ("1d12h", "36h"),
        "[0].timeouts.start": ("2d12h", "60h"),
        "[0].cancel[0].timeout": ("1m30s", "90s"),
    },
    "cron": {},
}


def official_configs(kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    client = inngest.Inngest(app_id=APP, is_production=False,
                             api_base_url="http://127.0.0.1:9", logger=logging.getLogger("o"))
    fn = client.create_function(**kwargs)(official_body)
    config = fn.get_config(URL)
    docs = [config.main.model_dump(mode="json", by_alias=True)]
    if config.on_failure is not None:
        docs.append(config.on_failure.model_dump(mode="json", by_alias=True))
    return docs


def official_as_ours(value: Any, path: tuple[str, ...] = ()) -> Any:
    """The official document with the deliberate differences of this module's doc applied:
    ``null`` fields and empty lists left out."""
    if isinstance(value, dict):
        return {key: official_as_ours(item, path + (key,)) for key, item in value.items()
                if item is not None and item != []}
    if isinstance(value, list):
        return [official_as_ours(item, path) for item in value]
    return value


def text_differences(mine: Any, theirs: Any, path: str = "",
                     field: tuple[str, ...] = ()) -> dict[str, tuple[str, str]]:
    """Compare two documents field by field; return where durations are written
    differently (asserting each pair is the same duration) and fail on any other
    difference."""
    if isinstance(mine, dict) and isinstance(theirs, dict):
        assert set(mine) == set(theirs), (path, sorted(set(mine) ^ set(theirs)))
        out: dict[str, tuple[str, str]] = {}
        for key in mine:
            top = field[:1] + (key,) if field else (key,)
            out.update(text_differences(mine[key], theirs[key], f"{path}.{key}", top))
        return out
    if isinstance(mine, list) and isinstance(theirs, list):
        assert len(mine) == len(theirs), path
        out = {}
        for n, (a, b) in enumerate(zip(mine, theirs)):
            out.update(text_differences(a, b, f"{path}[{n}]", field))
        return out
    if mine != theirs and (field[0], field[-1]) in DURATIONS:
        assert parse_duration_ns(mine) == parse_duration_ns(theirs), path
        return {path: (mine, theirs)}
    assert mine == theirs, (path, mine, theirs)
    return {}


@pytest.mark.parametrize("row", sorted(ROWS))
def test_registration_equals_the_official_sdks(row: str) -> None:
    ours, kwargs = ROWS[row]()
    mine = ours.configs(APP, URL)
    theirs = official_configs(kwargs)
    assert [doc["id"] for doc in mine] == [doc["id"] for doc in theirs]
    found = {}
    for n, (a, b) in enumerate(zip(mine, theirs)):
        found.update(text_differences(a, official_as_ours(b), f"[{n}]"))
    assert found == TEXT_DIFFERENCES[row]


def test_the_table_covers_every_option() -> None:
    written: set[str] = set()
    for make in ROWS.values():
        ours, _ = make()
        for doc in ours.configs(APP, URL):
            written |= set(doc)
            written |= {"jitter" for t in doc["triggers"] if "jitter" in t}
            written |= {"expression" for t in doc["triggers"] if "expression" in t}
    assert written >= {"concurrency", "throttle", "rateLimit", "debounce", "priority",
                       "idempotency", "batchEvents", "cancel", "timeouts", "singleton",
                       "jitter", "expression"}
    assert sum(len(make()[0].configs(APP, URL)) > 1 for make in ROWS.values()) == 2


def test_on_failure_matches_the_official_sdk_exactly_but_for_nulls() -> None:
    ours, kwargs = row_cron()
    failure = ours.configs(APP, URL)[1]
    official = official_configs(kwargs)[1]
    assert failure == official_as_ours(official)
    assert failure["id"] == official["id"] == "shop-nightly-failure"
    assert failure["triggers"] == [{"event": "inngest/function.failed",
                                    "expression": "event.data.function_id == 'shop-nightly'"}]
    # The two fields the official SDK writes as empty lists (see the module's doc).
    assert (official["cancel"], official["concurrency"]) == ([], [])
