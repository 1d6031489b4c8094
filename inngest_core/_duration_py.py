"""Pure-Python twin of the duration parser (the compiled twin is ``src_pyx/_duration_c.pyx``).

Grammar: Go's ``time.ParseDuration`` plus ``d`` (24 h) and ``w`` (7 d), or an ISO 8601
duration (``PT1H30M``).  Arithmetic is exact; the range is a signed 64-bit count of
nanoseconds.  Both twins raise the same :class:`~inngest_core.errors.DurationError` messages.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from datetime import timedelta
from itertools import accumulate

from .errors import duration_error

__all__ = ["parse_duration", "parse_duration_ns", "format_duration"]

NANOSECOND = 1
MICROSECOND = 1000
MILLISECOND = 1000 * MICROSECOND
SECOND = 1000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY

_UNITS = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    "\u00b5s": MICROSECOND,
    "\u03bcs": MICROSECOND,
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
    "d": DAY,
    "w": WEEK,
}
# Canonical output order: largest unit first.
_FORMAT_UNITS = (
    ("w", WEEK),
    ("d", DAY),
    ("h", HOUR),
    ("m", MINUTE),
    ("s", SECOND),
    ("ms", MILLISECOND),
    ("us", MICROSECOND),
    ("ns", NANOSECOND),
)
_ISO_DATE_UNITS = {"W": WEEK, "D": DAY}
_ISO_TIME_UNITS = {"H": HOUR, "M": MINUTE, "S": SECOND}
_ISO_DATE_ORDER = "YMWD"
_ISO_TIME_ORDER = "HMS"

_INT64_MAGNITUDE = 1 << 63  # |min int64|; the largest positive value is one less
_MAX_INT_DIGITS = 19  # 2**63 has 19 digits: a longer significant run always overflows

# Each class is disjoint from the next, so the match never backtracks: linear time.
_NUMBER = re.compile(r"([0-9]*)(?:([.,])([0-9]*))?")
_SIMPLE_GROUP = "([0-9]{1,15})(ns|us|ms|s|m|h|d|w)"  # "ms" before "m": alternatives in order
_SIMPLE = re.compile(f"{_SIMPLE_GROUP}(?:{_SIMPLE_GROUP}(?:{_SIMPLE_GROUP})?)?")
# Everything up to and including a run of unit letters: the texts of consecutive groups.  Run
# only up to the last unit letter, where every attempt succeeds without backtracking: past it
# each failed attempt would rescan the rest of the text, in time quadratic in its length.
_GROUP_RUN = re.compile("[^A-Za-z\u00b5\u03bc]*[A-Za-z\u00b5\u03bc]+")
_NO_UNIT_RUN = re.compile("[^A-Za-z\u00b5\u03bc]*")
#: Inputs longer than this take the bulk path (see _parse_go_bulk); shorter ones the loop.
_BULK_THRESHOLD = 512
#: Characters of groups the bulk path cuts at a time (so a sum past the range stops early).
_BULK_CHUNK = 1 << 18
#: Larger than any int64 total: a group that is malformed or out of range on its own.
_BAD_GROUP = 1 << 80
_UNIT = re.compile("[A-Za-z\u00b5\u03bc]*")
_FRACTION_CHUNK = 256  # digits per step of the exact fraction product


def _is_unit_char(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z") or ch == "\u00b5" or ch == "\u03bc"


def _unit_end(text: str, i: int) -> int:
    m = _UNIT.match(text, i)
    assert m is not None  # the pattern matches the empty string
    return m.end()


def _fraction_times(digits: str, unit: int) -> int:
    """``floor(0.<digits> * unit)`` exactly, in time linear in ``len(digits)``.

    Horner's scheme run from the last digit: ``floor((a + x) / 10**k) == floor((a +
    floor(x)) / 10**k)`` for an integer ``a``, so the carry stays below ``unit``.
    """
    carry = 0
    end = len(digits)
    while end > 0:
        start = max(0, end - _FRACTION_CHUNK)
        carry = (int(digits[start:end]) * unit + carry) // 10 ** (end - start)
        end = start
    return carry


def _integer(digits: str, text: str, start: int) -> int:
    significant = digits.lstrip("0")
    if len(significant) > _MAX_INT_DIGITS:
        raise duration_error("out_of_range", text, start)
    value = int(significant) if significant else 0
    if value > _INT64_MAGNITUDE:
        raise duration_error("out_of_range", text, start)
    return value


def _add_group(total: int, limit: int, value: int, frac_digits: str | None, unit: int,
               text: str, start: int) -> int:
    """``total`` plus one number-and-unit group, range-checked (errors at the group's start)."""
    if value > _INT64_MAGNITUDE // unit:
        raise duration_error("out_of_range", text, start)
    value *= unit
    if frac_digits:
        value += _fraction_times(frac_digits, unit)
    total += value
    if total > limit:
        raise duration_error("out_of_range", text, start)
    return total


def parse_duration_ns(text: str) -> int:
    """Parse a duration into an exact count of nanoseconds.

    >>> parse_duration_ns("1h30m")
    5400000000000
    >>> parse_duration_ns("1.5s")
    1500000000
    >>> parse_duration_ns("2w3d") == (17 * 24 * 3600) * 10**9
    True
    >>> parse_duration_ns("PT0.5S")
    500000000
    >>> parse_duration_ns("-0")
    0
    """
    if not isinstance(text, str):
        raise TypeError(f"duration must be str, not {type(text).__name__}")
    simple = _SIMPLE.fullmatch(text)
    if simple is not None:
        # The common shape ("1h30m"): whole numbers, up to three groups, no sign; at most
        # 3 * 10**15 * 1w fits no int64, so the sum is range-checked like any other.
        a, unit_a, b, unit_b, c, unit_c = simple.groups()
        total = int(a) * _UNITS[unit_a]
        if b is not None:
            total += int(b) * _UNITS[unit_b]
            if c is not None:
                total += int(c) * _UNITS[unit_c]
        if total < _INT64_MAGNITUDE:
            return total
    n = len(text)
    if n == 0:
        raise duration_error("empty", text, 0)
    i = 0
    negative = False
    first = text[0]
    if first == "+" or first == "-":
        negative = first == "-"
        i = 1
    if i < n and text[i] == "P":
        return _parse_iso(text, i + 1, negative)
    if n - i == 1 and text[i] == "0":
        return 0
    limit = _INT64_MAGNITUDE if negative else _INT64_MAGNITUDE - 1
    if n - i > _BULK_THRESHOLD:
        return _parse_go_bulk(text, i, negative, limit)
    return _parse_go(text, i, negative, limit, 0)


def _parse_go(text: str, i: int, negative: bool, limit: int, total: int) -> int:
    """Go-style groups from ``i`` on, ``total`` nanoseconds already read before it."""
    n = len(text)
    while True:
        start = i
        if i == n:
            raise duration_error("expected_number", text, i)
        m = _NUMBER.match(text, i)
        assert m is not None  # every part of the pattern is optional
        int_digits, dot, frac_digits = m.group(1, 2, 3)
        if dot == ",":  # a comma is ISO 8601 only
            dot = None
            frac_digits = None
            i = m.start(2)
        else:
            i = m.end()
        if not int_digits and not frac_digits:
            if dot:
                raise duration_error("no_digits", text, start)
            raise duration_error("unexpected", text, start, text[start])
        value = _integer(int_digits, text, start)
        unit_start = i
        i = _unit_end(text, i)
        if i == unit_start:
            if i == n:
                raise duration_error("missing_unit", text, i)
            raise duration_error("unexpected", text, i, text[i])
        unit_text = text[unit_start:i]
        unit = _UNITS.get(unit_text)
        if unit is None:
            raise duration_error("unknown_unit", text, unit_start, unit_text)
        total = _add_group(total, limit, value, frac_digits, unit, text, start)
        if i == n:
            return -total if negative else total


def _group_value(group: str) -> int:
    """Nanoseconds of one well-formed number-and-unit group, or ``_BAD_GROUP`` when it is
    not one (or is out of range on its own)."""
    # A number and then exactly a unit's name.  _NUMBER has no suffix to fail, so it never
    # backtracks (a fullmatch of number-then-letters would, over a long malformed number).
    m = _NUMBER.match(group)
    assert m is not None  # every part of the pattern is optional
    int_digits, dot, frac_digits = m.group(1, 2, 3)
    unit = _UNITS.get(group[m.end():])
    if unit is None or dot == "," or (not int_digits and not frac_digits):
        return _BAD_GROUP
    significant = int_digits.lstrip("0")
    if len(significant) > _MAX_INT_DIGITS:
        return _BAD_GROUP
    value = int(significant) if significant else 0
    if value > _INT64_MAGNITUDE // unit:
        return _BAD_GROUP
    value *= unit
    if frac_digits:
        value += _fraction_times(frac_digits, unit)
    return value if value < _INT64_MAGNITUDE else _BAD_GROUP


def _parse_go_bulk(text: str, i: int, negative: bool, limit: int) -> int:
    """The Go grammar for long inputs, with the per-group work done once per *distinct*
    group: cut a chunk of the text into groups (one C-level pass), value each distinct group,
    sum counts times values, chunk after chunk.  Only when a chunk holds a problem is the
    first one located (C-level prefix sums) and the plain loop resumed at it, so errors are
    exactly the loop's; a sum past the range stops the reading there."""
    n = len(text)
    tail = _NO_UNIT_RUN.match(text[::-1])  # read backwards: the run after the last unit letter
    assert tail is not None  # the pattern matches the empty string
    end = max(i, n - tail.end())
    first = _GROUP_RUN.match(text, i, end)
    if first is None or _group_value(first.group()) == _BAD_GROUP:
        return _parse_go(text, i, negative, limit, 0)  # junk from the start: no need to cut it
    values: dict[str, int] = {}
    total = 0
    start = i
    while start < end:
        stop = end
        if end - start > _BULK_CHUNK:
            # A group ends after a whole run of letters: reading on from mid-chunk to the end
            # of the next run lands where findall from ``start`` would cut.
            boundary = _GROUP_RUN.match(text, start + _BULK_CHUNK, end)
            assert boundary is not None  # a letter stands before ``end``
            stop = boundary.end()
        groups = _GROUP_RUN.findall(text, start, stop)
        counts = Counter(groups)
        for group in counts:
            if group not in values:
                values[group] = _group_value(group)
        chunk = sum(values[group] * count for group, count in counts.items())
        if total + chunk > limit:  # past the range, or a bad group (valued past any range)
            # Running totals never decrease: the first group to push past the limit is
            # found by bisection.
            running = list(accumulate(map(values.__getitem__, groups)))
            k = bisect_right(running, limit - total)
            offset = start + sum(map(len, groups[:k]))
            return _parse_go(text, offset, negative, limit, total + (running[k - 1] if k else 0))
        total += chunk
        start = stop
    if end < n:  # the run after the last unit letter has no unit
        return _parse_go(text, end, negative, limit, total)
    return -total if negative else total


def _parse_iso(text: str, i: int, negative: bool) -> int:
    n = len(text)
    limit = _INT64_MAGNITUDE if negative else _INT64_MAGNITUDE - 1
    total = 0
    in_time = False
    order = _ISO_DATE_ORDER
    last = -1  # index in `order` of the last designator seen
    fraction_at = -1  # start of a number that had a fraction: it must be the last one
    if i == n:
        raise duration_error("expected_number", text, i)
    while i < n:
        if text[i] == "T" and not in_time:
            in_time = True
            order = _ISO_TIME_ORDER
            last = -1
            i += 1
            if i == n:
                raise duration_error("iso_empty_time", text, i)
        start = i
        m = _NUMBER.match(text, i)
        assert m is not None  # every part of the pattern is optional
        int_digits, dot, frac_digits = m.group(1, 2, 3)
        i = m.end()
        if not int_digits and not frac_digits:
            if dot:
                raise duration_error("no_digits", text, start)
            raise duration_error("unexpected", text, start, text[start])
        value = _integer(int_digits, text, start)
        if fraction_at >= 0:
            raise duration_error("iso_fraction", text, fraction_at)
        if frac_digits:
            fraction_at = start
        if i == n:
            raise duration_error("missing_unit", text, i)
        designator = text[i]
        if designator in order:
            position = order.index(designator)
            if position <= last:
                raise duration_error("iso_order", text, i, designator)
            last = position
        elif in_time and designator in _ISO_DATE_ORDER:
            raise duration_error("iso_order", text, i, designator)
        elif not in_time and designator in _ISO_TIME_ORDER:
            raise duration_error("iso_time_needs_t", text, i)
        elif _is_unit_char(designator):
            unit_end = _unit_end(text, i)
            raise duration_error("unknown_unit", text, i, text[i:unit_end])
        else:
            raise duration_error("unexpected", text, i, designator)
        if not in_time and designator in "YM":
            raise duration_error(
                "iso_no_fixed_length", text, i, "years" if designator == "Y" else "months"
            )
        unit = (_ISO_TIME_UNITS if in_time else _ISO_DATE_UNITS)[designator]
        i += 1
        total = _add_group(total, limit, value, frac_digits, unit, text, start)
    return -total if negative else total


def parse_duration(text: str) -> timedelta:
    """Parse a duration into a :class:`~datetime.timedelta`; sub-microsecond remainders are
    truncated toward zero.

    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    >>> parse_duration("-1500ns")
    datetime.timedelta(days=-1, seconds=86399, microseconds=999999)
    """
    ns = parse_duration_ns(text)
    micros = -(-ns // 1000) if ns < 0 else ns // 1000  # toward zero; // alone floors negatives
    return timedelta(0, 0, micros)


def format_duration(value: timedelta | int) -> str:
    """Write the canonical form: largest units first, zero components left out, ``0s`` for
    zero, a leading ``-`` for negatives.  An ``int`` is nanoseconds.

    >>> format_duration(5400 * 10**9)
    '1h30m'
    >>> format_duration(timedelta(hours=36))
    '1d12h'
    >>> format_duration(timedelta(seconds=-1.5))
    '-1s500ms'
    >>> format_duration(0)
    '0s'
    """
    if isinstance(value, timedelta):
        ns = ((value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds) * 1000
    elif isinstance(value, int) and not isinstance(value, bool):
        ns = int(value)
    else:
        raise TypeError(f"duration value must be timedelta or int nanoseconds, not {type(value).__name__}")
    if not -_INT64_MAGNITUDE <= ns < _INT64_MAGNITUDE:
        raise duration_error("value_out_of_range", str(ns), None, str(ns))
    if ns == 0:
        return "0s"
    parts = ["-"] if ns < 0 else []
    rest = -ns if ns < 0 else ns
    for name, size in _FORMAT_UNITS:
        if rest >= size:
            parts.append(f"{rest // size}{name}")
            rest %= size
    return "".join(parts)
