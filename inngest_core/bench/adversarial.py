"""Benchmark groups for hostile 10 MB input (issue 12): every parser answers in linear time.

A few representative shapes per parser: runs of one character, a valid prefix then junk,
long numbers and fractions, repeated groups.  An input that is an error is timed up to the
error, whose message is the group's expected answer.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import replace
from typing import Any, Callable

from ..errors import (
    DatetimeError,
    DurationError,
    ExpressionLimitError,
    ExpressionSyntaxError,
    show,
)
from . import Contender, Group, Timed, ours

SIZE = 10_000_000
_ERRORS = (DurationError, DatetimeError, ExpressionSyntaxError, ExpressionLimitError)


def fill(unit: str, head: str = "", tail: str = "") -> str:
    """``head``, then ``unit`` repeated, then ``tail``: about 10 MB, never more."""
    return head + unit * ((SIZE - len(head) - len(tail)) // len(unit)) + tail


def _message_of(make: Callable[[], Timed]) -> Callable[[], Timed]:
    def wrapped() -> Timed:
        fn = make()

        def call() -> Any:
            try:
                return fn()
            except _ERRORS as exc:
                return str(exc)

        return call

    return wrapped


def raising(rows: list[Contender]) -> list[Contender]:
    """Our twins' rows for a call that raises: each answers with the error's message."""
    return [replace(row, make=_message_of(row.make)) for row in rows]


#: Each row is a whole 10 MB input (up to a second or two in the Python twin): a few timed
#: rounds, not calibrated loops.
ROUNDS = 3


def _duration(name: str, text: str, expected: Any) -> Group:
    rows = ours("duration", "parse_duration_ns", text)
    return Group("adversarial", f"parse_duration_ns({name}, 10 MB)", expected,
                 raising(rows) if isinstance(expected, str) else rows, rounds=ROUNDS)


def _datetime(name: str, text: str, expected: Any, fn: str = "parse_datetime") -> Group:
    rows = ours("datetime", fn, text)
    return Group("adversarial", f"{fn}({name}, 10 MB)", expected,
                 raising(rows) if isinstance(expected, str) else rows, rounds=ROUNDS)


def _cel(name: str, text: str, expected: str, **limits: int) -> Group:
    return Group("adversarial", f"compile_program({name}, 10 MB)", expected,
                 raising(ours("expr", "compile_program", text, **limits)), rounds=ROUNDS)


def groups() -> list[Group]:
    spaces = fill(" ")
    after_1h = fill(" ", head="1h")
    digits = fill("1")
    dots = fill(".")
    dotted = fill("1h.")
    iso_days = fill("1D", head="P")
    long_zone = fill("G", head="Tue, 18 Jul 2023 07:31:00 ")
    word = fill("a", tail=",")
    return [
        _duration('" " * n', spaces,
                  f"unexpected character \" \" at position 0 in duration {show(spaces)}"),
        _duration('"1h" + " " * n', after_1h,
                  f"unexpected character \" \" at position 2 in duration {show(after_1h)}"),
        _duration('"." * n', dots, f"number has no digits at position 0 in duration {show(dots)}"),
        _duration('"1" * n', digits,
                  "duration out of range (a signed 64-bit count of nanoseconds) at position 0 "
                  f"in duration {show(digits)}"),
        _duration('"1ns" * n', fill("1ns"), SIZE // 3),
        _duration('"1h." * n', dotted,
                  f"number has no digits at position {len(dotted) - 1} in duration "
                  f"{show(dotted)}"),
        _duration('"0." + "1" * n + "s"', fill("1", head="0.", tail="s"), 111_111_111),
        _duration('"PT0." + "1" * n + "S"', fill("1", head="PT0.", tail="S"), 111_111_111),
        _duration('"P" + "1D" * n', iso_days,
                  'ISO 8601 component "D" out of order or repeated at position 4 in duration '
                  f"{show(iso_days)}"),
        _datetime('" " * n', spaces,
                  "unknown datetime format: expected a digit, a sign or a letter at position 0 "
                  f"in {show(spaces)} (considered RFC3339, ISO8601, ISODATE, RFC1123, "
                  "RFC1123Z, RFC822, RFC822Z, RFC850, UNIX, ANSIC, RUBY, EPOCH)"),
        _datetime("RFC 3339 with a 10 MB fraction",
                  fill("1", head="2023-07-18T07:31:00.", tail="Z"),
                  _dt.datetime(2023, 7, 18, 7, 31, 0, 111111, tzinfo=_dt.timezone.utc)),
        _datetime("RFC 1123 with a 10 MB zone name", long_zone,
                  f"RFC1123: unknown time zone {show(long_zone[26:])} at position 26 in "
                  f"{show(long_zone)} (known: Z, UT, UTC, GMT, EST, EDT, CST, CDT, MST, MDT, "
                  "PST, PDT, or a numeric offset where the format has one)"),
        _datetime("epoch with a 10 MB fraction", fill("0", head="1689665460."),
                  _dt.datetime(2023, 7, 18, 7, 31, tzinfo=_dt.timezone.utc)),
        _datetime('"a" * n + ","', word,
                  f"RFC850: expected a full weekday name at position 0 in {show(word)}",
                  fn="detect_format"),
        _cel('" " * n', spaces, "expression is 10000000 characters long; the limit is 100000"),
        _cel('" " * n, no length limit', spaces,
             "unexpected end of expression at line 1, column 10000001\n  ..."
             + " " * 40 + "\n" + " " * 45 + "^", max_source_length=SIZE),
        _cel('"a" + ".a" * n, no length limit', fill(".a", head="a"),
             "expression nests deeper than the limit of 250", max_source_length=SIZE),
    ]
