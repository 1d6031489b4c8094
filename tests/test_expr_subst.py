"""unparse and substitute on syntax trees (shared by both expression twins)."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from inngest_core._expr_subst import literal, substitute, unparse
from inngest_core.errors import EvaluationError, ExpressionLimitError, ExpressionSyntaxError


def _expressions() -> list[str]:
    folder = Path(__file__).parent / "cel-spec"
    found = []
    for path in sorted(folder.glob("*.json")):
        for section in json.loads(path.read_text()).get("section", []):
            for test in section.get("test", []):
                found.append(test["expr"])
    assert len(found) > 2000, f"conformance data missing at {folder}"
    return found


def test_unparse_round_trips_every_conformance_expression(impl) -> None:
    parse = impl.expr.parse
    checked = 0
    for source in _expressions():
        try:
            tree = parse(source, max_depth=1000)
        except (ExpressionSyntaxError, ExpressionLimitError):
            continue
        text = unparse(tree)
        assert parse(text, max_depth=1000) == tree, (source, text)
        checked += 1
    assert checked > 2000


@pytest.mark.parametrize(
    ("value", "source"),
    [
        (None, "null"),
        (True, "true"),
        (-5, "-5"),
        (2**63 - 1, "9223372036854775807"),
        (-(2**63), "-9223372036854775808"),
        (1.5, "1.5"),
        (-0.0, "-0.0"),
        (1e300, "1e+300"),
        (3.0, "3.0"),
        (math.inf, 'double("Infinity")'),
        (-math.inf, 'double("-Infinity")'),
        (math.nan, 'double("NaN")'),
        ("a\"b\\c\n\t\x01é", '"a\\"b\\\\c\\n\\t\\x01é"'),
        (b"\x00a\"\xff", 'b"\\x00a\\"\\xff"'),
        ([1, "a", [None]], '[1, "a", [null]]'),
        ({"k": 1, 2: False}, '{"k": 1, 2: false}'),
        (datetime(2023, 7, 18, 7, 31, tzinfo=timezone.utc), 'timestamp("2023-07-18T07:31:00Z")'),
        (datetime(5, 1, 2, 3, 4, 5, 600), 'timestamp("0005-01-02T03:04:05.000600Z")'),
        (datetime(2023, 7, 18, 9, 31, tzinfo=timezone(timedelta(hours=2))),
         'timestamp("2023-07-18T07:31:00Z")'),
        (timedelta(seconds=1.5), 'duration("1.5s")'),
        (timedelta(microseconds=-1), 'duration("-0.000001s")'),
    ],
)
def test_literal_sources(value: object, source: str) -> None:
    assert unparse(literal(value)) == source


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (2**63, "unsupported value: int 9223372036854775808 out of the int64 range"),
        (object(), "unsupported value type object"),
        ({1.5: 1}, "unsupported value: map key of type float"),
        ("\ud800", "unsupported value: a lone surrogate U+D800 in a string"),
    ],
)
def test_literal_rejects(value: object, message: str) -> None:
    with pytest.raises(EvaluationError) as info:
        unparse(literal(value))
    assert str(info.value) == message


def _tree(impl, source: str):
    return impl.expr.parse(source)


@pytest.mark.parametrize(
    ("source", "bindings", "expected"),
    [
        ("event.a == async.a", {"event": {"a": "x"}}, '"x" == async.a'),
        ("event.a.b == 1", {"event": {"a": 5}}, "false"),  # null == 1, folded
        ("event == async", {"event": {"a": 1}}, '{"a": 1} == async'),
        ('event["a"] == async.a', {"event": {"a": 1}}, "1 == async.a"),
        ("event.a[1] == async.a", {"event": {"a": [5, 6]}}, "6 == async.a"),
        ("event.a[2] == async.a", {"event": {"a": [5, 6]}}, "null == async.a"),
        ("[1].all(event, event > 0) && event.x == 1", {"event": {"x": 1}},
         "[1].all(event, event > 0)"),
        ("event.a == 1 ? async.b : async.c", {"event": {"a": 1}}, "async.b"),
        ("event.a == 1 ? async.b : async.c", {"event": {"a": 2}}, "async.c"),
        ("!(event.a == 1) || async.b", {"event": {"a": 1}}, "false || async.b"),
        ("event.a < event.b", {"event": {"a": 1, "b": 2.5}}, "true"),
        ('event.a < "b"', {"event": {"a": 1}}, '1 < "b"'),  # an error: kept for evaluation
        ("event.a == event.b", {"event": {"a": 1, "b": "1"}}, "false"),
        ("event.a == event.b", {"event": {"a": 1, "b": 1.0}}, "true"),
        ('event.n == double("NaN")', {"event": {"n": 1}}, '1 == double("NaN")'),
        ("event.a && async.b", {"event": {"a": True}}, "true && async.b"),  # async.b: any type
        ("event.a && async.b == 1", {"event": {"a": True}}, "async.b == 1"),
        ("async.b == 1 || event.a", {"event": {"a": False}}, "async.b == 1"),
        ("has(event.a.b)", {"event": {"a": {"b": 1}}}, "true"),
        ("has(event.a.b)", {"event": {"a": 1}}, "has((1).b)"),
        ("other.x == event.x", {"event": {"x": 1}}, "other.x == 1"),
    ],
)
def test_substitute_trees(impl, source: str, bindings: dict, expected: str) -> None:
    result = substitute(_tree(impl, source), bindings)
    assert unparse(result) == expected
    assert _tree(impl, expected) == result
