"""Durations: ``"1h30m"``, ``"1.5s"``, ``"2w3d"``, ``"PT1H30M"`` -> exact nanoseconds or
:class:`~datetime.timedelta`, and the canonical text back.

The functions are the live twin's own (compiled unless ``INNGEST_CORE_NO_EXTENSIONS`` is
set), bound here without a wrapper so a call costs nothing extra.

>>> parse_duration("1h30m")
datetime.timedelta(seconds=5400)
>>> parse_duration_ns("1.5s")
1500000000
>>> format_duration(parse_duration_ns("90m"))
'1h30m'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _compat
from .errors import DurationError

__all__ = ["parse_duration", "parse_duration_ns", "format_duration", "DurationError"]

if TYPE_CHECKING:  # type checkers read the Python twin, the typed reference
    from ._duration_py import format_duration, parse_duration, parse_duration_ns
else:
    _impl = _compat.load("duration")
    parse_duration = _impl.parse_duration
    parse_duration_ns = _impl.parse_duration_ns
    format_duration = _impl.format_duration
