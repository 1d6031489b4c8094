"""Durations: every grammar rule, valid and invalid, for both twins."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twins import TWINS
from inngest_core.errors import DurationError

NS, US, MS, S = 1, 1_000, 1_000_000, 1_000_000_000
M, H, D, W = 60 * S, 3600 * S, 86400 * S, 7 * 86400 * S
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

VALID = [
    ("0", 0),
    ("-0", 0),
    ("+0", 0),
    ("1ns", 1),
    ("1us", US),
    ("1\u00b5s", US),
    ("1\u03bcs", US),
    ("1ms", MS),
    ("1s", S),
    ("1m", M),
    ("1h", H),
    ("1d", D),
    ("1w", W),
    ("1h30m", 90 * M),
    ("1.5h", 5400 * S),
    ("1.5s", 1500 * MS),
    ("2w3d", 17 * D),
    ("10.5s4m", 4 * M + 10500 * MS),
    ("5.s", 5 * S),
    (".5s", 500 * MS),
    ("0.5us", 500),
    ("-1.5h", -5400 * S),
    ("+1h", H),
    ("1h1h", 2 * H),
    ("300ms", 300 * MS),
    ("2h45m", 165 * M),
    ("000001s", S),
    ("1.000000001s", S + 1),
    ("1.0000000019s", S + 1),  # digits past the nanosecond truncate
    ("-1.0000000019s", -(S + 1)),  # toward zero, also when negative
    ("0.1ns", 0),
    ("0.3333333333333333333333333m", 19_999_999_999),
    ("0.0000000000166666666666666666667m", 1),  # exact: just above 1/60e9 minutes
    ("0.0000000000166666666666666666666m", 0),  # just below
    ("9223372036854775807ns", INT64_MAX),
    ("-9223372036854775808ns", INT64_MIN),
    ("2562047h47m16.854775807s", INT64_MAX),
    ("-2562047h47m16.854775808s", INT64_MIN),
    ("15250w1d23h47m16s854ms775us807ns", INT64_MAX),
    # ISO 8601
    ("P3W", 21 * D),
    ("P1DT2H", 26 * H),
    ("PT1H30M", 90 * M),
    ("PT0.5S", 500 * MS),
    ("PT0,5S", 500 * MS),
    ("P1W2D", 9 * D),
    ("P1D", D),
    ("PT1M", M),
    ("PT36H", 36 * H),
    ("P1DT1H1M1.5S", D + H + M + 1500 * MS),
    ("-PT1S", -S),
    ("PT1.5H", 5400 * S),
    ("P0D", 0),
]

INVALID = [
    ("", "empty duration at position 0 in duration \"\"", 0),
    ("-", 'expected a number at position 1 in duration "-"', 1),
    ("+", 'expected a number at position 1 in duration "+"', 1),
    ("1", 'missing unit after the number at position 1 in duration "1"', 1),
    ("00", 'missing unit after the number at position 2 in duration "00"', 2),
    ("1h30", 'missing unit after the number at position 4 in duration "1h30"', 4),
    ("1x", 'unknown unit "x" at position 1 in duration "1x"', 1),
    ("1H", 'unknown unit "H" at position 1 in duration "1H"', 1),
    ("1S", 'unknown unit "S" at position 1 in duration "1S"', 1),
    ("1sec", 'unknown unit "sec" at position 1 in duration "1sec"', 1),
    ("1hm", 'unknown unit "hm" at position 1 in duration "1hm"', 1),
    ("1y", 'unknown unit "y" at position 1 in duration "1y"', 1),
    (".s", 'number has no digits at position 0 in duration ".s"', 0),
    ("1h.m", 'number has no digits at position 2 in duration "1h.m"', 2),
    (".", 'number has no digits at position 0 in duration "."', 0),
    ("h", 'unexpected character "h" at position 0 in duration "h"', 0),
    (" 1h", 'unexpected character " " at position 0 in duration " 1h"', 0),
    ("1h ", 'unexpected character " " at position 2 in duration "1h "', 2),
    ("1 h", 'unexpected character " " at position 1 in duration "1 h"', 1),
    ("1h-30m", 'unexpected character "-" at position 2 in duration "1h-30m"', 2),
    ("1,5s", 'unexpected character "," at position 1 in duration "1,5s"', 1),
    ("--1s", 'unexpected character "-" at position 1 in duration "--1s"', 1),
    ("1h\n", 'unexpected character "\\n" at position 2 in duration "1h\\n"', 2),
    ("\uff11h", 'unexpected character "\uff11" at position 0 in duration "\uff11h"', 0),
    ("1\u0661s", 'unexpected character "\u0661" at position 1 in duration "1\u0661s"', 1),
    ("1..5s", 'unexpected character "." at position 2 in duration "1..5s"', 2),
    ("1.5.5s", 'unexpected character "." at position 3 in duration "1.5.5s"', 3),
    (
        "9223372036854775808ns",
        "duration out of range (a signed 64-bit count of nanoseconds) at position 0 in duration "
        '"9223372036854775808ns"',
        0,
    ),
    (
        "-9223372036854775809ns",
        "duration out of range (a signed 64-bit count of nanoseconds) at position 1 in duration "
        '"-9223372036854775809ns"',
        1,
    ),
    (
        "1h2562047h",
        "duration out of range (a signed 64-bit count of nanoseconds) at position 2 in duration "
        '"1h2562047h"',
        2,
    ),
    (
        "15251w",
        "duration out of range (a signed 64-bit count of nanoseconds) at position 0 in duration "
        '"15251w"',
        0,
    ),
    (
        "99999999999999999999999s",
        "duration out of range (a signed 64-bit count of nanoseconds) at position 0 in duration "
        '"99999999999999999999999s"',
        0,
    ),
    # ISO 8601
    ("P", 'expected a number at position 1 in duration "P"', 1),
    ("P1Y", 'ISO 8601 years have no fixed length and are not accepted at position 2 in duration "P1Y"', 2),
    ("P1M", 'ISO 8601 months have no fixed length and are not accepted at position 2 in duration "P1M"', 2),
    ("P1Y2D", 'ISO 8601 years have no fixed length and are not accepted at position 2 in duration "P1Y2D"', 2),
    ("PT", 'ISO 8601 "T" must be followed by a component at position 2 in duration "PT"', 2),
    ("P1DT", 'ISO 8601 "T" must be followed by a component at position 4 in duration "P1DT"', 4),
    ("P1H", 'ISO 8601 hours, minutes and seconds must follow "T", at position 2 in duration "P1H"', 2),
    ("PT1D", 'ISO 8601 component "D" out of order or repeated at position 3 in duration "PT1D"', 3),
    ("P1D1W", 'ISO 8601 component "W" out of order or repeated at position 4 in duration "P1D1W"', 4),
    ("PT1M1H", 'ISO 8601 component "H" out of order or repeated at position 5 in duration "PT1M1H"', 5),
    ("PT1S1S", 'ISO 8601 component "S" out of order or repeated at position 5 in duration "PT1S1S"', 5),
    (
        "PT1.5H30M",
        'ISO 8601 allows a fraction only on the last component, at position 2 in duration "PT1.5H30M"',
        2,
    ),
    ("P1", 'missing unit after the number at position 2 in duration "P1"', 2),
    ("P1X", 'unknown unit "X" at position 2 in duration "P1X"', 2),
    ("P1d", 'unknown unit "d" at position 2 in duration "P1d"', 2),
    ("pt1h", 'unexpected character "p" at position 0 in duration "pt1h"', 0),
    ("PT1H ", 'unexpected character " " at position 4 in duration "PT1H "', 4),
    ("P-1D", 'unexpected character "-" at position 1 in duration "P-1D"', 1),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[t for t, _ in VALID])
def test_valid(impl, text: str, expected: int) -> None:
    assert impl.duration.parse_duration_ns(text) == expected


@pytest.mark.parametrize(("text", "message", "position"), INVALID, ids=[t for t, *_ in INVALID])
def test_invalid(impl, text: str, message: str, position: int) -> None:
    with pytest.raises(DurationError) as info:
        impl.duration.parse_duration_ns(text)
    assert str(info.value) == message
    assert info.value.position == position
    assert info.value.text == text
    assert isinstance(info.value, ValueError)
    with pytest.raises(DurationError, match="^" + __import__("re").escape(message) + "$"):
        impl.duration.parse_duration(text)


@pytest.mark.parametrize("value", [None, 1, 1.5, b"1h", ["1h"], timedelta(hours=1)])
def test_non_str_is_type_error(impl, value: object) -> None:
    with pytest.raises(TypeError, match=f"^duration must be str, not {type(value).__name__}$"):
        impl.duration.parse_duration_ns(value)
    with pytest.raises(TypeError, match=f"^duration must be str, not {type(value).__name__}$"):
        impl.duration.parse_duration(value)


def test_str_subclass_is_accepted(impl) -> None:
    class Text(str):
        pass

    assert impl.duration.parse_duration_ns(Text("1h")) == H


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1500ns", timedelta(microseconds=1)),
        ("1999ns", timedelta(microseconds=1)),
        ("-1500ns", timedelta(microseconds=-1)),
        ("-999ns", timedelta(0)),
        ("-1.5h", timedelta(hours=-1.5)),
        ("2w3d", timedelta(days=17)),
        ("9223372036854775807ns", timedelta(microseconds=9223372036854775)),
        ("-9223372036854775808ns", timedelta(microseconds=-9223372036854775)),
    ],
)
def test_parse_duration_timedelta(impl, text: str, expected: timedelta) -> None:
    got = impl.duration.parse_duration(text)
    assert type(got) is timedelta
    assert got == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0s"),
        (1, "1ns"),
        (5400 * S, "1h30m"),
        (36 * H, "1d12h"),
        (1500 * MS, "1s500ms"),
        (-1500 * MS, "-1s500ms"),
        (W + D + H + M + S + MS + US + NS, "1w1d1h1m1s1ms1us1ns"),
        (14 * D, "2w"),
        (INT64_MAX, "15250w1d23h47m16s854ms775us807ns"),
        (INT64_MIN, "-15250w1d23h47m16s854ms775us808ns"),
        (timedelta(hours=36), "1d12h"),
        (timedelta(seconds=-1.5), "-1s500ms"),
        (timedelta(microseconds=1), "1us"),
        (timedelta(0), "0s"),
    ],
)
def test_format(impl, value: object, expected: str) -> None:
    assert impl.duration.format_duration(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (2**63, "duration out of range: 9223372036854775808 ns is outside the signed 64-bit nanosecond range"),
        (-(2**63) - 1, "duration out of range: -9223372036854775809 ns is outside the signed 64-bit nanosecond range"),
        (timedelta(days=106752), "duration out of range: 9223372800000000000 ns is outside the signed 64-bit nanosecond range"),
    ],
)
def test_format_out_of_range(impl, value: object, message: str) -> None:
    with pytest.raises(DurationError) as info:
        impl.duration.format_duration(value)
    assert str(info.value) == message
    assert info.value.position is None


@pytest.mark.parametrize("value", [True, 1.5, "1h", None])
def test_format_type_error(impl, value: object) -> None:
    with pytest.raises(
        TypeError,
        match=f"^duration value must be timedelta or int nanoseconds, not {type(value).__name__}$",
    ):
        impl.duration.format_duration(value)


def test_long_messages_are_cut(impl) -> None:
    text = "1h" * 100 + "x"
    with pytest.raises(DurationError) as info:
        impl.duration.parse_duration_ns(text)
    assert str(info.value) == (
        'unknown unit "hx" at position 199 in duration "' + "1h" * 32 + '"... (201 characters)'
    )
    assert info.value.text == text


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("1" + "0" * 10_000_000 + "s", DurationError),
        ("0" * 10_000_000 + "1s", S),
        ("0." + "9" * 10_000_000 + "ns", 0),
        ("0." + "3" * 10_000_000 + "m", 19_999_999_999),
        ("1h" * 5_000_000, DurationError),  # sums past the range
        ("1ns" * 3_000_000 + "x", DurationError),
        ("PT0." + "5" * 10_000_000 + "S", 555_555_555),
    ],
    ids=["huge-int", "leading-zeros", "long-fraction", "repeating-fraction", "many-groups",
         "many-groups-then-junk", "iso-long-fraction"],
)
def test_ten_megabytes_is_linear(impl, text: str, outcome: object) -> None:
    # Not a timing assertion (machines are noisy): a generous bound that only a quadratic
    # or backtracking implementation could miss.
    start = time.perf_counter()
    if outcome is DurationError:
        with pytest.raises(DurationError):
            impl.duration.parse_duration_ns(text)
    else:
        assert impl.duration.parse_duration_ns(text) == outcome
    assert time.perf_counter() - start < 5


# ------------------------------------------------------------------ the twins agree

def _outcome(fn, arg):
    try:
        return ("ok", fn(arg))
    except Exception as exc:  # noqa: BLE001 - comparing exceptions is the point
        return ("error", type(exc), str(exc), getattr(exc, "position", None))


duration_alphabet = st.sampled_from(
    list("0123456789.,+-nsumhdwPTYMWDHS \u00b5\u03bcx\uff11")
)
duration_like = st.one_of(
    st.text(duration_alphabet, max_size=24),
    st.text(max_size=12),
    st.builds(
        lambda sign, parts: sign + "".join(parts),
        st.sampled_from(["", "-", "+"]),
        st.lists(
            st.builds(
                lambda i, f, u: i + f + u,
                st.from_regex(r"[0-9]{0,21}", fullmatch=True),
                st.sampled_from(["", ".", ".5", ".123456789012", ".0000000001"]),
                st.sampled_from(["ns", "us", "\u00b5s", "\u03bcs", "ms", "s", "m", "h", "d", "w", "x", ""]),
            ),
            max_size=5,
        ),
    ),
)


@pytest.mark.skipif(len(TWINS) < 2, reason="only one twin is under test")
@settings(max_examples=1500, deadline=None)
@given(duration_like)
def test_twins_agree_on_arbitrary_text(text: str) -> None:
    c, py = TWINS
    for name in ("parse_duration_ns", "parse_duration"):
        assert _outcome(getattr(c.duration, name), text) == _outcome(getattr(py.duration, name), text)


@pytest.mark.skipif(len(TWINS) < 2, reason="only one twin is under test")
@settings(max_examples=500, deadline=None)
@given(st.one_of(st.integers(), st.timedeltas()))
def test_twins_agree_on_format(value: object) -> None:
    c, py = TWINS
    assert _outcome(c.duration.format_duration, value) == _outcome(py.duration.format_duration, value)


@settings(max_examples=1000, deadline=None)
@given(st.integers(min_value=INT64_MIN, max_value=INT64_MAX))
def test_round_trip_whole_int64_range(n: int) -> None:
    for twin in TWINS:
        text = twin.duration.format_duration(n)
        assert twin.duration.parse_duration_ns(text) == n


@pytest.mark.parametrize("n", [INT64_MIN, INT64_MIN + 1, -1, 0, 1, INT64_MAX - 1, INT64_MAX])
def test_round_trip_edges(impl, n: int) -> None:
    assert impl.duration.parse_duration_ns(impl.duration.format_duration(n)) == n


@settings(max_examples=300, deadline=None)
@given(st.timedeltas(min_value=timedelta(days=-106751), max_value=timedelta(days=106751)))
def test_timedelta_round_trip(value: timedelta) -> None:
    for twin in TWINS:
        assert twin.duration.parse_duration(twin.duration.format_duration(value)) == value


long_duration = st.builds(
    lambda sign, parts, times, tail: sign + "".join(parts) * times + tail,
    st.sampled_from(["", "-", "+"]),
    st.lists(
        st.builds(lambda i, f, u: i + f + u,
                  st.from_regex(r"[0-9]{0,20}", fullmatch=True),
                  st.sampled_from(["", ".", ".5", ".0000000001", ",5"]),
                  st.sampled_from(["ns", "us", "\u00b5s", "ms", "s", "m", "h", "d", "w", "x", ""])),
        min_size=1, max_size=4),
    st.integers(min_value=100, max_value=400),
    st.sampled_from(["", "1", " ", "1x", "0s", ".", "9223372036854775807ns"]),
)


@pytest.mark.skipif(len(TWINS) < 2, reason="only one twin is under test")
@settings(max_examples=300, deadline=None)
@given(long_duration)
def test_twins_agree_on_long_text(text: str) -> None:
    # Past 512 characters the Python twin reads groups in bulk: same answers, same errors.
    c, py = TWINS
    assert _outcome(c.duration.parse_duration_ns, text) == _outcome(py.duration.parse_duration_ns, text)
