"""Datetimes, per twin: every format and every rule, valid and invalid, with exact values,
exact error types and exact messages."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

import inngest_core
from inngest_core import DatetimeError
from twins import SKIP_COMPILED

UTC = timezone.utc


def tz(minutes: int) -> timezone:
    return timezone(timedelta(minutes=minutes))


def dt(*args: int, offset: int = 0) -> datetime:
    return datetime(*args, tzinfo=UTC if offset == 0 else tz(offset))  # type: ignore[misc]


VALID = [
    # text, detected format, value
    ("2023-07-18T07:31:00Z", "RFC3339", dt(2023, 7, 18, 7, 31)),
    ("2023-07-18t07:31:00z", "RFC3339", dt(2023, 7, 18, 7, 31)),
    ("2023-07-18T07:31:00.5+02:00", "RFC3339", dt(2023, 7, 18, 7, 31, 0, 500000, offset=120)),
    ("2023-07-18T07:31:00.123456789-05:30", "RFC3339",
     dt(2023, 7, 18, 7, 31, 0, 123456, offset=-330)),
    ("2023-07-18T23:59:59.9999999Z", "RFC3339", dt(2023, 7, 18, 23, 59, 59, 999999)),
    ("0001-01-01T00:00:00Z", "RFC3339", dt(1, 1, 1)),
    ("9999-12-31T23:59:59+23:59", "RFC3339", dt(9999, 12, 31, 23, 59, 59, offset=1439)),
    ("2024-02-29T00:00:00-00:00", "RFC3339", dt(2024, 2, 29)),
    ("2023-07-18 07:31", "ISO8601", dt(2023, 7, 18, 7, 31)),
    ("2023-07-18T07", "ISO8601", dt(2023, 7, 18, 7)),
    ("2023-07-18T07:31:00", "ISO8601", dt(2023, 7, 18, 7, 31)),
    ("2023-07-18 07:31:00Z", "ISO8601", dt(2023, 7, 18, 7, 31)),
    ("2023-07-18T07:31+0200", "ISO8601", dt(2023, 7, 18, 7, 31, offset=120)),
    ("2023-07-18T07:31:00,25-03", "ISO8601", dt(2023, 7, 18, 7, 31, 0, 250000, offset=-180)),
    ("2023-07-18", "ISODATE", dt(2023, 7, 18)),
    ("Tue, 18 Jul 2023 07:31:00 GMT", "RFC1123", dt(2023, 7, 18, 7, 31)),
    ("tue, 8 JUL 2023 07:31:00 pdt", "RFC1123", None),  # 8 Jul 2023 is a Saturday: error
    ("Sat, 8 Jul 2023 07:31:00 EDT", "RFC1123", dt(2023, 7, 8, 7, 31, offset=-240)),
    ("Tue, 18 Jul 2023 07:31:00 +0200", "RFC1123Z", dt(2023, 7, 18, 7, 31, offset=120)),
    ("18 Jul 23 07:31 UTC", "RFC822", dt(2023, 7, 18, 7, 31)),
    ("Tue, 18 Jul 23 07:31:05 UT", "RFC822", dt(2023, 7, 18, 7, 31, 5)),
    ("1 Jan 69 00:00 Z", "RFC822", dt(1969, 1, 1)),
    ("31 Dec 68 23:59 CST", "RFC822", dt(2068, 12, 31, 23, 59, offset=-360)),
    ("18 Jul 23 07:31 +0200", "RFC822Z", dt(2023, 7, 18, 7, 31, offset=120)),
    ("Tue, 18 Jul 23 07:31:00 -0700", "RFC822Z", dt(2023, 7, 18, 7, 31, offset=-420)),
    ("Tuesday, 18-Jul-23 07:31:00 UTC", "RFC850", dt(2023, 7, 18, 7, 31)),
    ("SATURDAY, 8-Jul-23 07:31:00 MST", "RFC850", dt(2023, 7, 8, 7, 31, offset=-420)),
    ("Tue Jul 18 07:31:00 UTC 2023", "UNIX", dt(2023, 7, 18, 7, 31)),
    ("Sat Jul  8 07:31:00 MDT 2023", "UNIX", dt(2023, 7, 8, 7, 31, offset=-360)),
    ("Sat Jul  8 07:31:00 2023", "ANSIC", dt(2023, 7, 8, 7, 31)),
    ("Sat Jul 8 07:31:00 2023", "ANSIC", dt(2023, 7, 8, 7, 31)),
    ("Sat Jul 08 07:31:00 2023", "ANSIC", dt(2023, 7, 8, 7, 31)),
    ("Tue Jul 18 07:31:00 +0000 2023", "RUBY", dt(2023, 7, 18, 7, 31)),
    ("Sat Jul 8 07:31:00 -0800 2023", "RUBY", dt(2023, 7, 8, 7, 31, offset=-480)),
    ("1689665460", "EPOCH", dt(2023, 7, 18, 7, 31)),
    ("+1689665460.25", "EPOCH", dt(2023, 7, 18, 7, 31, 0, 250000)),
    ("-1.5", "EPOCH", dt(1969, 12, 31, 23, 59, 58, 500000)),
    ("-0.0000001", "EPOCH", dt(1969, 12, 31, 23, 59, 59, 999999)),
    ("0.0000009", "EPOCH", dt(1970, 1, 1)),
    ("-62135596800", "EPOCH", dt(1, 1, 1)),
    ("253402300799.9999999", "EPOCH", dt(9999, 12, 31, 23, 59, 59, 999999)),
    ("000000000000000000001", "EPOCH", dt(1970, 1, 1, 0, 0, 1)),
]


@pytest.mark.parametrize(("text", "name", "value"), [v for v in VALID if v[2] is not None])
def test_valid_detected_and_explicit(impl, text: str, name: str, value: datetime) -> None:
    got = impl.datetime.parse_datetime(text)
    assert got == value
    assert got.utcoffset() == value.utcoffset()
    assert impl.datetime.detect_format(text) == name
    explicit = impl.datetime.parse_datetime(text, name)
    assert explicit == value and explicit.utcoffset() == value.utcoffset()


def test_tzinfo_is_utc_singleton_or_cached(impl) -> None:
    p = impl.datetime.parse_datetime
    assert p("2023-07-18T07:31:00+00:00").tzinfo is timezone.utc
    assert p("Tue, 18 Jul 2023 07:31:00 GMT").tzinfo is timezone.utc
    assert p("2023-07-18T07:31:00+02:00").tzinfo is p("18 Jul 23 07:31 +0200").tzinfo
    assert p("2023-07-18").tzinfo is timezone.utc


@pytest.mark.parametrize(("text", "value"), [
    ("1689665460000", dt(2023, 7, 18, 7, 31)),
    ("1689665460000.5", dt(2023, 7, 18, 7, 31, 0, 500)),
    ("-1", dt(1969, 12, 31, 23, 59, 59, 999000)),
    ("-0.0001", dt(1969, 12, 31, 23, 59, 59, 999999)),
])
def test_epoch_ms(impl, text: str, value: datetime) -> None:
    assert impl.datetime.parse_datetime(text, "EPOCH_MS") == value


def test_epoch_ms_never_detected(impl) -> None:
    assert impl.datetime.detect_format("1689665460") == "EPOCH"
    with pytest.raises(DatetimeError, match="^EPOCH: timestamp out of range"):
        impl.datetime.detect_format("1689665460000")


def test_iso8601_accepts_rfc3339_and_bare_date(impl) -> None:
    p = impl.datetime.parse_datetime
    assert p("2023-07-18T07:31:00Z", "ISO8601") == dt(2023, 7, 18, 7, 31)
    assert p("2023-07-18", "ISO8601") == dt(2023, 7, 18)


ERRORS = [
    # text, format, message
    ("Tue, 18 Jux 2023 07:31:00 GMT", None,
     'RFC1123: expected a month name at position 8 in "Tue, 18 Jux 2023 07:31:00 GMT"'),
    ("Mon, 18 Jul 2023 07:31:00 GMT", None,
     'RFC1123: weekday "Mon" at position 0 does not match the date in '
     '"Mon, 18 Jul 2023 07:31:00 GMT": 2023-07-18 is a Tuesday'),
    ("tue, 8 JUL 2023 07:31:00 pdt", None,
     'RFC1123: weekday "tue" at position 0 does not match the date in '
     '"tue, 8 JUL 2023 07:31:00 pdt": 2023-07-08 is a Saturday'),
    ("Tue, 18 Jul 2023 07:31:00 CET", None,
     'RFC1123: unknown time zone "CET" at position 26 in "Tue, 18 Jul 2023 07:31:00 CET" '
     "(known: Z, UT, UTC, GMT, EST, EDT, CST, CDT, MST, MDT, PST, PDT, or a numeric offset "
     "where the format has one)"),
    ("Tue, 18 Jul 2023 07:31:00 +0200", "RFC1123",
     'RFC1123: expected a zone name at position 26 in "Tue, 18 Jul 2023 07:31:00 +0200"'),
    ("Tue, 18 Jul 2023 07:31:00 GMT", "RFC1123Z",
     'RFC1123Z: expected a zone offset like "+hhmm" at position 26 in '
     '"Tue, 18 Jul 2023 07:31:00 GMT"'),
    ("Tue, 18 Jul 2023 07:31 GMT", None,
     'RFC1123: expected ":" at position 22 in "Tue, 18 Jul 2023 07:31 GMT"'),
    ("Tue, 18 Jul 23 07:31x UTC", None,
     'RFC822: expected ":" or " " at position 20 in "Tue, 18 Jul 23 07:31x UTC"'),
    ("2023-02-29", None, 'ISODATE: day 29 does not exist in February 2023 at position 8 in '
     '"2023-02-29"'),
    ("2023-13-01T00:00:00Z", None,
     'RFC3339: month 13 out of range 1..12 at position 5 in "2023-13-01T00:00:00Z"'),
    ("0000-01-01T00:00:00Z", None,
     'RFC3339: year 0 out of range 1..9999 at position 0 in "0000-01-01T00:00:00Z"'),
    ("2023-07-18T24:00:00Z", None,
     'RFC3339: hour 24 out of range 0..23 at position 11 in "2023-07-18T24:00:00Z"'),
    ("2023-07-18 07:60", None,
     'ISO8601: minute 60 out of range 0..59 at position 14 in "2023-07-18 07:60"'),
    ("2016-12-31T23:59:60Z", None,
     "RFC3339: second 60 is a leap second, which Python's datetime cannot represent, "
     'at position 17 in "2016-12-31T23:59:60Z"'),
    ("2023-07-18T07:31:61Z", None,
     'RFC3339: second 61 out of range 0..59 at position 17 in "2023-07-18T07:31:61Z"'),
    ("2023-07-18T07:31:00+24:00", None,
     'RFC3339: offset hours 24 out of range 0..23 at position 20 in '
     '"2023-07-18T07:31:00+24:00"'),
    ("18 Jul 23 07:31 +0260", None,
     'RFC822Z: offset minutes 60 out of range 0..59 at position 19 in "18 Jul 23 07:31 +0260"'),
    ("2023-07-18T07:31:00", "RFC3339",
     'RFC3339: expected "Z" or a zone offset like "+hh:mm" at position 19 in '
     '"2023-07-18T07:31:00"'),
    ("2023-07-18 07:31:00Z", "RFC3339",
     'RFC3339: expected "T" at position 10 in "2023-07-18 07:31:00Z"'),
    ("2023-07-18", "RFC3339", 'RFC3339: expected "T" at position 10 in "2023-07-18"'),
    ("2023-07-18x07", None,
     'ISO8601: expected "T" or " " at position 10 in "2023-07-18x07"'),
    ("2023-07-18T07:31:00.Z", None,
     'ISO8601: expected a digit at position 20 in "2023-07-18T07:31:00.Z"'),
    ("2023-07-18T07x", None,
     'ISO8601: expected "Z", a zone offset like "+hh:mm" or the end of the text at position '
     '13 in "2023-07-18T07x"'),
    ("2023-07-18T07:31:00Z ", None,
     'ISO8601: expected the end of the text at position 20 in "2023-07-18T07:31:00Z "'),
    (" 2023-07-18", None,
     'unknown datetime format: expected a digit, a sign or a letter at position 0 in '
     '" 2023-07-18" (considered RFC3339, ISO8601, ISODATE, RFC1123, RFC1123Z, RFC822, '
     "RFC822Z, RFC850, UNIX, ANSIC, RUBY, EPOCH)"),
    ("", None,
     'unknown datetime format: expected a digit, a sign or a letter at position 0 in "" '
     "(considered RFC3339, ISO8601, ISODATE, RFC1123, RFC1123Z, RFC822, RFC822Z, RFC850, "
     "UNIX, ANSIC, RUBY, EPOCH)"),
    ("Tue. 18 Jul", None,
     'unknown datetime format: expected "," or " " at position 3 in "Tue. 18 Jul" '
     "(considered RFC1123, RFC1123Z, RFC822, RFC822Z, RFC850, UNIX, ANSIC, RUBY)"),
    ("2023-07-１8", None, 'ISODATE: expected a digit at position 8 in "2023-07-１8"'),
    ("Tues, 18-Jul-23 07:31:00 UTC", None,
     'RFC850: expected a full weekday name at position 0 in "Tues, 18-Jul-23 07:31:00 UTC"'),
    ("Tue Jul  18 07:31:00 2023", None,
     'ANSIC: expected " " at position 10 in "Tue Jul  18 07:31:00 2023"'),
    ("Sat Jul  8 07:31:00 +0000 2023", None,
     'RUBY: expected a digit at position 8 in "Sat Jul  8 07:31:00 +0000 2023"'),
    ("Tue Jul 18 07:31:00 2023 ", None,
     'ANSIC: expected the end of the text at position 24 in "Tue Jul 18 07:31:00 2023 "'),
    ("1.", None, 'EPOCH: expected a digit at position 2 in "1."'),
    ("-", None, 'EPOCH: expected a digit at position 1 in "-"'),
    ("12e3", None, 'EPOCH: expected a digit, "." or the end of the text at position 2 in "12e3"'),
    ("253402300800", None,
     'EPOCH: timestamp out of range (years 1..9999) at position 0 in "253402300800"'),
    ("-62135596800.000001", None,
     'EPOCH: timestamp out of range (years 1..9999) at position 0 in "-62135596800.000001"'),
    ("2023-07-18", "NOPE",
     'unknown datetime format "NOPE"; expected one of RFC3339, ISO8601, ISODATE, RFC1123, '
     "RFC1123Z, RFC822, RFC822Z, RFC850, UNIX, ANSIC, RUBY, EPOCH, EPOCH_MS"),
]


@pytest.mark.parametrize(("text", "format", "message"), ERRORS)
def test_errors(impl, text: str, format: str | None, message: str) -> None:
    with pytest.raises(DatetimeError) as info:
        impl.datetime.parse_datetime(text, format)
    assert str(info.value) == message
    assert info.value.text == text
    assert isinstance(info.value, ValueError)
    if format is None:
        with pytest.raises(DatetimeError) as again:
            impl.datetime.detect_format(text)
        assert str(again.value) == message


def test_error_attributes(impl) -> None:
    with pytest.raises(DatetimeError) as info:
        impl.datetime.parse_datetime("Tue, 18 Jux 2023 07:31:00 GMT")
    assert (info.value.position, info.value.format) == (8, "RFC1123")
    with pytest.raises(DatetimeError) as info:
        impl.datetime.parse_datetime("@")
    assert (info.value.position, info.value.format) == (0, None)


def test_type_errors(impl) -> None:
    with pytest.raises(TypeError, match="datetime text must be str, not bytes"):
        impl.datetime.parse_datetime(b"2023-07-18")
    with pytest.raises(TypeError, match="datetime text must be str, not NoneType"):
        impl.datetime.detect_format(None)
    with pytest.raises(TypeError, match="datetime format must be str or None, not int"):
        impl.datetime.parse_datetime("2023-07-18", 3)
    with pytest.raises(TypeError, match="datetime value must be datetime, not str"):
        impl.datetime.format_datetime("2023-07-18")


def test_str_subclass_and_non_ascii(impl) -> None:
    class S(str):
        pass

    assert impl.datetime.parse_datetime(S("2023-07-18")) == dt(2023, 7, 18)
    with pytest.raises(DatetimeError, match="position 11"):
        impl.datetime.parse_datetime("2023-07-18T\u00e907:31:00Z")
    with pytest.raises(DatetimeError, match="expected a weekday name at position 0"):
        impl.datetime.parse_datetime("\u017fun Jul  9 07:31:00 2023", "ANSIC")


def test_long_input_is_linear(impl) -> None:
    import time

    cases = [
        ("2023-07-18T07:31:00." + "1" * 10_000_000 + "Z", None),
        ("1" * 10_000_000, None),
        ("Tue, 18 Jul 2023 07:31:00 " + "G" * 10_000_000, None),
        ("Tue " + " " * 10_000_000, None),
        ("9" * 10_000_000, "EPOCH_MS"),
        ("\u00e9" * 10_000_000, None),
    ]
    for text, format in cases:
        start = time.perf_counter()
        try:
            impl.datetime.parse_datetime(text, format)
        except DatetimeError as exc:
            assert len(str(exc)) < 400
        # Generous (a busy machine): only quadratic work could take this long on 10 MB.
        assert time.perf_counter() - start < 5


FORMAT_CASES = [
    ("RFC3339", dt(2023, 7, 18, 7, 31, 0, 120000, offset=120), "2023-07-18T07:31:00.12+02:00"),
    ("RFC3339", dt(2023, 7, 18, 7, 31), "2023-07-18T07:31:00Z"),
    ("ISO8601", dt(2023, 7, 18, 7, 31, 0, 120000), "2023-07-18T07:31:00.120000+00:00"),
    ("ISODATE", dt(2023, 7, 18, 23, 0, offset=-120), "2023-07-19"),
    ("RFC1123", dt(2023, 7, 18, 7, 31, offset=120), "Tue, 18 Jul 2023 05:31:00 GMT"),
    ("RFC1123Z", dt(2023, 7, 8, 7, 31, offset=-330), "Sat, 08 Jul 2023 07:31:00 -0530"),
    ("RFC822", dt(2023, 7, 18, 7, 31, 59), "18 Jul 23 07:31 UTC"),
    ("RFC822Z", dt(2023, 7, 18, 7, 31, offset=120), "18 Jul 23 07:31 +0200"),
    ("RFC850", dt(2023, 7, 18, 7, 31), "Tuesday, 18-Jul-23 07:31:00 UTC"),
    ("UNIX", dt(2023, 7, 8, 7, 31), "Sat Jul  8 07:31:00 UTC 2023"),
    ("ANSIC", dt(2023, 7, 8, 7, 31), "Sat Jul  8 07:31:00 2023"),
    ("RUBY", dt(2023, 7, 8, 7, 31), "Sat Jul 08 07:31:00 +0000 2023"),
    ("EPOCH", dt(2023, 7, 18, 7, 31), "1689665460"),
    ("EPOCH", dt(1969, 12, 31, 23, 59, 58, 500000), "-1.5"),
    ("EPOCH_MS", dt(1969, 12, 31, 23, 59, 59, 999999), "-1"),
]


@pytest.mark.parametrize(("name", "value", "text"), FORMAT_CASES)
def test_format(impl, name: str, value: datetime, text: str) -> None:
    assert impl.datetime.format_datetime(value, name) == text


def test_format_errors(impl) -> None:
    f = impl.datetime.format_datetime
    with pytest.raises(DatetimeError, match=r"^RFC3339: cannot format a naive datetime "
                       r"\(2023-07-18T00:00:00\); give it a tzinfo$"):
        f(datetime(2023, 7, 18))
    with pytest.raises(DatetimeError, match="not a whole number of minutes"):
        f(datetime(2023, 7, 18, tzinfo=timezone(timedelta(seconds=30))))
    with pytest.raises(DatetimeError, match=r"year 2069 has no two-digit form \(1969..2068\)"):
        f(dt(2069, 1, 1), "RFC822")
    with pytest.raises(DatetimeError, match="in UTC it falls outside years 1..9999"):
        f(dt(1, 1, 1, offset=60), "RFC1123")
    with pytest.raises(DatetimeError, match='unknown datetime format "rfc3339"'):
        f(dt(2023, 1, 1), "rfc3339")


def test_formats_tuple(impl) -> None:
    assert impl.datetime.DATETIME_FORMATS == (
        "RFC3339", "ISO8601", "ISODATE", "RFC1123", "RFC1123Z", "RFC822", "RFC822Z", "RFC850",
        "UNIX", "ANSIC", "RUBY", "EPOCH", "EPOCH_MS")
    assert inngest_core.DATETIME_FORMATS == impl.datetime.DATETIME_FORMATS


def test_public_api_is_the_live_twin() -> None:
    from inngest_core import datetimes

    expected = "python" if SKIP_COMPILED else "compiled"
    assert inngest_core.IMPLEMENTATION == expected
    module = "inngest_core._datetime_py" if expected == "python" else "_datetime_c"
    assert inngest_core.parse_datetime.__module__.endswith(module.split(".")[-1])
    assert datetimes.parse_datetime is inngest_core.parse_datetime


@pytest.mark.skipif(bool(SKIP_COMPILED), reason=SKIP_COMPILED or "")
def test_compiled_twin_loaded() -> None:
    module = importlib.import_module("inngest_core._datetime_c")
    assert module.__file__ is not None and not module.__file__.endswith(".py")


def test_switch_selects_python_twin() -> None:
    code = ("import inngest_core; print(inngest_core.IMPLEMENTATION, "
            "inngest_core.parse_datetime.__module__)")
    env = dict(os.environ, INNGEST_CORE_NO_EXTENSIONS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["python", "inngest_core._datetime_py"]
