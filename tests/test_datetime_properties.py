"""Datetimes, by property: round trips over the whole range, twins agreeing on arbitrary text
(errors included), and agreement with the standard library where both accept the input."""

from __future__ import annotations

import email.utils
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from hypothesis import example, given, settings
from hypothesis import strategies as st

from twins import TWINS

from inngest_core import _datetime_py as py
from inngest_core._datetime_formats import FORMATS as FORMAT_TABLE
from inngest_core.errors import DatetimeError

FORMATS = py.DATETIME_FORMATS

offsets = st.integers(min_value=-1439, max_value=1439).map(
    lambda m: timezone.utc if m == 0 else timezone(timedelta(minutes=m)))
aware = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                     timezones=offsets)

# Round trips: what each format holds of a datetime.
HOLDS: dict[str, Callable[[datetime], datetime]] = {
    "RFC3339": lambda d: d,
    "ISO8601": lambda d: d,
    "ISODATE": lambda d: d.astimezone(timezone.utc).replace(hour=0, minute=0, second=0,
                                                              microsecond=0),
    "RFC1123": lambda d: d.replace(microsecond=0),
    "RFC1123Z": lambda d: d.replace(microsecond=0),
    "RFC822": lambda d: d.replace(second=0, microsecond=0),
    "RFC822Z": lambda d: d.replace(second=0, microsecond=0),
    "RFC850": lambda d: d.replace(microsecond=0),
    "UNIX": lambda d: d.replace(microsecond=0),
    "ANSIC": lambda d: d.replace(microsecond=0),
    "RUBY": lambda d: d.replace(microsecond=0),
    "EPOCH": lambda d: d,
    "EPOCH_MS": lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000),
}
DETECTED = {f.name for f in FORMAT_TABLE if f.detected}
TWO_DIGIT = {"RFC822", "RFC822Z", "RFC850"}
ZONED = {"RFC3339", "ISO8601", "RFC1123Z", "RFC822Z", "RUBY"}


def outcome(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        value = fn(*args)
    except Exception as exc:  # noqa: BLE001 - the twins must agree on the exception too
        return (type(exc).__name__, str(exc), getattr(exc, "position", None),
                getattr(exc, "format", None))
    if isinstance(value, datetime):
        return ("ok", value, value.utcoffset())
    return ("ok", value)


@settings(max_examples=300)
@given(value=aware, name=st.sampled_from(FORMATS))
def test_round_trip(value: datetime, name: str) -> None:
    if name in TWO_DIGIT:
        # Two-digit years reach 1969..2068, and the zone-named formats write the UTC year,
        # up to a day away: 1970..2067 keeps both inside; 2000 + 4k keeps a 29 February valid.
        year = 2000 + 4 * (value.year % 17) if (value.month, value.day) == (2, 29) else (
            1970 + value.year % 98)
        value = value.replace(year=year)
    for twin in TWINS:
        mod = twin.datetime
        text = mod.format_datetime(value, name)
        back = mod.parse_datetime(text, name)
        expected = HOLDS[name](value)
        assert back == expected, (text, back, expected)
        if name in ZONED:
            assert back.utcoffset() == value.utcoffset()
        else:
            assert back.tzinfo is timezone.utc
        if name in DETECTED:
            assert mod.parse_datetime(text) == expected
            detected = mod.detect_format(text)
            assert detected == name or (name == "ISO8601" and detected == "RFC3339"), text
        assert text == py.format_datetime(value, name)


# Text near the formats: fragments of valid strings, mutated.
SAMPLES = [
    "2023-07-18T07:31:00Z", "2023-07-18 07:31", "2023-07-18", "2023-07-18T07:31:00.5+02:00",
    "Tue, 18 Jul 2023 07:31:00 GMT", "Tue, 18 Jul 2023 07:31:00 +0200", "18 Jul 23 07:31 UTC",
    "Tue, 18 Jul 23 07:31:00 -0700", "Tuesday, 18-Jul-23 07:31:00 UTC",
    "Tue Jul 18 07:31:00 UTC 2023", "Sat Jul  8 07:31:00 2023", "Tue Jul 18 07:31:00 +0000 2023",
    "1689665460", "-1.5", "2016-12-31T23:59:60Z",
]
ALPHABET = "0123456789:-+ .,TtZzJFMASONDjfmasondUuGgCcEePp\u00e9\u0661\u017f\x00"


@st.composite
def near_text(draw: st.DrawFn) -> str:
    chars = list(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.integers(0, 2))
        pos = draw(st.integers(0, len(chars)))
        ch = draw(st.sampled_from(ALPHABET))
        if op == 0 and chars:
            chars[min(pos, len(chars) - 1)] = ch
        elif op == 1:
            chars.insert(pos, ch)
        elif chars:
            del chars[min(pos, len(chars) - 1)]
    return "".join(chars)


@settings(max_examples=1000)
@given(text=st.one_of(near_text(), st.text(max_size=40)),
       name=st.one_of(st.none(), st.sampled_from(FORMATS)))
@example(text="Sat Jul  8 07:31:00 +0000 2023", name=None)
def test_twins_agree(text: str, name: str | None) -> None:
    results = [outcome(t.datetime.parse_datetime, text, name) for t in TWINS]
    assert all(r == results[0] for r in results), results
    if name is None:
        detected = [outcome(t.datetime.detect_format, text) for t in TWINS]
        assert all(d == detected[0] for d in detected), detected
        assert (detected[0][0] == "ok") == (results[0][0] == "ok")


@settings(max_examples=500)
@given(text=near_text())
def test_fast_layer_agrees_with_reference_scanner(text: str) -> None:
    try:
        fid = py._predict(text)
    except DatetimeError:
        return
    if py._FAST[fid] is py._no_fast:  # a format its scanner alone reads
        return
    fast = py._FAST[fid](text)
    try:
        slow: datetime | None = py._slow(text, fid)[0]
    except DatetimeError:
        slow = None
    assert fast is None or (fast == slow and fast.utcoffset() == slow.utcoffset())
    assert slow is None or fast is not None


@settings(max_examples=300)
@given(value=aware, sep=st.sampled_from("T "), offset_style=st.integers(0, 2))
def test_agrees_with_fromisoformat(value: datetime, sep: str, offset_style: int) -> None:
    text = value.isoformat(sep=sep)
    if offset_style == 1:
        text = text[:-6] + text[-6:].replace(":", "")  # +hhmm
    elif offset_style == 2 and value.utcoffset() == timedelta(0):
        text = text[:-6] + "Z"
    for twin in TWINS:
        ours = twin.datetime.parse_datetime(text)
        theirs = datetime.fromisoformat(text)
        assert ours == theirs and ours.utcoffset() == theirs.utcoffset()


@settings(max_examples=300)
@given(value=aware.filter(lambda d: 1900 <= d.year), style=st.integers(0, 3))
def test_agrees_with_email_utils(value: datetime, style: int) -> None:
    value = value.replace(microsecond=0)
    name = ("RFC1123", "RFC1123Z", "RFC822", "RFC822Z")[style]
    if name in TWO_DIGIT and not 1969 <= value.year <= 2068:
        return
    text = py.format_datetime(value, name)
    theirs = email.utils.parsedate_to_datetime(text)
    for twin in TWINS:
        ours = twin.datetime.parse_datetime(text)
        assert ours == theirs and ours.utcoffset() == theirs.utcoffset()


def test_fromisoformat_cases() -> None:
    for text in ["2023-07-18T07:31:00.123456+05:30", "2023-07-18 07:31", "2023-07-18T07",
                 "2023-07-18T07:31:00,5", "2023-07-18", "2023-07-18T07:31:00.1234567Z"]:
        theirs = datetime.fromisoformat(text)
        if theirs.tzinfo is None:
            theirs = theirs.replace(tzinfo=timezone.utc)
        for twin in TWINS:
            assert twin.datetime.parse_datetime(text) == theirs
