"""R17: the server's ``Interpolate`` of a pause expression with the triggering event
(``inngest_core._dialect_interpolate``), and the SDK's waits stored through it.  The 500
recorded probes of ``tests/inngest_dialect/interpolate_probes.json`` run in
``test_dialect_inngest_tables.py``; these are the documented cases, one by one."""

from __future__ import annotations

from typing import Any

import pytest

from inngest_core import ExpressionIndex
from inngest_core._dialect_interpolate import interpolate
from inngest_core._expr_dialect import go_quote
from inngest_core.errors import EvaluationError, ExpressionSyntaxError
from inngest_core.sdk.events import as_the_server_reads
from inngest_core.sdk.intake import WaitIndex

ID_VALUE = "event.data.id == async.data.id && async.data.val <= event.data.value"


@pytest.mark.parametrize("source, data, expected", [
    (ID_VALUE, {"id": "ab_1", "value": 1295}, '"ab_1" == async.data.id && async.data.val <= 1295'),
    (ID_VALUE, {"id": "ab_1", "value": 1295.0},
     '"ab_1" == async.data.id && async.data.val <= 1295.0'),
    ("event.data.id == async.data.id && 500 <= event.data.value", {"id": "ab_1", "value": 1295},
     '"ab_1" == async.data.id'),
    # a missing trigger field: the tree parser's second pass (operands reordered, null)
    ("event.data.id == async.data.id && event.data.foo == async.data.foo", {"id": "ab_1"},
     'async.data.id == "ab_1" && async.data.foo == null'),
    ("event.data.id == async.data.id && event.data.foo == 1", {"id": "ab_1"},
     'async.data.id == "ab_1" && null == 1'),
    ("event.data.flag && async.data.x == 1", {"flag": False}, "false"),
    # ... which drops what is not a simple predicate, even into broken text
    ("event.data.id == async.data.id && lowercase(async.data.name) == event.data.missing",
     {"id": "x"}, 'async.data.id == "x"'),
    ("event.data.missing == async.data.x || size(async.data.list) > 2", {},
     "async.data.x == null || "),
    # a literal on the left of an ordering is not mirrored once lifted (the server's order)
    ("event.data.m == async.data.id && 5 < async.data.b", {}, "async.data.id == null && async.data.b < 5"),
    # strings are written with Go's strconv.Quote
    ("event.data.id == async.data.id", {"id": 'a"b'}, '"a\\"b" == async.data.id'),
    ("event.data.id == async.data.id", {"id": "tab\there \x01 é \u200b"},
     '"tab\\there \\x01 é \\u200b" == async.data.id'),
    ("async.data.x == 1", {}, "async.data.x == 1"),  # no "event." at all: as it is
])
def test_interpolate(source: str, data: dict[str, Any], expected: str) -> None:
    assert interpolate(source, {"event": {"data": data}}) == expected


@pytest.mark.parametrize("source, data, error", [
    # cel-go writes a double from 10**6 up as "1e+06.0", which does not parse again
    ("event.data.n == async.data.n", {"n": 1000000.0}, ExpressionSyntaxError),
    ("event.data.n == async.data.n", {"n": 0.00001}, ExpressionSyntaxError),
    # standard CEL's errors abort: a double plus an int, a macro reading the unknown async
    ("event.data.n + 1 == async.data.n", {"n": 1.0}, EvaluationError),
    ("event.data.tags.exists(t, t == async.data.tag)", {"tags": ["a"]}, EvaluationError),
    # a macro left in the residual cannot be written
    ("event.data.zz == async.data.n && async.data.l.exists(x, x == 1)", {}, EvaluationError),
])
def test_interpolate_errors(source: str, data: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        interpolate(source, {"event": {"data": data}})


def test_go_quote() -> None:
    assert go_quote('a"b\\c\n\a\x7f\u00a0😀') == '"a\\"b\\\\c\\n\\a\\x7f\\u00a0😀"'


def test_the_server_reads_json_numbers_as_floats() -> None:
    seen = as_the_server_reads({"name": "a/b", "data": {"n": 5, "xs": [1, True, {"k": 2}]},
                                "id": "e1", "ts": 1700000000000, "v": "1"})
    assert seen == {"name": "a/b", "data": {"n": 5.0, "xs": [1.0, True, {"k": 2.0}]},
                    "user": {}, "id": "e1", "ts": 1700000000000.0, "v": "1"}
    assert type(seen["data"]["xs"][1]) is bool


def test_a_dialect_index_stores_the_interpolated_pause() -> None:
    index = ExpressionIndex(dialect="inngest")
    index.add("w", "event.data.id == async.data.id && event.data.foo == async.data.foo",
              event={"data": {"id": "ab_1"}})
    assert index.match({"data": {"id": "ab_1"}}) == ["w"]  # async.data.foo == null
    assert index.match({"data": {"id": "ab_1", "foo": 1}}) == []
    index.add("q", "event.data.id == async.data.id", event={"data": {"id": 'a"b'}})
    # the escaped literal is lifted raw: the server's pause never matches such an id
    assert index.match({"data": {"id": 'a"b'}}) == []


def test_the_runner_stores_waits_as_the_server_does() -> None:
    waits = WaitIndex()
    trigger = {"name": "a/start", "data": {"n": 5, "big": 1000000}}
    waits.add("r1", 1, "a/done", "event.data.n == async.data.n", trigger)
    assert waits.match({"name": "a/done", "data": {"n": 5}}) == ["r1"]
    # JSON numbers are floats to the server: 1000000 becomes 1e+06.0 and fails to interpolate
    with pytest.raises(ExpressionSyntaxError):
        waits.add("r2", 2, "a/done", "event.data.big == async.data.big", trigger)
    with pytest.raises(EvaluationError, match="no such overload"):
        waits.add("r3", 3, "a/done", "event.data.n + 1 == async.data.n", trigger)


def test_cancellation_is_matched_as_the_server_stores_it() -> None:
    from inngest_core.sdk.flow import cancel_matches

    trigger = {"name": "a/start", "data": {"id": "u1", "big": 1000000}}
    assert cancel_matches("event.data.id == async.data.id", trigger,
                          {"name": "a/stop", "data": {"id": "u1"}})
    assert not cancel_matches("event.data.id == async.data.id", trigger,
                              {"name": "a/stop", "data": {"id": "u2"}})
    # interpolating fails (1e+06.0): the server keeps the expression as written, and with
    # only `async` bound its `event` side is unknown: == is false, != true
    assert not cancel_matches("event.data.big == async.data.big", trigger,
                              {"name": "a/stop", "data": {"big": 1000000}})
    assert not cancel_matches("event.data.big == async.data.big", trigger,
                              {"name": "a/stop", "data": {}})
    assert cancel_matches("event.data.big != async.data.big", trigger,
                          {"name": "a/stop", "data": {"big": 1}})
    # an expression interpolated to false never cancels
    assert not cancel_matches("event.data.id == 'u2' && async.data.x == 1", trigger,
                              {"name": "a/stop", "data": {"x": 1}})
