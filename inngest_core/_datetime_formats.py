"""The datetime formats, one declaration each, and the writing of a datetime back to text.

Both parser twins read :data:`FORMATS`: a format's name, the scanner that reads its shape
(each twin has one function per scanner), the fields it has, its zone rule and whether
detection may name it; detection finds a format by the shape the text has (scanner, year
width, zone rule), never by its place in the table.  Formatting is written once, here, and
both twins export a :func:`format_datetime` made by :func:`format_datetime_with`: the Python
twin's with the declared writers, the compiled twin's with compiled kernels for the writers
of its hot formats (the same text; the tests compare them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Mapping, Protocol

from .errors import datetime_error

__all__ = ["DatetimeFormat", "FORMATS", "DATETIME_FORMATS", "format_datetime",
           "format_datetime_with", "detected_format",
           "considered_formats"]

# The scanners: one function in each twin reads each shape.
SCAN_ISO = 0  # 2006-01-02T15:04:05.999Z, looser ISO 8601 (a space, no seconds, no zone), a date
SCAN_EMAIL = 1  # [Mon, ]2 Jan 2006 15:04[:05] zone (RFC 1123, RFC 822, RFC 2822)
SCAN_RFC850 = 2  # Monday, 02-Jan-06 15:04:05 zone
SCAN_CTIME = 3  # Mon Jan  2 15:04:05 [zone ]2006 (C's ctime and its relatives)
SCAN_EPOCH = 4  # [-]seconds since 1970 (or milliseconds), with an optional fraction

# The zone rules.
ZONE_NONE = 0  # no zone: UTC
ZONE_NAME = 1  # Z, UT, UTC, GMT or one of RFC 822's North American names
ZONE_OFFSET = 2  # +hhmm
ZONE_ISO = 3  # Z or +hh:mm (where the format is loose: also +hh, +hhmm or nothing)

MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAY_FULL = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: RFC 822 section 5, minutes east of UTC; names match case-insensitively.
ZONES = {"Z": 0, "UT": 0, "UTC": 0, "GMT": 0, "EST": -300, "EDT": -240, "CST": -360,
         "CDT": -300, "MST": -420, "MDT": -360, "PST": -480, "PDT": -420}

_UTC = timezone.utc
_EPOCH_DT = datetime(1970, 1, 1, tzinfo=_UTC)

#: How a format writes a value back: ``write(value, minutes)``, the value in UTC unless the
#: format keeps offsets, ``minutes`` its offset east of UTC.
Writer = Callable[[datetime, int], str]


@dataclass(frozen=True)
class DatetimeFormat:
    name: str
    scanner: int
    zone: int
    write: Writer
    year_digits: int = 4  # or 2: 69..99 are 19xx, 00..68 are 20xx
    detected: bool = True  # detection may name it (else only when asked for by name)
    strict: bool = False  # SCAN_ISO: RFC 3339's subset ("T", seconds and a zone required)
    date_only: bool = False  # SCAN_ISO: the date and nothing after it
    padded_day: bool = False  # SCAN_CTIME: a one-digit day may follow a second space
    epoch_places: int = 6  # SCAN_EPOCH: fraction digits of one unit in a microsecond

    @property
    def keeps_offset(self) -> bool:
        """Written with the value's own offset (else in UTC)."""
        return self.zone == ZONE_OFFSET or self.zone == ZONE_ISO


def _offset(minutes: int, colon: str) -> str:
    hours, rest = divmod(abs(minutes), 60)
    return f"{'-' if minutes < 0 else '+'}{hours:02d}{colon}{rest:02d}"


def _date(v: datetime) -> str:
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}"


def _hms(v: datetime) -> str:
    return f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}"


def _date_time(v: datetime) -> str:
    # %-formatting: the fastest way CPython has to write these six numbers.
    return "%04d-%02d-%02dT%02d:%02d:%02d" % (v.year, v.month, v.day, v.hour, v.minute, v.second)


def _rfc3339(v: datetime, minutes: int) -> str:
    # As Go writes it: trailing zeros of the fraction cut, "Z" for UTC.  isoformat() (C)
    # writes the rest exactly so (the offset is whole minutes here: "+hh:mm").
    text = v.isoformat()
    if v.microsecond:
        text = text[:19] + text[19:26].rstrip("0") + text[26:]
    return text[:-6] + "Z" if minutes == 0 else text


def _iso8601(v: datetime, minutes: int) -> str:
    # isoformat()'s own form: the fraction as six digits when there is one, "+hh:mm".
    return v.isoformat()


def _isodate(v: datetime, minutes: int) -> str:
    return _date(v)


def _email(long_year: bool, zone: str | None) -> Writer:
    def write(v: datetime, minutes: int) -> str:
        where = f"{v.day:02d} {MONTH_ABBR[v.month - 1]}"
        written_zone = _offset(minutes, "") if zone is None else zone
        if long_year:
            return (f"{WEEKDAY_ABBR[v.weekday()]}, {where} {v.year:04d} {_hms(v)} "
                    f"{written_zone}")
        return f"{where} {v.year % 100:02d} {v.hour:02d}:{v.minute:02d} {written_zone}"

    return write


def _rfc850(v: datetime, minutes: int) -> str:
    return (f"{WEEKDAY_FULL[v.weekday()]}, {v.day:02d}-{MONTH_ABBR[v.month - 1]}-"
            f"{v.year % 100:02d} {_hms(v)} UTC")


def _ctime(zone: int) -> Writer:
    def write(v: datetime, minutes: int) -> str:
        start = f"{WEEKDAY_ABBR[v.weekday()]} {MONTH_ABBR[v.month - 1]}"
        if zone == ZONE_OFFSET:
            return f"{start} {v.day:02d} {_hms(v)} {_offset(minutes, '')} {v.year:04d}"
        named = " UTC" if zone == ZONE_NAME else ""
        return f"{start} {v.day:2d} {_hms(v)}{named} {v.year:04d}"

    return write


def _micros(v: datetime) -> int:
    delta = v - _EPOCH_DT
    return (delta.days * 86400 + delta.seconds) * 10**6 + delta.microseconds


def _epoch(v: datetime, minutes: int) -> str:
    micros = _micros(v)
    whole, frac_us = divmod(abs(micros), 10**6)
    frac = f".{frac_us:06d}".rstrip("0") if frac_us else ""
    return f"{'-' if micros < 0 else ''}{whole}{frac}"


def _epoch_ms(v: datetime, minutes: int) -> str:
    return str(_micros(v) // 1000)


#: Every format, in the order ``DATETIME_FORMATS`` lists them.
FORMATS: tuple[DatetimeFormat, ...] = (
    DatetimeFormat("RFC3339", SCAN_ISO, ZONE_ISO, _rfc3339, strict=True),
    DatetimeFormat("ISO8601", SCAN_ISO, ZONE_ISO, _iso8601),
    DatetimeFormat("ISODATE", SCAN_ISO, ZONE_NONE, _isodate, date_only=True),
    DatetimeFormat("RFC1123", SCAN_EMAIL, ZONE_NAME, _email(True, "GMT")),
    DatetimeFormat("RFC1123Z", SCAN_EMAIL, ZONE_OFFSET, _email(True, None)),
    DatetimeFormat("RFC822", SCAN_EMAIL, ZONE_NAME, _email(False, "UTC"), year_digits=2),
    DatetimeFormat("RFC822Z", SCAN_EMAIL, ZONE_OFFSET, _email(False, None), year_digits=2),
    DatetimeFormat("RFC850", SCAN_RFC850, ZONE_NAME, _rfc850, year_digits=2),
    DatetimeFormat("UNIX", SCAN_CTIME, ZONE_NAME, _ctime(ZONE_NAME), padded_day=True),
    DatetimeFormat("ANSIC", SCAN_CTIME, ZONE_NONE, _ctime(ZONE_NONE), padded_day=True),
    DatetimeFormat("RUBY", SCAN_CTIME, ZONE_OFFSET, _ctime(ZONE_OFFSET)),
    DatetimeFormat("EPOCH", SCAN_EPOCH, ZONE_NONE, _epoch),
    DatetimeFormat("EPOCH_MS", SCAN_EPOCH, ZONE_NONE, _epoch_ms, detected=False,
                   epoch_places=3),
)

#: Every format name, in table order.
DATETIME_FORMATS: tuple[str, ...] = tuple(f.name for f in FORMATS)
#: What format_datetime needs of each format: its writer, whether it keeps the value's offset,
#: whether its year has two digits.
_WRITING = {f.name: (f.write, f.keeps_offset, f.year_digits == 2) for f in FORMATS}
_DETECTED = {(f.scanner, f.year_digits, f.zone, f.strict): i for i, f in enumerate(FORMATS)
             if f.detected}
assert len(_DETECTED) == sum(f.detected for f in FORMATS), "two detected formats share a shape"


def considered_formats(where: str) -> list[str]:
    """The formats detection weighs when no shape fits, for the ``undetectable`` message:
    at the ``"start"`` of the text every detected format; ``"after_name"`` (the text opens
    with a word) those whose text opens with a name."""
    return [f.name for f in FORMATS if f.detected
            and (where == "start" or f.scanner not in (SCAN_ISO, SCAN_EPOCH))]


def detected_format(scanner: int, year_digits: int, zone: int, strict: bool = False) -> int:
    """The index in :data:`FORMATS` of the detected format with this shape, or -1.  ISO 8601
    text with a time is read loosely first; its strictness then says RFC3339 or ISO8601."""
    return _DETECTED.get((scanner, year_digits, zone, strict), -1)


class DatetimeFormatter(Protocol):
    def __call__(self, value: datetime, format: str = "RFC3339") -> str: ...


def format_datetime_with(kernels: Mapping[str, Writer]) -> DatetimeFormatter:
    """:func:`format_datetime` with the writers of some formats replaced by ``kernels`` (by
    format name): compiled code that writes the same text as the declared writer.  The
    compiled twin passes its kernels; everything around the writer (the checks, the offset,
    the errors) is this one function whatever the twin."""
    table = {name: (kernels.get(name, write), keeps_offset, two_digit_year)
             for name, (write, keeps_offset, two_digit_year) in _WRITING.items()}
    assert table.keys() >= kernels.keys(), "a kernel for a format that is not declared"

    def format_datetime(value: datetime, format: str = "RFC3339") -> str:
        """Write an aware datetime in ``format``.  Formats with a numeric offset keep the
        value's offset; formats with a zone name (written ``GMT`` in RFC1123, ``UTC``
        elsewhere) or none write the value in UTC.  Fractions are written only where the
        format holds them (RFC3339 as Go does, trailing zeros cut; ISO8601 as
        ``isoformat()``; EPOCH).

        >>> from datetime import timezone, timedelta
        >>> dt = datetime(2023, 7, 18, 7, 31, tzinfo=timezone(timedelta(hours=2)))
        >>> format_datetime(dt)
        '2023-07-18T07:31:00+02:00'
        >>> format_datetime(dt, "RFC1123")
        'Tue, 18 Jul 2023 05:31:00 GMT'
        >>> format_datetime(dt, "ANSIC")
        'Tue Jul 18 05:31:00 2023'
        >>> format_datetime(dt, "EPOCH")
        '1689658260'
        """
        if not isinstance(value, datetime):
            raise TypeError(f"datetime value must be datetime, not {type(value).__name__}")
        if not isinstance(format, str):
            raise TypeError(f"datetime format must be str, not {type(format).__name__}")
        writing = table.get(format)
        if writing is None:
            raise datetime_error("unknown_format", value.isoformat(), None, None, format)
        write, keeps_offset, two_digit_year = writing
        v = value
        if value.tzinfo is _UTC:
            minutes = 0  # the common case: nothing to check or convert
        else:
            offset = value.utcoffset()
            if offset is None:
                raise datetime_error("naive", value.isoformat(), None, format)
            seconds = offset.seconds
            if seconds % 60 or offset.microseconds:
                raise datetime_error("offset_seconds", value.isoformat(), None, format)
            minutes = offset.days * 1440 + seconds // 60
            if not keeps_offset:
                try:
                    v = (value - offset).replace(tzinfo=_UTC)
                except OverflowError:
                    raise datetime_error("utc_range", value.isoformat(), None,
                                         format) from None
        if two_digit_year and not 1969 <= v.year <= 2068:
            raise datetime_error("two_digit_year", value.isoformat(), None, format,
                                 value=v.year)
        return write(v, minutes)

    return format_datetime


#: The declared writers only (the Python twin's).
format_datetime = format_datetime_with({})
