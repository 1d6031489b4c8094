"""Datetimes: RFC 3339, ISO 8601, RFC 1123, RFC 822, RFC 850, UNIX date, ANSIC, Ruby date and
UNIX epoch text -> an aware :class:`~datetime.datetime`, the detected format, and text back.

The functions are the live twin's own (compiled unless ``INNGEST_CORE_NO_EXTENSIONS`` is
set), bound here without a wrapper so a call costs nothing extra.

>>> parse_datetime("Tue, 18 Jul 2023 07:31:00 GMT")
datetime.datetime(2023, 7, 18, 7, 31, tzinfo=datetime.timezone.utc)
>>> detect_format("Tue Jul 18 07:31:00 +0000 2023")
'RUBY'
>>> format_datetime(parse_datetime("1689665460"), "RFC3339")
'2023-07-18T07:31:00Z'
>>> "EPOCH_MS" in DATETIME_FORMATS
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _compat
from .errors import DatetimeError

__all__ = ["parse_datetime", "detect_format", "format_datetime", "DATETIME_FORMATS",
           "DatetimeError"]

if TYPE_CHECKING:  # type checkers read the Python twin, the typed reference
    from ._datetime_py import DATETIME_FORMATS, detect_format, format_datetime, parse_datetime
else:
    _impl = _compat.load("datetime")
    parse_datetime = _impl.parse_datetime
    detect_format = _impl.detect_format
    format_datetime = _impl.format_datetime
    DATETIME_FORMATS = _impl.DATETIME_FORMATS
