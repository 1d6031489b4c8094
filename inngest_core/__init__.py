"""inngest_core: the fast, exact core of an Inngest-style durable-functions SDK.

Parsers for durations, datetimes and CEL expressions, each compiled with Cython and each with
a pure-Python twin.  ``IMPLEMENTATION`` says which twin is live: ``"compiled"``, or
``"python"`` when ``INNGEST_CORE_NO_EXTENSIONS`` is set (any non-empty value) or the
extensions are not installed.

>>> from inngest_core import parse_duration_ns, format_duration
>>> format_duration(parse_duration_ns("PT1H30M"))
'1h30m'
"""

from __future__ import annotations

from ._compat import IMPLEMENTATION
from .duration import format_duration, parse_duration, parse_duration_ns
from .datetimes import DATETIME_FORMATS, detect_format, format_datetime, parse_datetime
from .expr import CelType, Program, UInt, compile_expression, evaluate
from .wait import ExpressionIndex, match_expression
from .errors import (
    DatetimeError,
    DurationError,
    EvaluationError,
    ExpressionLimitError,
    ExpressionSyntaxError,
)

__version__ = "0.1.0"

__all__ = [
    "IMPLEMENTATION",
    "__version__",
    "parse_duration",
    "parse_duration_ns",
    "format_duration",
    "DurationError",
    "parse_datetime",
    "detect_format",
    "format_datetime",
    "DATETIME_FORMATS",
    "DatetimeError",
    "ExpressionSyntaxError",
    "EvaluationError",
    "ExpressionLimitError",
    "compile_expression",
    "evaluate",
    "Program",
    "UInt",
    "CelType",
    "match_expression",
    "ExpressionIndex",
]
