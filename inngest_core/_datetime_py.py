"""Pure-Python twin of the datetime parser (the compiled twin is ``src_pyx/_datetime_c.pyx``).

Two layers.  The fast layer is one precompiled, linear regular expression per format (no
nested quantifiers; names matched ASCII-only and case-insensitively) followed by ``int()``
and ``datetime()``; it only ever answers with a result.  Whenever it does not match, or the
values do not make a valid datetime, the reference scanner below reads the text character by
character exactly as the compiled twin does and either returns the same result or raises the
same :class:`~inngest_core.errors.DatetimeError` (same message, same position).  Unbounded runs
(fraction digits, epoch digits, zone names) are measured with regular expressions, so the
scanner stays linear and fast on very long input too.

The order of checks, shared with the compiled twin: first the syntax, left to right (a zone
name that is not known is a syntax error at the name); then the values: year, month, day,
hour, minute, second, offset hours, offset minutes, weekday.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional

from ._datetime_formats import (
    DATETIME_FORMATS,
    FORMATS,
    MONTH_ABBR,
    SCAN_CTIME,
    SCAN_EMAIL,
    SCAN_EPOCH,
    SCAN_ISO,
    SCAN_RFC850,
    WEEKDAY_ABBR,
    WEEKDAY_FULL,
    ZONE_ISO,
    ZONE_NAME,
    ZONE_NONE,
    ZONE_OFFSET,
    ZONES,
    DatetimeFormat,
    detected_format,
    format_datetime,
)
from .errors import datetime_error

__all__ = ["parse_datetime", "detect_format", "format_datetime", "DATETIME_FORMATS"]

#: Detected ISO 8601 text that is not a bare date: RFC3339 when it is strict, else ISO8601.
ISO_AUTO = len(FORMATS)
_RFC3339 = detected_format(SCAN_ISO, 4, ZONE_ISO, True)
_ISO8601 = detected_format(SCAN_ISO, 4, ZONE_ISO, False)
_IDS = {name: i for i, name in enumerate(DATETIME_FORMATS)}

_UTC = timezone.utc
_EPOCH_DT = datetime(1970, 1, 1, tzinfo=_UTC)
_TZ: dict[int, timezone] = {0: _UTC}

_MONTHS = {m.lower(): i + 1 for i, m in enumerate(MONTH_ABBR)}
_WEEKDAYS = {d.lower(): i for i, d in enumerate(WEEKDAY_ABBR)}
_FULL_WEEKDAYS = {d.lower(): i for i, d in enumerate(WEEKDAY_FULL)}
_ZONES = ZONES
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DIGITS = frozenset("0123456789")
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_MIN_US = -62135596800 * 10**6  # 0001-01-01T00:00:00Z
_MAX_US = 253402300800 * 10**6 - 1  # 9999-12-31T23:59:59.999999Z

_DIGIT_RUN = re.compile("[0-9]*")
_LETTER_RUN = re.compile("[A-Za-z]*")
_NONZERO = re.compile("[1-9]")


def _digits_end(text: str, i: int = 0) -> int:
    """The end of the run of ASCII digits starting at ``i``."""
    m = _DIGIT_RUN.match(text, i)
    return m.end() if m else i


def _letters_end(text: str, i: int = 0) -> int:
    """The end of the run of ASCII letters starting at ``i``."""
    m = _LETTER_RUN.match(text, i)
    return m.end() if m else i


def _tz(minutes: int) -> timezone:
    tz = _TZ.get(minutes)
    if tz is None:
        tz = _TZ[minutes] = timezone(timedelta(minutes=minutes))
    return tz


def _two_digit_year(value: int) -> int:
    return value + (1900 if value >= 69 else 2000)


# --------------------------------------------------------------------------- fast layer
# Every regex is anchored by fullmatch; every quantifier is over a single character class
# followed by a character outside it, so a failed match costs time linear in the text.

_A = re.ASCII
_MON = "(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
_WDAY = "(mon|tue|wed|thu|fri|sat|sun)"
_FULL_WDAY = "(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_ZONE = "(utc|ut|gmt|z|est|edt|cst|cdt|mst|mdt|pst|pdt)"
_OFF4 = "([+-])([0-9]{2})([0-9]{2})"
_TIME = "([0-9]{2}):([0-9]{2}):([0-9]{2})"
_RE_RFC3339 = re.compile(
    "([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\\.([0-9]+))?"
    "(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))", _A)
_RE_ISO8601 = re.compile(
    "([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[Tt ]([0-9]{2})(?::([0-9]{2})(?::([0-9]{2})"
    "(?:[.,]([0-9]+))?)?)?(?:[Zz]|([+-])([0-9]{2})(?::?([0-9]{2}))?)?)?", _A)
_RE_ISODATE = re.compile("([0-9]{4})-([0-9]{2})-([0-9]{2})", _A)
_RE_RFC1123 = re.compile(f"(?i:{_WDAY}), ([0-9]{{1,2}}) (?i:{_MON}) ([0-9]{{4}}) {_TIME} "
                         f"(?i:{_ZONE})", _A)
_RE_RFC1123Z = re.compile(f"(?i:{_WDAY}), ([0-9]{{1,2}}) (?i:{_MON}) ([0-9]{{4}}) {_TIME} "
                          f"{_OFF4}", _A)
_RE_RFC822 = re.compile(f"(?:(?i:{_WDAY}), )?([0-9]{{1,2}}) (?i:{_MON}) ([0-9]{{2}}) "
                        f"([0-9]{{2}}):([0-9]{{2}})(?::([0-9]{{2}}))? (?i:{_ZONE})", _A)
_RE_RFC822Z = re.compile(f"(?:(?i:{_WDAY}), )?([0-9]{{1,2}}) (?i:{_MON}) ([0-9]{{2}}) "
                         f"([0-9]{{2}}):([0-9]{{2}})(?::([0-9]{{2}}))? {_OFF4}", _A)
_RE_RFC850 = re.compile(f"(?i:{_FULL_WDAY}), ([0-9]{{1,2}})-(?i:{_MON})-([0-9]{{2}}) {_TIME} "
                        f"(?i:{_ZONE})", _A)
_RE_UNIX = re.compile(f"(?i:{_WDAY}) (?i:{_MON}) (?: ([0-9])|([0-9]{{1,2}})) {_TIME} "
                      f"(?i:{_ZONE}) ([0-9]{{4}})", _A)
_RE_ANSIC = re.compile(f"(?i:{_WDAY}) (?i:{_MON}) (?: ([0-9])|([0-9]{{1,2}})) {_TIME} "
                       "([0-9]{4})", _A)
_RE_RUBY = re.compile(f"(?i:{_WDAY}) (?i:{_MON}) ([0-9]{{1,2}}) {_TIME} {_OFF4} ([0-9]{{4}})",
                      _A)


def _offset(sign: str | None, hours: str | None, minutes: str | None) -> Optional[timezone]:
    if sign is None:
        return _UTC
    oh = int(hours)  # type: ignore[arg-type]
    om = int(minutes) if minutes else 0
    if oh > 23 or om > 59:
        return None
    return _tz(oh * 60 + om if sign == "+" else -(oh * 60 + om))


def _micro(fraction: str | None) -> int:
    if not fraction:
        return 0
    return int(fraction[:6].ljust(6, "0"))


def _iso_fast(m: re.Match[str] | None) -> Optional[datetime]:
    if m is None:
        return None
    y, mo, d, h, mi, s, frac, sign, oh, om = m.groups()
    tz = _offset(sign, oh, om)
    if tz is None:
        return None
    try:
        return datetime(int(y), int(mo), int(d), int(h) if h else 0, int(mi) if mi else 0,
                        int(s) if s else 0, _micro(frac), tz)
    except ValueError:
        return None


def _fast_rfc3339(text: str) -> Optional[datetime]:
    return _iso_fast(_RE_RFC3339.fullmatch(text))


def _fast_iso8601(text: str) -> Optional[datetime]:
    return _iso_fast(_RE_ISO8601.fullmatch(text))


def _fast_iso_auto(text: str) -> Optional[datetime]:
    return _iso_fast(_RE_RFC3339.fullmatch(text)) or _iso_fast(_RE_ISO8601.fullmatch(text))


def _fast_isodate(text: str) -> Optional[datetime]:
    m = _RE_ISODATE.fullmatch(text)
    if m is None:
        return None
    try:
        return datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=_UTC)
    except ValueError:
        return None


def _checked(weekday: str | None, y: int, mo: str, d: str, h: str, mi: str, s: str | None,
             tz: Optional[timezone]) -> Optional[datetime]:
    if tz is None:
        return None
    try:
        dt = datetime(y, _MONTHS[mo.lower()], int(d), int(h), int(mi), int(s) if s else 0, 0, tz)
    except ValueError:
        return None
    if weekday is not None and dt.weekday() != _WEEKDAYS[weekday[:3].lower()]:
        return None
    return dt


def _fast_rfc1123(text: str) -> Optional[datetime]:
    m = _RE_RFC1123.fullmatch(text)
    if m is None:
        return None
    w, d, mo, y, h, mi, s, zone = m.groups()
    return _checked(w, int(y), mo, d, h, mi, s, _tz(_ZONES[zone.upper()]))


def _fast_rfc1123z(text: str) -> Optional[datetime]:
    m = _RE_RFC1123Z.fullmatch(text)
    if m is None:
        return None
    w, d, mo, y, h, mi, s, sign, oh, om = m.groups()
    return _checked(w, int(y), mo, d, h, mi, s, _offset(sign, oh, om))


def _fast_rfc822(text: str) -> Optional[datetime]:
    m = _RE_RFC822.fullmatch(text)
    if m is None:
        return None
    w, d, mo, y, h, mi, s, zone = m.groups()
    return _checked(w, _two_digit_year(int(y)), mo, d, h, mi, s, _tz(_ZONES[zone.upper()]))


def _fast_rfc822z(text: str) -> Optional[datetime]:
    m = _RE_RFC822Z.fullmatch(text)
    if m is None:
        return None
    w, d, mo, y, h, mi, s, sign, oh, om = m.groups()
    return _checked(w, _two_digit_year(int(y)), mo, d, h, mi, s, _offset(sign, oh, om))


def _fast_rfc850(text: str) -> Optional[datetime]:
    m = _RE_RFC850.fullmatch(text)
    if m is None:
        return None
    w, d, mo, y, h, mi, s, zone = m.groups()
    return _checked(w, _two_digit_year(int(y)), mo, d, h, mi, s, _tz(_ZONES[zone.upper()]))


def _fast_unix(text: str) -> Optional[datetime]:
    m = _RE_UNIX.fullmatch(text)
    if m is None:
        return None
    w, mo, d1, d2, h, mi, s, zone, y = m.groups()
    return _checked(w, int(y), mo, d1 or d2, h, mi, s, _tz(_ZONES[zone.upper()]))


def _fast_ansic(text: str) -> Optional[datetime]:
    m = _RE_ANSIC.fullmatch(text)
    if m is None:
        return None
    w, mo, d1, d2, h, mi, s, y = m.groups()
    return _checked(w, int(y), mo, d1 or d2, h, mi, s, _UTC)


def _fast_ruby(text: str) -> Optional[datetime]:
    m = _RE_RUBY.fullmatch(text)
    if m is None:
        return None
    w, mo, d, h, mi, s, sign, oh, om, y = m.groups()
    return _checked(w, int(y), mo, d, h, mi, s, _offset(sign, oh, om))


def _no_fast(text: str) -> Optional[datetime]:
    return None


_FAST_BY_NAME: dict[str, Callable[[str], Optional[datetime]]] = {
    "RFC3339": _fast_rfc3339, "ISO8601": _fast_iso8601, "ISODATE": _fast_isodate,
    "RFC1123": _fast_rfc1123, "RFC1123Z": _fast_rfc1123z, "RFC822": _fast_rfc822,
    "RFC822Z": _fast_rfc822z, "RFC850": _fast_rfc850, "UNIX": _fast_unix, "ANSIC": _fast_ansic,
    "RUBY": _fast_ruby,
}  # fmt: skip
#: By format index (a format without a fast function is read by its scanner alone), then
#: ISO_AUTO.
_FAST = tuple(_FAST_BY_NAME.get(name, _no_fast) for name in DATETIME_FORMATS) + (_fast_iso_auto,)


def _fast_detected(text: str) -> Optional[datetime]:
    """The fast layer without a format: a shape's likely formats, tried in turn.  A result
    here means the text is valid in that format, so detection would have named it too."""
    c = text[:1]
    if c in _LETTERS:
        separator = text[3:4]
        if separator == ",":
            if text[-5:-4] in ("+", "-"):
                return _fast_rfc1123z(text) or _fast_rfc822z(text)
            return _fast_rfc1123(text) or _fast_rfc822(text)
        if separator == " ":
            return _fast_unix(text) or _fast_ansic(text) or _fast_ruby(text)
        return None
    if c in _DIGITS:
        if text[4:5] == "-":
            return _fast_iso_auto(text)
        if text[1:3].find(" ") >= 0:
            return _fast_rfc822(text) or _fast_rfc822z(text)
    return None


# --------------------------------------------------------------------------- detection


def _predict(text: str) -> int:
    """The one format ``text`` can be in, from its shape; raises when it has none."""
    n = len(text)
    if n == 0:
        raise datetime_error("undetectable", text, 0, None, "start")
    c = text[0]
    if c in _DIGITS:
        k = _digits_end(text)
        if k == 4 and k < n and text[4] == "-":
            return detected_format(SCAN_ISO, 4, ZONE_NONE) if n == 10 else ISO_AUTO
        if k < n and text[k] == " ":
            return detected_format(SCAN_EMAIL, 2, _zone_kind(text))
        return detected_format(SCAN_EPOCH, 4, ZONE_NONE)
    if c == "+" or c == "-":
        return detected_format(SCAN_EPOCH, 4, ZONE_NONE)
    if c in _LETTERS:
        k = _letters_end(text)
        if k < n and text[k] == ",":
            if k != 3:
                return detected_format(SCAN_RFC850, 2, ZONE_NAME)
            # "Mon, 2 Jan 2006 ..." or "Mon, 2 Jan 06 ...": the year's width decides.
            i = min(_digits_end(text, min(5, n)) + 5, n)
            j = _digits_end(text, i)
            return detected_format(SCAN_EMAIL, 2 if j - i == 2 else 4, _zone_kind(text))
        if k < n and text[k] == " ":
            # The zone, if any, is the word before the year.
            last = text.rfind(" ")
            before = text.rfind(" ", 0, last)
            c = text[before + 1] if before >= 0 else ""
            zone = (ZONE_OFFSET if c == "+" or c == "-" else ZONE_NAME if c in _LETTERS
                    else ZONE_NONE)
            return detected_format(SCAN_CTIME, 4, zone)
        raise datetime_error("undetectable", text, k, None, "after_name")
    raise datetime_error("undetectable", text, 0, None, "start")


def _zone_kind(text: str) -> int:
    """The zone rule of the text's last word."""
    last = text.rfind(" ")
    if last + 1 < len(text) and text[last + 1] in "+-":
        return ZONE_OFFSET
    return ZONE_NAME


# --------------------------------------------------------------------------- reference scanner


class _Fields:
    """What the scanner read, with the position of each field for the value checks."""

    __slots__ = ("year", "month", "day", "hour", "minute", "second", "micro", "sign",
                 "offset_hours", "offset_minutes", "weekday", "p_year", "p_month", "p_day",
                 "p_hour", "p_minute", "p_second", "p_offset_hours", "p_offset_minutes",
                 "p_weekday", "weekday_end", "strict")

    def __init__(self) -> None:
        self.year = self.month = self.day = 1
        self.hour = self.minute = self.second = self.micro = 0
        self.sign = 1
        self.offset_hours = self.offset_minutes = 0
        self.weekday = -1
        self.p_year = self.p_month = self.p_day = self.p_hour = self.p_minute = 0
        self.p_second = self.p_offset_hours = self.p_offset_minutes = self.p_weekday = 0
        self.weekday_end = 0
        self.strict = True


class _Scanner:
    def __init__(self, text: str, name: str) -> None:
        self.text = text
        self.n = len(text)
        self.name = name

    def at(self, i: int) -> str:
        return self.text[i] if i < self.n else ""

    def fail(self, i: int, what: str) -> Exception:
        return datetime_error("expected", self.text, i, self.name, what)

    def digit(self, i: int) -> int:
        c = self.at(i)
        if c not in _DIGITS:
            raise self.fail(i, "digit")
        return ord(c) - 48

    def d2(self, i: int) -> int:
        return self.digit(i) * 10 + self.digit(i + 1)

    def d4(self, i: int) -> int:
        return self.d2(i) * 100 + self.d2(i + 2)

    def char(self, i: int, c: str) -> None:
        if self.at(i) != c:
            raise self.fail(i, c)

    def end(self, i: int, what: str = "end") -> None:
        if i != self.n:
            raise self.fail(i, what)

    def day12(self, f: _Fields, i: int) -> int:
        """A day of one or two digits; returns the position after it."""
        f.p_day = i
        f.day = self.digit(i)
        c = self.at(i + 1)
        if c and c in _DIGITS:
            f.day = f.day * 10 + ord(c) - 48
            return i + 2
        return i + 1

    def name3(self, i: int, table: dict[str, int], what: str) -> int:
        key = self.text[i:i + 3]
        if len(key) != 3 or not all(c in _LETTERS for c in key):
            raise self.fail(i, what)
        value = table.get(key.lower())
        if value is None:
            raise self.fail(i, what)
        return value

    def weekday3(self, f: _Fields, i: int) -> int:
        f.weekday = self.name3(i, _WEEKDAYS, "weekday")
        f.p_weekday = i
        f.weekday_end = i + 3
        return i + 3

    def month3(self, f: _Fields, i: int) -> int:
        f.month = self.name3(i, _MONTHS, "month")
        f.p_month = i
        return i + 3

    def time(self, f: _Fields, i: int) -> int:
        """``hh:mm:ss`` at ``i``; returns the position after it."""
        f.p_hour, f.hour = i, self.d2(i)
        self.char(i + 2, ":")
        f.p_minute, f.minute = i + 3, self.d2(i + 3)
        self.char(i + 5, ":")
        f.p_second, f.second = i + 6, self.d2(i + 6)
        return i + 8

    def zone_name(self, f: _Fields, i: int) -> int:
        j = _letters_end(self.text, i)
        if j == i:
            raise self.fail(i, "zone")
        minutes = _ZONES.get(self.text[i:j].upper())
        if minutes is None:
            raise datetime_error("unknown_zone", self.text, i, self.name, self.text[i:j])
        f.sign = -1 if minutes < 0 else 1
        f.offset_hours, f.offset_minutes = divmod(abs(minutes), 60)
        return j

    def offset4(self, f: _Fields, i: int) -> int:
        c = self.at(i)
        if c != "+" and c != "-":
            raise self.fail(i, "offset")
        f.sign = -1 if c == "-" else 1
        f.p_offset_hours, f.offset_hours = i + 1, self.d2(i + 1)
        f.p_offset_minutes, f.offset_minutes = i + 3, self.d2(i + 3)
        return i + 5

    def fraction(self, f: _Fields, i: int) -> int:
        """Digits after the decimal sign at ``i - 1``; truncated to microseconds."""
        j = _digits_end(self.text, i)
        if j == i:
            raise self.fail(i, "digit")
        f.micro = int(self.text[i:min(j, i + 6)].ljust(6, "0"))
        return j


def _scan_iso(s: _Scanner, strict: bool, date_only: bool) -> _Fields:
    """RFC 3339 when ``strict``; else looser ISO 8601 (``f.strict`` says whether the text kept
    to RFC 3339)."""
    f = _Fields()
    f.p_year, f.year = 0, s.d4(0)
    s.char(4, "-")
    f.p_month, f.month = 5, s.d2(5)
    s.char(7, "-")
    f.p_day, f.day = 8, s.d2(8)
    if date_only:
        s.end(10)
        return f
    if s.n == 10:
        if strict:
            raise s.fail(10, "T")
        f.strict = False
        return f
    c = s.at(10)
    if c == " " and not strict:
        f.strict = False
    elif c != "T" and c != "t":
        raise s.fail(10, "T" if strict else "iso_separator")
    f.p_hour, f.hour = 11, s.d2(11)
    i = 13
    has_seconds = False
    if strict:
        s.char(13, ":")
        f.p_minute, f.minute = 14, s.d2(14)
        s.char(16, ":")
        f.p_second, f.second = 17, s.d2(17)
        i = 19
        has_seconds = True
    elif s.at(13) == ":":
        f.p_minute, f.minute = 14, s.d2(14)
        i = 16
        if s.at(16) == ":":
            f.p_second, f.second = 17, s.d2(17)
            i = 19
            has_seconds = True
        else:
            f.strict = False
    else:
        f.strict = False
    c = s.at(i)
    if has_seconds and (c == "." or (c == "," and not strict)):
        if c == ",":
            f.strict = False
        i = s.fraction(f, i + 1)
        c = s.at(i)
    if c == "Z" or c == "z":
        s.end(i + 1)
        return f
    if c == "+" or c == "-":
        f.sign = -1 if c == "-" else 1
        f.p_offset_hours, f.offset_hours = i + 1, s.d2(i + 1)
        i += 3
        if strict:
            s.char(i, ":")
            f.p_offset_minutes, f.offset_minutes = i + 1, s.d2(i + 1)
            i += 3
        elif s.at(i) == ":":
            f.p_offset_minutes, f.offset_minutes = i + 1, s.d2(i + 1)
            i += 3
        elif s.at(i) in _DIGITS and s.at(i):
            f.p_offset_minutes, f.offset_minutes = i, s.d2(i)
            i += 2
            f.strict = False
        else:
            f.strict = False
        s.end(i)
        return f
    if strict:
        raise s.fail(i, "rfc3339_offset")
    f.strict = False
    s.end(i, "iso_end")
    return f


def _scan_email(s: _Scanner, spec: DatetimeFormat) -> _Fields:
    f = _Fields()
    i = 0
    long_year = spec.year_digits == 4  # with it, the weekday and the seconds are required
    if long_year or s.at(0) in _LETTERS and s.at(0):
        s.weekday3(f, 0)
        s.char(3, ",")
        s.char(4, " ")
        i = 5
    i = s.day12(f, i)
    s.char(i, " ")
    i = s.month3(f, i + 1)
    s.char(i, " ")
    i += 1
    f.p_year = i
    if long_year:
        f.year = s.d4(i)
        i += 4
    else:
        f.year = _two_digit_year(s.d2(i))
        i += 2
    s.char(i, " ")
    i += 1
    f.p_hour, f.hour = i, s.d2(i)
    s.char(i + 2, ":")
    f.p_minute, f.minute = i + 3, s.d2(i + 3)
    i += 5
    if long_year:
        s.char(i, ":")
        f.p_second, f.second = i + 1, s.d2(i + 1)
        i += 3
    elif s.at(i) == ":":
        f.p_second, f.second = i + 1, s.d2(i + 1)
        i += 3
    elif s.at(i) != " ":
        raise s.fail(i, "seconds_or_space")
    s.char(i, " ")
    i += 1
    if spec.zone == ZONE_NAME:
        i = s.zone_name(f, i)
    else:
        i = s.offset4(f, i)
    s.end(i)
    return f


def _scan_rfc850(s: _Scanner, spec: DatetimeFormat) -> _Fields:
    f = _Fields()
    j = _letters_end(s.text)
    weekday = _FULL_WEEKDAYS.get(s.text[:j].lower())
    if weekday is None:
        raise s.fail(0, "full_weekday")
    f.weekday, f.p_weekday, f.weekday_end = weekday, 0, j
    s.char(j, ",")
    s.char(j + 1, " ")
    i = s.day12(f, j + 2)
    s.char(i, "-")
    i = s.month3(f, i + 1)
    s.char(i, "-")
    f.p_year, f.year = i + 1, _two_digit_year(s.d2(i + 1))
    s.char(i + 3, " ")
    i = s.time(f, i + 4)
    s.char(i, " ")
    i = s.zone_name(f, i + 1)
    s.end(i)
    return f


def _scan_ctime(s: _Scanner, spec: DatetimeFormat) -> _Fields:
    f = _Fields()
    s.weekday3(f, 0)
    s.char(3, " ")
    s.month3(f, 4)
    s.char(7, " ")
    if spec.padded_day and s.at(8) == " ":
        f.p_day, f.day = 9, s.digit(9)
        i = 10
    else:
        i = s.day12(f, 8)
    s.char(i, " ")
    i = s.time(f, i + 1)
    s.char(i, " ")
    i += 1
    if spec.zone == ZONE_NAME:
        i = s.zone_name(f, i)
        s.char(i, " ")
        i += 1
    elif spec.zone == ZONE_OFFSET:
        i = s.offset4(f, i)
        s.char(i, " ")
        i += 1
    f.p_year, f.year = i, s.d4(i)
    s.end(i + 4)
    return f


def _days_in_month(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_IN_MONTH[month]


def _validate(text: str, name: str, f: _Fields) -> None:
    if not 1 <= f.year <= 9999:
        raise datetime_error("year_range", text, f.p_year, name, value=f.year)
    if not 1 <= f.month <= 12:
        raise datetime_error("month_range", text, f.p_month, name, value=f.month)
    if not 1 <= f.day <= _days_in_month(f.year, f.month):
        raise datetime_error("day_range", text, f.p_day, name, value=f.day, year=f.year,
                             month=f.month)
    if f.hour > 23:
        raise datetime_error("hour_range", text, f.p_hour, name, value=f.hour)
    if f.minute > 59:
        raise datetime_error("minute_range", text, f.p_minute, name, value=f.minute)
    if f.second == 60:
        raise datetime_error("leap_second", text, f.p_second, name)
    if f.second > 60:
        raise datetime_error("second_range", text, f.p_second, name, value=f.second)
    if f.offset_hours > 23:
        raise datetime_error("offset_hour_range", text, f.p_offset_hours, name,
                             value=f.offset_hours)
    if f.offset_minutes > 59:
        raise datetime_error("offset_minute_range", text, f.p_offset_minutes, name,
                             value=f.offset_minutes)
    if f.weekday >= 0:
        actual = datetime(f.year, f.month, f.day).weekday()
        if actual != f.weekday:
            raise datetime_error("weekday", text, f.p_weekday, name,
                                 text[f.p_weekday:f.weekday_end], year=f.year, month=f.month,
                                 day=f.day)


def _scan_epoch(text: str, spec: DatetimeFormat) -> datetime:
    name = spec.name
    s = _Scanner(text, name)
    i = 0
    c = s.at(0)
    negative = c == "-"
    if c == "+" or c == "-":
        i = 1
    j = _digits_end(text, i)
    if j == i:
        raise s.fail(i, "digit")
    significant = text[i:j].lstrip("0")
    fraction = ""
    if s.at(j) == ".":
        k = _digits_end(text, j + 1)
        if k == j + 1:
            raise s.fail(k, "digit")
        fraction = text[j + 1:k]
        s.end(k)
    else:
        s.end(j, "epoch_end")
    places = spec.epoch_places  # fraction digits that make whole microseconds
    # Years 1..9999 are under 10**12 s: more digits than that are out of range.
    if len(significant) > 18 - places:
        raise datetime_error("epoch_range", text, 0, name)
    micros = int(significant or "0") * 10**places + int(fraction[:places].ljust(places, "0") or "0")
    if negative:
        # Truncating the instant to microseconds is a floor: a cut-off tail moves it earlier.
        micros = -micros - (1 if _NONZERO.search(fraction, places) else 0)
    if not _MIN_US <= micros <= _MAX_US:
        raise datetime_error("epoch_range", text, 0, name)
    return _EPOCH_DT + timedelta(microseconds=micros)


def _scan_iso_spec(s: _Scanner, spec: DatetimeFormat) -> _Fields:
    return _scan_iso(s, spec.strict, spec.date_only)


#: The reference scanner of each shape, by ``DatetimeFormat.scanner``.
_SCANNERS: dict[int, Callable[[_Scanner, DatetimeFormat], _Fields]] = {
    SCAN_ISO: _scan_iso_spec, SCAN_EMAIL: _scan_email, SCAN_RFC850: _scan_rfc850,
    SCAN_CTIME: _scan_ctime,
}


def _slow(text: str, fid: int) -> tuple[datetime, str]:
    """The reference scanner: the result and the format's name, or the error."""
    if fid == ISO_AUTO:
        s = _Scanner(text, DATETIME_FORMATS[_ISO8601])
        f = _scan_iso(s, False, False)
        name = DATETIME_FORMATS[_RFC3339 if f.strict else _ISO8601]
    else:
        spec = FORMATS[fid]
        name = spec.name
        if spec.scanner == SCAN_EPOCH:
            return _scan_epoch(text, spec), name
        s = _Scanner(text, name)
        f = _SCANNERS[spec.scanner](s, spec)
    _validate(text, name, f)
    minutes = f.offset_hours * 60 + f.offset_minutes
    tz = _tz(-minutes if f.sign < 0 else minutes)
    return datetime(f.year, f.month, f.day, f.hour, f.minute, f.second, f.micro, tz), name


# --------------------------------------------------------------------------- public API


def _format_id(format: object, text: str) -> int:
    fid = _IDS.get(format) if isinstance(format, str) else None
    if fid is None:
        if not isinstance(format, str):
            raise TypeError(f"datetime format must be str or None, not {type(format).__name__}")
        raise datetime_error("unknown_format", text, None, None, format)
    return fid


def parse_datetime(text: str, format: str | None = None) -> datetime:
    """Parse ``text`` into an aware :class:`~datetime.datetime`; with ``format=None`` the
    format is detected from the text's shape (see :func:`detect_format`).

    >>> parse_datetime("2023-07-18T07:31:00Z")
    datetime.datetime(2023, 7, 18, 7, 31, tzinfo=datetime.timezone.utc)
    >>> parse_datetime("Tue, 18 Jul 2023 07:31:00 +0200")
    datetime.datetime(2023, 7, 18, 7, 31, tzinfo=datetime.timezone(datetime.timedelta(seconds=7200)))
    >>> parse_datetime("1689665460000", "EPOCH_MS")
    datetime.datetime(2023, 7, 18, 7, 31, tzinfo=datetime.timezone.utc)
    >>> parse_datetime("Tue, 18 Jux 2023 07:31:00 GMT")
    Traceback (most recent call last):
    ...
    inngest_core.errors.DatetimeError: RFC1123: expected a month name at position 8 in "Tue, 18 Jux 2023 07:31:00 GMT"
    """
    if not isinstance(text, str):
        raise TypeError(f"datetime text must be str, not {type(text).__name__}")
    if format is None:
        dt = _fast_detected(text)
        if dt is not None:
            return dt
        fid = _predict(text)
    else:
        fid = _format_id(format, text)
    dt = _FAST[fid](text)
    if dt is not None:
        return dt
    return _slow(text, fid)[0]


def detect_format(text: str) -> str:
    """The name of the format ``text`` is in; raises :class:`DatetimeError` when it is in
    none (the text must conform as a whole, values included).

    >>> detect_format("2023-07-18T07:31:00Z")
    'RFC3339'
    >>> detect_format("2023-07-18 07:31")
    'ISO8601'
    >>> detect_format("Sat Jul  8 07:31:00 2023")
    'ANSIC'
    """
    if not isinstance(text, str):
        raise TypeError(f"datetime text must be str, not {type(text).__name__}")
    fid = _predict(text)
    if fid == ISO_AUTO:
        if _iso_fast(_RE_RFC3339.fullmatch(text)) is not None:
            return DATETIME_FORMATS[_RFC3339]
        if _iso_fast(_RE_ISO8601.fullmatch(text)) is not None:
            return DATETIME_FORMATS[_ISO8601]
    elif _FAST[fid](text) is not None:
        return DATETIME_FORMATS[fid]
    return _slow(text, fid)[1]
