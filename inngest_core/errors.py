"""Every exception class of ``inngest_core`` and every message template.

Both twins of each part raise these classes with these templates, so a test can compare
error text across twins exactly.  Parse errors subclass :class:`ValueError` and say what was
being parsed, what was wrong and where::

    >>> from inngest_core import parse_duration_ns
    >>> parse_duration_ns("1x")
    Traceback (most recent call last):
    ...
    inngest_core.errors.DurationError: unknown unit "x" at position 1 in duration "1x"
"""

from __future__ import annotations

import json

__all__ = [
    "DurationError",
    "DatetimeError",
    "ExpressionSyntaxError",
    "EvaluationError",
    "ExpressionLimitError",
    "show",
    "duration_error",
    "syntax_error",
    "source_length_error",
    "depth_limit_error",
]

#: Inputs longer than this are cut in messages (a 10 MB input must not make a 10 MB message).
SHOW_LIMIT = 64


def show(text: str) -> str:
    """Quote ``text`` for a message: double quotes, escapes for control characters, cut if long.

    >>> show('1h30m')
    '"1h30m"'
    >>> show('x' * 100)
    '"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"... (100 characters)'
    """
    if len(text) > SHOW_LIMIT:
        return json.dumps(text[:SHOW_LIMIT], ensure_ascii=False) + f"... ({len(text)} characters)"
    return json.dumps(text, ensure_ascii=False)


# --------------------------------------------------------------------------- durations


class DurationError(ValueError):
    """A duration string that does not conform; ``.text`` is the input, ``.position`` the
    0-based index of the offending character (``None`` when formatting a value)."""

    def __init__(self, message: str, text: str, position: int | None) -> None:
        super().__init__(message)
        self.text = text
        self.position = position


DURATION_MESSAGES: dict[str, str] = {
    "empty": "empty duration at position {position} in duration {text}",
    "expected_number": "expected a number at position {position} in duration {text}",
    "unexpected": "unexpected character {char} at position {position} in duration {text}",
    "no_digits": "number has no digits at position {position} in duration {text}",
    "missing_unit": "missing unit after the number at position {position} in duration {text}",
    "unknown_unit": "unknown unit {unit} at position {position} in duration {text}",
    "out_of_range": (
        "duration out of range (a signed 64-bit count of nanoseconds) "
        "at position {position} in duration {text}"
    ),
    "iso_no_fixed_length": (
        "ISO 8601 {what} have no fixed length and are not accepted "
        "at position {position} in duration {text}"
    ),
    "iso_order": (
        "ISO 8601 component {unit} out of order or repeated at position {position} in duration {text}"
    ),
    "iso_fraction": (
        "ISO 8601 allows a fraction only on the last component, at position {position} in duration {text}"
    ),
    "iso_time_needs_t": (
        "ISO 8601 hours, minutes and seconds must follow \"T\", at position {position} in duration {text}"
    ),
    "iso_empty_time": "ISO 8601 \"T\" must be followed by a component at position {position} in duration {text}",
    "value_out_of_range": "duration out of range: {value} ns is outside the signed 64-bit nanosecond range",
}


def duration_error(code: str, text: str, position: int | None, detail: str = "") -> DurationError:
    """Build the :class:`DurationError` for message ``code``; ``detail`` fills ``{char}``,
    ``{unit}``, ``{what}`` or ``{value}``, whichever the template has."""
    message = DURATION_MESSAGES[code].format(
        position=position,
        text=show(text),
        char=show(detail),
        unit=show(detail),
        what=detail,
        value=detail,
    )
    return DurationError(message, text, position)


# --------------------------------------------------------------------------- datetimes


class DatetimeError(ValueError):
    """A datetime string that does not conform to its format; ``.text`` is the input,
    ``.position`` the 0-based index where it went wrong, ``.format`` the format name (``None``
    when detection found none)."""

    def __init__(self, message: str, text: str, position: int | None, format: str | None) -> None:
        super().__init__(message)
        self.text = text
        self.position = position
        self.format = format


import datetime as _datetime  # noqa: E402  (the weekday a date falls on, for messages)

#: What a parser expected, by key (``expected`` errors); a one-character key not listed here
#: is a literal character and is shown quoted.
DATETIME_EXPECTED: dict[str, str] = {
    "digit": "a digit",
    "month": "a month name",
    "weekday": "a weekday name",
    "full_weekday": "a full weekday name",
    "zone": "a zone name",
    "offset": 'a zone offset like "+hhmm"',
    "rfc3339_offset": '"Z" or a zone offset like "+hh:mm"',
    "iso_separator": '"T" or " "',
    "iso_end": '"Z", a zone offset like "+hh:mm" or the end of the text',
    "seconds_or_space": '":" or " "',
    "epoch_end": 'a digit, "." or the end of the text',
    "end": "the end of the text",
    "start": "a digit, a sign or a letter",
    "after_name": '"," or " "',
}

DATETIME_ZONE_NAMES = "Z, UT, UTC, GMT, EST, EDT, CST, CDT, MST, MDT, PST, PDT"

DATETIME_MESSAGES: dict[str, str] = {
    "expected": "{format}: expected {what} at position {position} in {text}",
    "undetectable": (
        "unknown datetime format: expected {what} at position {position} in {text} "
        "(considered {considered})"
    ),
    "unknown_zone": (
        "{format}: unknown time zone {detail} at position {position} in {text} "
        "(known: " + DATETIME_ZONE_NAMES + ", or a numeric offset where the format has one)"
    ),
    "year_range": "{format}: year {value} out of range 1..9999 at position {position} in {text}",
    "month_range": "{format}: month {value} out of range 1..12 at position {position} in {text}",
    "day_range": (
        "{format}: day {value} does not exist in {month_name} {year} "
        "at position {position} in {text}"
    ),
    "hour_range": "{format}: hour {value} out of range 0..23 at position {position} in {text}",
    "minute_range": "{format}: minute {value} out of range 0..59 at position {position} in {text}",
    "second_range": "{format}: second {value} out of range 0..59 at position {position} in {text}",
    "leap_second": (
        "{format}: second 60 is a leap second, which Python's datetime cannot represent, "
        "at position {position} in {text}"
    ),
    "offset_hour_range": (
        "{format}: offset hours {value} out of range 0..23 at position {position} in {text}"
    ),
    "offset_minute_range": (
        "{format}: offset minutes {value} out of range 0..59 at position {position} in {text}"
    ),
    "weekday": (
        "{format}: weekday {detail} at position {position} does not match the date in {text}: "
        "{date} is a {weekday_name}"
    ),
    "epoch_range": (
        "{format}: timestamp out of range (years 1..9999) at position {position} in {text}"
    ),
    "unknown_format": "unknown datetime format {detail}; expected one of {formats}",
    "naive": "{format}: cannot format a naive datetime ({text}); give it a tzinfo",
    "offset_seconds": (
        "{format}: cannot format {text}: its UTC offset is not a whole number of minutes"
    ),
    "two_digit_year": (
        "{format}: cannot format {text}: year {value} has no two-digit form (1969..2068)"
    ),
    "utc_range": "{format}: cannot format {text}: in UTC it falls outside years 1..9999",
}

_MONTH_NAMES = (
    "", "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def datetime_error(
    code: str,
    text: str,
    position: int | None,
    format: str | None,
    detail: str = "",
    value: int = 0,
    year: int = 1,
    month: int = 1,
    day: int = 1,
) -> DatetimeError:
    """Build the :class:`DatetimeError` for message ``code``.

    ``detail`` is the expectation key (``expected``, ``undetectable``), the text as written
    (``unknown_zone``, ``weekday``) or the format name asked for (``unknown_format``);
    ``value`` the number out of range; ``year``, ``month`` and ``day`` the date, for the
    messages that name it.  Formatting errors pass the value's ``isoformat()`` as ``text``.

    >>> str(datetime_error("expected", "Tue, 18 Jux 2023 07:31:00 GMT", 8, "RFC1123", "month"))
    'RFC1123: expected a month name at position 8 in "Tue, 18 Jux 2023 07:31:00 GMT"'
    """
    # The format table imports this module: read it when a message needs it.
    from ._datetime_formats import DATETIME_FORMATS, considered_formats

    if code in ("expected", "undetectable"):
        what = DATETIME_EXPECTED.get(detail) or show(detail)
    else:
        what = ""
    if code == "weekday":
        weekday_name = _WEEKDAY_NAMES[_datetime.date(year, month, day).weekday()]
    else:
        weekday_name = ""
    message = DATETIME_MESSAGES[code].format(
        format=format,
        what=what,
        position=position,
        text=show(text) if position is not None else text,
        detail=show(detail),
        value=value,
        year=year,
        month_name=_MONTH_NAMES[month] if 1 <= month <= 12 else month,
        date=f"{year:04d}-{month:02d}-{day:02d}",
        weekday_name=weekday_name,
        considered=", ".join(considered_formats(detail)) if code == "undetectable" else "",
        formats=", ".join(DATETIME_FORMATS) if code == "unknown_format" else "",
    )
    return DatetimeError(message, text, position, format)


# --------------------------------------------------------------------------- expressions


class ExpressionSyntaxError(ValueError):
    """CEL source that does not parse; ``.line`` and ``.column`` are 1-based and the message
    shows the source line with a caret under the column."""

    def __init__(self, message: str, source: str, line: int, column: int) -> None:
        super().__init__(message)
        self.source = source
        self.line = line
        self.column = column


class EvaluationError(Exception):
    """An expression that failed while evaluating, with a CEL-style message
    (``no such key: nope``, ``division by zero``, ...)."""


class ExpressionLimitError(ValueError):
    """An expression past one of the limits of :func:`inngest_core.compile_expression`."""


#: Characters of the source line shown on each side of the caret in a syntax error.
SNIPPET_CONTEXT = 40


def syntax_error(what: str, source: str, offset: int) -> ExpressionSyntaxError:
    """Build the :class:`ExpressionSyntaxError` for a problem at 0-based ``offset`` of ``source``.

    Lines are counted at ``\\n`` only and columns in code points, both 1-based; the message
    shows the source line (cut around the caret when long) with a caret under the column.

    >>> print(syntax_error('unexpected ")"', "a +\\nb)", 5))
    unexpected ")" at line 2, column 2
      b)
       ^
    """
    line = source.count("\n", 0, offset) + 1
    start = source.rfind("\n", 0, offset) + 1
    end = source.find("\n", offset)
    if end < 0:
        end = len(source)
    column = offset - start + 1
    text = source[start:end]
    caret = offset - start
    if len(text) > 2 * SNIPPET_CONTEXT:
        low = max(0, caret - SNIPPET_CONTEXT)
        high = caret + SNIPPET_CONTEXT
        snippet = ("..." if low else "") + text[low:high] + ("..." if high < len(text) else "")
        caret = caret - low + (3 if low else 0)
    else:
        snippet = text
    snippet = "".join(ch if ch == "\t" or ch >= " " else " " for ch in snippet)
    pointer = "".join("\t" if ch == "\t" else " " for ch in snippet[:caret])
    message = f"{what} at line {line}, column {column}\n  {snippet}\n  {pointer}^"
    return ExpressionSyntaxError(message, source, line, column)


def source_length_error(length: int, limit: int) -> ExpressionLimitError:
    """The source is longer than ``max_source_length``."""
    return ExpressionLimitError(f"expression is {length} characters long; the limit is {limit}")


def depth_limit_error(limit: int) -> ExpressionLimitError:
    """The expression nests deeper than ``max_depth`` (see the parsers for how depth counts)."""
    return ExpressionLimitError(f"expression nests deeper than the limit of {limit}")


def comprehension_limit_error(limit: int) -> ExpressionLimitError:
    """An evaluation took more than ``max_comprehension_steps`` comprehension steps."""
    return ExpressionLimitError(
        f"evaluation took more than the limit of {limit} comprehension steps"
    )


#: Evaluation errors, CEL-style; both evaluators fill them with ``str.format``.
EVALUATION_MESSAGES: dict[str, str] = {
    "no_overload": "no matching overload for '{function}' applied to ({types})",
    "unbound_function": "unbound function: {function}",
    "undeclared": "undeclared reference to '{name}'",
    "no_such_key": "no such key: {key}",
    "value_too_deep": "a value nests too deeply to evaluate (recursion limit reached)",
    "no_field_selection": "type '{type}' does not support field selection",
    "index_out_of_range": "index out of range: {index} (size {size})",
    "invalid_index": "invalid list index: {index}",
    "unsupported_key": "unsupported map key type: {type}",
    "repeated_key": "repeated map key: {key}",
    "division_by_zero": "division by zero",
    "modulus_by_zero": "modulus by zero",
    "int_overflow": "int overflow",
    "uint_overflow": "uint overflow",
    "int_range": "int out of range: {value}",
    "uint_range": "uint out of range: {value}",
    "conversion": "cannot convert {value} to {type}",
    "invalid_utf8": "invalid UTF-8 in bytes converted to string",
    "timestamp_range": "timestamp out of range (years 1 to 9999)",
    "duration_range": "duration out of range (a signed 64-bit count of nanoseconds)",
    "timestamp_syntax": "invalid timestamp {text}: expected RFC 3339 like \"2006-01-02T15:04:05Z\"",
    "duration_syntax": "invalid duration {text}: expected a Go duration like \"1h30m\" or \"1.5s\"",
    "time_zone": "unknown time zone {text}",
    "regex": "invalid regular expression {text}: {detail}",
    "message": "cannot build message {name}: there are no protobuf message types here",
    "unsupported_value": "unsupported value type {type}",
    "int_value_range": "int value {value} is outside the signed 64-bit range",
}
