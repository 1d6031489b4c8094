"""The compiled datetime twin's speed paths say exactly what the plain code says.

* The writer kernels ``format_datetime`` calls for RFC3339 and ISO8601 in the compiled twin
  (``_datetime_c.WRITE_KERNELS``) against the declared writers of ``_datetime_formats.FORMATS``
  and the Python twin's ``format_datetime``: every kind of tzinfo, with and without a fraction,
  years 1..9999.
* The fixed-layout readers of RFC 1123 and RFC 822 text against the Python twin, on the
  layouts they read and on every one-character change of them (each change either still
  parses the same or fails the same).
"""

from __future__ import annotations

import importlib
import zoneinfo
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from twins import SKIP_COMPILED

from inngest_core import _datetime_py as py
from inngest_core._datetime_formats import FORMATS

pytestmark = pytest.mark.skipif(SKIP_COMPILED is not None, reason=SKIP_COMPILED or "")

if SKIP_COMPILED is None:
    c = importlib.import_module("inngest_core._datetime_c")

WRITERS = {f.name: f.write for f in FORMATS}


class Minutes(tzinfo):
    """A tzinfo of our own (not ``timezone``): a fixed offset in minutes."""

    def __init__(self, minutes: int) -> None:
        self.minutes = minutes

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(minutes=self.minutes)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return f"M{self.minutes}"


class Subclass(datetime):
    """A datetime subclass that writes itself its own way: the kernel must not bypass it."""

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return "sub:" + super().isoformat(sep, timespec)


ZONES = sorted(zoneinfo.available_timezones())
minutes_east = st.integers(min_value=-1439, max_value=1439)
tzinfos = st.one_of(
    st.just(timezone.utc),
    st.just(timezone(timedelta(0))),  # offset 0 but not the timezone.utc singleton
    minutes_east.map(lambda m: timezone(timedelta(minutes=m))),
    minutes_east.map(Minutes),
    st.sampled_from(ZONES).map(zoneinfo.ZoneInfo) if ZONES else st.just(timezone.utc),
)
micros = st.one_of(st.just(0), st.integers(min_value=1, max_value=999_999),
                   st.integers(min_value=1, max_value=999).map(lambda k: k * 1000))
aware = st.builds(
    lambda d, us, tz: d.replace(microsecond=us, tzinfo=tz),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    micros, tzinfos)


def outcome(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return ("ok", fn(*args))
    except Exception as exc:  # noqa: BLE001 - the twins must agree on the exception too
        return (type(exc).__name__, str(exc))


def offset_minutes(value: datetime) -> int | None:
    offset = value.utcoffset()
    if offset is None or offset % timedelta(minutes=1):
        return None
    return offset // timedelta(minutes=1)


def test_kernels_are_the_formats_that_declare_them() -> None:
    assert set(c.WRITE_KERNELS) == {"RFC3339", "ISO8601"}
    assert set(c.WRITE_KERNELS) <= set(WRITERS)


@settings(max_examples=600)
@given(value=aware, name=st.sampled_from(["RFC3339", "ISO8601"]))
@example(value=datetime(1, 1, 1, tzinfo=timezone.utc), name="RFC3339")
@example(value=datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc), name="RFC3339")
@example(value=datetime(2023, 7, 18, 7, 31, 0, 100000, tzinfo=Minutes(-1)), name="RFC3339")
@example(value=datetime(2023, 7, 18, 7, 31, 0, 10, tzinfo=Minutes(1439)), name="ISO8601")
@example(value=datetime(2023, 7, 18, tzinfo=Minutes(-1439)), name="ISO8601")
def test_kernel_writes_what_the_declared_writer_writes(value: datetime, name: str) -> None:
    minutes = offset_minutes(value)
    if minutes is not None:
        assert c.WRITE_KERNELS[name](value, minutes) == WRITERS[name](value, minutes)
    assert outcome(c.format_datetime, value, name) == outcome(py.format_datetime, value, name)


@given(minutes=minutes_east, us=micros, name=st.sampled_from(["RFC3339", "ISO8601"]))
def test_kernel_writes_any_offset_it_is_given(minutes: int, us: int, name: str) -> None:
    value = datetime(2023, 7, 18, 7, 31, 5, us, tzinfo=timezone(timedelta(minutes=minutes)))
    assert c.WRITE_KERNELS[name](value, minutes) == WRITERS[name](value, minutes)


@pytest.mark.parametrize("name", ["RFC3339", "ISO8601"])
def test_subclass_writes_itself(name: str) -> None:
    value = Subclass(2023, 7, 18, 7, 31, 0, 120000, tzinfo=timezone.utc)
    assert c.WRITE_KERNELS[name](value, 0) == WRITERS[name](value, 0)
    assert c.format_datetime(value, name) == py.format_datetime(value, name)
    assert c.format_datetime(value, name).startswith("sub:")


# The fixed layouts: RFC 1123 and RFC 822 with a two-digit day and a zone name (every name the
# zone rule knows, in either case), the RFC 3339 core, and texts near them.
FIXED = [
    "Tue, 18 Jul 2023 07:31:00 GMT", "tue, 18 jul 2023 07:31:00 utc",
    "Sat, 01 Jan 0001 00:00:00 Z",
    "Fri, 31 Dec 9999 23:59:59 UT", "Thu, 29 Feb 2024 12:00:00 EST", "Wed, 28 Feb 2024 12:00:00 PDT",
    "Mon, 31 Jul 2023 23:59:59 cst", "Sun, 30 Apr 2023 10:10:10 MDT",
    "18 Jul 23 07:31 UTC", "18 Jul 23 07:31:59 GMT", "01 JAN 69 00:00 z", "31 Dec 68 23:59 PST",
    "29 Feb 24 07:31:00 EDT", "29 Feb 23 07:31 UTC", "31 Apr 23 07:31 UT", "18 Jul 23 24:00 UTC",
    "2023-07-18T07:31:00Z", "2023-07-18t07:31:00z", "2023-07-18T07:31:00.5+02:00",
]
# Every month name through the fixed readers' hash, and every weekday name (the 1st of each
# month of 2023 falls on each of them).
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
FIXED += [datetime(2023, m, 1, 7, 31, tzinfo=timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
          for m in range(1, 13)]
FIXED += [f"01 {name.upper() if m % 2 else name} 23 07:31 UT" for m, name in enumerate(MONTHS)]
REPLACEMENTS = "09aZz :,-+.T\x7f\x00é"


def near(text: str) -> list[str]:
    """``text``, and every text one character away from it (replaced, dropped or doubled)."""
    found = [text]
    for i in range(len(text)):
        found.extend(text[:i] + ch + text[i + 1:] for ch in REPLACEMENTS)
        found.append(text[:i] + text[i + 1:])
        found.append(text[:i] + text[i] + text[i:])
    return found


def parsed(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        value = fn(*args)
    except Exception as exc:  # noqa: BLE001 - the twins must agree on the exception too
        return (type(exc).__name__, str(exc), getattr(exc, "position", None))
    return ("ok", value, value.utcoffset())


@pytest.mark.parametrize("base", FIXED)
def test_fixed_layouts_read_what_the_python_twin_reads(base: str) -> None:
    for text in near(base):
        assert parsed(c.parse_datetime, text) == parsed(py.parse_datetime, text), text
        assert outcome(c.detect_format, text) == outcome(py.detect_format, text), text
        for name in ("RFC1123", "RFC822", "RFC3339"):
            assert (parsed(c.parse_datetime, text, name)
                    == parsed(py.parse_datetime, text, name)), (text, name)


class Text(str):
    """A str subclass: read by the general path, to the same result."""


def test_str_subclass_reads_the_same() -> None:
    for base in FIXED:
        assert parsed(c.parse_datetime, Text(base)) == parsed(py.parse_datetime, base)


def test_fixed_layouts_answer_with_the_shared_zones() -> None:
    """UTC is datetime.timezone.utc itself; a named zone's fixed offset is made once."""
    for text in ("Tue, 18 Jul 2023 07:31:00 GMT", "18 Jul 23 07:31 UTC", "18 Jul 23 07:31 z"):
        assert c.parse_datetime(text).tzinfo is timezone.utc
    est = c.parse_datetime("18 Jul 23 07:31 EST")
    assert est.utcoffset() == timedelta(hours=-5)
    assert c.parse_datetime("Tue, 18 Jul 2023 07:31:00 EST").tzinfo is est.tzinfo
    assert c.parse_datetime("Tue, 18 Jul 2023 07:31:00 GMT") == datetime(2023, 7, 18, 7, 31,
                                                                        tzinfo=timezone.utc)
