"""A bounded fuzz pass over every public parser and over compile + evaluate.

Hypothesis with a fixed seed (``derandomize``) and a fixed number of examples, so a run is
repeatable and takes well under a minute.  For every input: each twin gives a value or one of
our own exceptions (never any other exception), no call takes longer than a second (the
deadline), and where both twins are under test they give the same value, or the same error
type and message.  Inputs the fuzzer once found wrong stay as ``@example`` regression cases.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from inngest_core._expr_lib import UInt
from inngest_core.errors import (
    DatetimeError,
    DurationError,
    EvaluationError,
    ExpressionLimitError,
    ExpressionSyntaxError,
)
from twins import TWINS

FUZZ = settings(
    derandomize=True,
    database=None,
    max_examples=300,
    deadline=timedelta(seconds=1),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

@pytest.fixture(scope="module", autouse=True)
def warm() -> None:
    """Load what loads once (Lark's grammar, the format tables) before any deadline runs."""
    for twin in TWINS:
        twin.expr.compile_program("a.b == 1").evaluate({"a": {"b": 1}})
        twin.datetime.parse_datetime("2023-07-18T07:31:00Z")
        twin.duration.parse_duration_ns("1h")


OURS = (DurationError, DatetimeError, EvaluationError, ExpressionLimitError, ExpressionSyntaxError)


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types; NaN equals NaN and -0.0 is not 0.0; containers deeply."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def outcome(fn: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """("value", v) or (error class name, message); anything but our errors fails the test."""
    try:
        return ("value", fn(*args))
    except OURS as exc:
        return (type(exc).__name__, str(exc))


def agree(call: Callable[[Any], Any]) -> tuple[str, Any]:
    """Run ``call(twin)`` on every twin under test; they must agree.  Returns the outcome."""
    results = [outcome(call, twin) for twin in TWINS]
    first = results[0]
    for other in results[1:]:
        assert first[0] == other[0], results
        if first[0] == "value":
            assert same(first[1], other[1]), results
        else:
            assert first[1] == other[1], results
    return first


# ------------------------------------------------------------------------------ durations

DURATION_TEXT = st.one_of(
    st.text(alphabet="0123456789.+-hmsunµμdwPTWDHMSY, :", max_size=24),
    st.lists(st.tuples(st.sampled_from(["", "-", "+"]),
                       st.from_regex(r"[0-9]{0,20}(\.[0-9]{0,12})?", fullmatch=True),
                       st.sampled_from(["ns", "us", "µs", "ms", "s", "m", "h", "d", "w", "", "x"])),
             max_size=5).map(lambda groups: "".join(a + b + c for a, b, c in groups)),
    st.text(max_size=16),
)


@FUZZ
@given(DURATION_TEXT)
@example("9223372036854775807ns")
@example("-9223372036854775808ns")
@example("P")
@example("PT")
@example("")
def test_fuzz_durations(text: str) -> None:
    kind, value = agree(lambda twin: twin.duration.parse_duration_ns(text))
    agree(lambda twin: twin.duration.parse_duration(text))
    if kind == "value":
        canonical = agree(lambda twin: twin.duration.format_duration(value))
        assert canonical[0] == "value"
        assert agree(lambda twin: twin.duration.parse_duration_ns(canonical[1])) == ("value", value)


@FUZZ
@given(st.one_of(st.integers(min_value=-(2**64), max_value=2**64),
                 st.timedeltas(min_value=timedelta(days=-200_000), max_value=timedelta(days=200_000))))
def test_fuzz_format_duration(value: int | timedelta) -> None:
    agree(lambda twin: twin.duration.format_duration(value))


# ------------------------------------------------------------------------------ datetimes

FORMATS = ("RFC3339", "ISO8601", "ISODATE", "RFC1123", "RFC1123Z", "RFC822", "RFC822Z", "RFC850",
           "UNIX", "ANSIC", "RUBY", "EPOCH", "EPOCH_MS")

OFFSETS = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes)))
DATETIMES = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2068, 12, 30),
                         timezones=st.one_of(st.just(timezone.utc), OFFSETS))


@st.composite
def datetime_texts(draw: st.DrawFn) -> str:
    """A valid text in some format, then up to three edits (delete, insert, replace)."""
    value = draw(DATETIMES)
    name = draw(st.sampled_from(FORMATS))
    twin = TWINS[-1]
    text: str = twin.datetime.format_datetime(value, name)
    for _ in range(draw(st.integers(0, 3))):
        if not text:
            break
        at = draw(st.integers(0, len(text) - 1))
        edit = draw(st.sampled_from(["delete", "insert", "replace"]))
        char = draw(st.sampled_from(list("0123456789 :-+.,TZtzAMJSFWGU\t")))
        if edit == "delete":
            text = text[:at] + text[at + 1:]
        elif edit == "insert":
            text = text[:at] + char + text[at:]
        else:
            text = text[:at] + char + text[at + 1:]
    return text


@FUZZ
@given(st.one_of(datetime_texts(), st.text(max_size=40)), st.sampled_from((None,) + FORMATS))
@example("2023-07-18T07:31:00Z", None)
@example("Tue, 18 Jul 2023 07:31:00 GMT", "RFC1123")
def test_fuzz_datetimes(text: str, name: str | None) -> None:
    if name is None:
        agree(lambda twin: twin.datetime.parse_datetime(text))
        agree(lambda twin: twin.datetime.detect_format(text))
    else:
        agree(lambda twin: twin.datetime.parse_datetime(text, name))


@FUZZ
@given(st.datetimes(timezones=st.one_of(st.none(), st.just(timezone.utc), OFFSETS)),
       st.sampled_from(FORMATS))
def test_fuzz_format_datetime(value: datetime, name: str) -> None:
    kind, text = agree(lambda twin: twin.datetime.format_datetime(value, name))
    if kind == "value":
        agree(lambda twin: twin.datetime.parse_datetime(text, name))


# ------------------------------------------------------------------------------ expressions

TOKENS = st.sampled_from([
    "a", "b", "xs", "m", "m.k", "m.n.k", "a.b.c", "event", "event.data", "nope", "size", "has",
    "int", "uint", "double", "string", "bytes", "timestamp", "duration", "type", "dyn", "null",
    "true", "false", "in", "all", "exists", "exists_one", "map", "filter", "matches",
    "startsWith", "contains", "0", "1", "-1", "2u", "1.5", "-0.0", "1e308", "0x1F",
    "9223372036854775807", "9223372036854775808", "18446744073709551615u", "'s'", '"t"',
    "b'x'", "r'\\d'", "'''m'''", "'\\u00e9'", "'\\x'", "+", "-", "*", "/", "%", "==", "!=", "<",
    "<=", ">", ">=", "&&", "||", "!", "?", ":", ".", ",", "(", ")", "[", "]", "{", "}", " ", "'",
    '"', "`", "#", "\n",
])

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(min_value=2**63, max_value=2**70), st.floats(allow_nan=True),
    st.text(max_size=5), st.binary(max_size=3), st.integers(0, 2**64 - 1).map(UInt),
    st.datetimes(timezones=st.just(timezone.utc)), st.timedeltas(),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(["k", "n", "c", "id", "data"]), children, max_size=3),
        st.dictionaries(st.one_of(st.integers(-2, 2), st.booleans()), children, max_size=2),
    ),
    max_leaves=8,
)
ACTIVATIONS = st.fixed_dictionaries(
    {}, optional={name: VALUES for name in ("a", "b", "xs", "m", "event")})


def _evaluate(twin: Any, source: str, activation: dict[str, Any]) -> Any:
    return twin.expr.compile_program(source).evaluate(activation)


def _matches(twin: Any, source: str, activation: dict[str, Any]) -> Any:
    return twin.expr.compile_program(source).matches(activation)


OPERANDS = st.sampled_from([
    "a", "b", "xs", "m", "m.k", "m.n", "m.n.k", "event.data", "xs[0]", "m['k']", "size(xs)",
    "0", "1", "-1", "2u", "1.5", "'k'", "b'x'", "null", "true", "[1, 'a']", "{'k': 1}",
    "timestamp('2023-07-18T07:31:00Z')", "duration('90s')", "int(a)", "string(b)",
    "has(m.k)", "xs.exists(x, x == 1)", "xs.map(x, x)", "type(a)", "dyn(m)",
])
OPERATORS = st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "&&",
                             "||", "in"])
FORMED = st.one_of(
    st.tuples(OPERANDS, OPERATORS, OPERANDS).map(" ".join),
    st.tuples(OPERANDS, OPERATORS, OPERANDS, OPERATORS, OPERANDS).map(" ".join),
    st.tuples(OPERANDS, OPERANDS, OPERANDS).map(lambda t: f"{t[0]} ? {t[1]} : {t[2]}"),
)


@FUZZ
@given(st.one_of(st.lists(TOKENS, min_size=1, max_size=12).map(" ".join), FORMED), ACTIVATIONS)
@example("!= }", {})
@example("0x1F . - 1.5 ]", {})
@example("m.k == 1 || m.n.k", {"m": {"k": 2, "n": {"k": True}}})
@example("xs.all(x, x > 0) && size(xs) > 1", {"xs": [1, 2]})
def test_fuzz_expressions(source: str, activation: dict[str, Any]) -> None:
    kind, _ = agree(lambda twin: str(twin.expr.compile_program(source)))
    if kind == "value":
        agree(lambda twin: _evaluate(twin, source, activation))
        agree(lambda twin: _matches(twin, source, activation))


@FUZZ
@given(st.text(alphabet="ab1.()[]{}+-*/%!?:,<>=&|'\"\\ xu`\n", max_size=30), ACTIVATIONS)
def test_fuzz_expression_text(source: str, activation: dict[str, Any]) -> None:
    kind, _ = agree(lambda twin: str(twin.expr.compile_program(source)))
    if kind == "value":
        agree(lambda twin: _evaluate(twin, source, activation))
