"""Every parser entry answers long hostile input in linear time, on both twins (issue 12).

Each shape is 100 KB: runs of one character, separators, digits, unit letters, alternating
groups, a valid prefix and then junk, ISO 8601 duration forms and datetime-like prefixes.  A
quadratic path takes tens of seconds on such input; the bound is generous on purpose (a
shared, loaded machine must never fail it), so this catches blowups, not slowness.  Every
answer is a value or our own error, never another exception.  The 10 MB figures are in the
benchmark (``inngest-core bench --part adversarial``).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any, Callable

import pytest

from inngest_core.errors import (
    DatetimeError,
    DurationError,
    ExpressionLimitError,
    ExpressionSyntaxError,
)
from twins import Twin

SIZE = 100_000
BOUND_SECONDS = 5.0


def fill(unit: str, head: str = "", tail: str = "", size: int = SIZE) -> str:
    """``head``, then ``unit`` repeated, then ``tail``: about ``size`` characters, never more."""
    return head + unit * max(1, (size - len(head) - len(tail)) // len(unit)) + tail


SHAPES: dict[str, str] = {
    # runs of one character
    "spaces": fill(" "),
    "tabs": fill("\t"),
    "dots": fill("."),
    "commas": fill(","),
    "colons": fill(":"),
    "dashes": fill("-"),
    "pluses": fill("+"),
    "digits": fill("1"),
    "zeros": fill("0"),
    "unit h": fill("h"),
    "unit m": fill("m"),
    "letters": fill("a"),
    "micro signs": fill("\u00b5"),
    "non-ASCII": fill("\u00e9"),
    "NULs": fill("\0"),
    "P": fill("P"),
    "Z": fill("Z"),
    # alternating groups
    "1.": fill("1."),
    "1h": fill("1h"),
    "1ms": fill("1ms"),
    "1.5h": fill("1.5h"),
    "1µs": fill("1\u00b5s"),
    "h1": fill("h1"),
    "1h.": fill("1h."),
    "1.h": fill("1.h"),
    "1 ": fill("1 "),
    "a ": fill("a "),
    "a,": fill("a,"),
    "1:": fill("1:"),
    "1-": fill("1-"),
    "2023-": fill("2023-"),
    "Tue ": fill("Tue "),
    "Monday": fill("Monday"),
    # a valid prefix (or a number), then junk
    "1h then spaces": fill(" ", head="1h"),
    "1s then !": fill("!", head="1s"),
    "1h then letters": fill("x", head="1h"),
    "1 then unit run": fill("h", head="1"),
    "sign then digits": fill("1", head="-"),
    "digits then unit": fill("1", tail="h"),
    "digits then x": fill("1", tail="x"),
    "digits then space": fill("1", tail=" "),
    "spaces then x": fill(" ", tail="x"),
    "long fraction": fill("1", head="0.", tail="s"),
    "long zero fraction": fill("0", head="1.", tail="s"),
    # ISO 8601 durations
    "P1D repeated": fill("1D", head="P"),
    "PT1H repeated": fill("1H", head="PT"),
    "P digits": fill("1", head="P"),
    "P1DT digits": fill("1", head="P1DT"),
    "PT long fraction": fill("1", head="PT0.", tail="S"),
    "P then T run": fill("T", head="P"),
    "P1W then spaces": fill(" ", head="P1W"),
    # datetime-like prefixes, then junk
    "RFC3339 long fraction": fill("1", head="2023-07-18T07:31:00.", tail="Z"),
    "RFC3339 then spaces": fill(" ", head="2023-07-18T07:31:00Z"),
    "date then digits": fill("1", head="2023-07-18"),
    "RFC1123 long zone": fill("G", head="Tue, 18 Jul 2023 07:31:00 "),
    "RFC1123 then spaces": fill(" ", head="Tue, 18 Jul 2023 07:31:00 GMT"),
    "RFC822 then spaces": fill(" ", head="18 Jul 23 07:31 "),
    "UNIX long zone": fill("U", head="Tue Jul 18 07:31:00 ", tail=" 2023"),
    "weekday then spaces": fill(" ", head="Tue"),
    "long word then comma": fill("a", tail=","),
    "long weekday": fill("y", head="Monda", tail=", 18-Jul-23 07:31:00 UTC"),
    "epoch long fraction": fill("0", head="1689665460."),
    "epoch then dots": fill(".", head="1689665460"),
    # CEL source
    "CEL string": fill("a", head='"', tail='"'),
    "CEL unterminated string": fill("a", head='"'),
    "CEL comment": fill("a", head="//"),
    "CEL selections": fill(".a", head="a"),
    "CEL conjunctions": fill("a && ", tail="a"),
    "CEL sums": fill("1 + ", tail="1"),
    "CEL parentheses": fill("("),
    "CEL negations": fill("-", tail="1"),
    "CEL nots": fill("!", tail="true"),
}


def _parse_named(module: Any, text: str) -> None:
    for name in module.DATETIME_FORMATS:
        _answer(lambda: module.parse_datetime(text, name), datetime, DatetimeError)


ENTRIES: dict[str, Callable[[Twin, str], None]] = {
    "parse_duration_ns": lambda impl, text: _answer(
        lambda: impl.duration.parse_duration_ns(text), int, DurationError),
    "parse_duration": lambda impl, text: _answer(
        lambda: impl.duration.parse_duration(text), timedelta, DurationError),
    "parse_datetime": lambda impl, text: _answer(
        lambda: impl.datetime.parse_datetime(text), datetime, DatetimeError),
    "parse_datetime named": lambda impl, text: _parse_named(impl.datetime, text),
    "detect_format": lambda impl, text: _answer(
        lambda: impl.datetime.detect_format(text), str, DatetimeError),
    "compile_program": lambda impl, text: _answer(
        lambda: impl.expr.compile_program(text), impl.expr.Program,
        (ExpressionSyntaxError, ExpressionLimitError)),
}


def _answer(call: Callable[[], Any], value_type: type, errors: Any) -> None:
    start = time.perf_counter()
    try:
        result = call()
    except errors:
        pass
    else:
        assert isinstance(result, value_type), result
    elapsed = time.perf_counter() - start
    assert elapsed < BOUND_SECONDS, f"took {elapsed:.1f} s"


CASES = [
    pytest.param(entry, shape, id=f"{entry}-{shape}")
    for entry in ENTRIES
    for shape in SHAPES
]


@pytest.mark.parametrize(("entry", "shape"), CASES)
def test_long_input_answers_in_linear_time(impl: Twin, entry: str, shape: str) -> None:
    ENTRIES[entry](impl, SHAPES[shape])


def test_shapes_are_full_size() -> None:
    assert all(SIZE - 30 <= len(text) <= SIZE for text in SHAPES.values())
