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
    "empty": "empty duration",
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
