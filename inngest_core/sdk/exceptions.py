"""The SDK's exceptions: what a function raises (:class:`NonRetriableError`,
:class:`RetryAfterError`), what it gets back at a failed step (:class:`StepError`), a step
misused (:class:`StepUsageError`), an output over Inngest's size limit
(:class:`OutputTooLargeError`), and the interrupt that carries a step's report out of the
function (:class:`StepInterrupt`).

>>> issubclass(StepUsageError, NonRetriableError)
True
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any, Final

__all__ = ["NonRetriableError", "RetryAfterError", "StepError", "StepUsageError",
           "OutputTooLargeError", "StepInterrupt"]

#: The bounds Inngest's server puts on a ``Retry-After`` (``consts.MinRetryDuration``,
#: ``MaxRetryDuration``): at least 1 s, at most 24 h from the answer.
MIN_RETRY_SECONDS: Final = 1
MAX_RETRY_SECONDS: Final = 24 * 3600


class NonRetriableError(Exception):
    """Raise it (from a ``step`` or the function) to fail at once, with no retry.

    >>> NonRetriableError("card declined").args
    ('card declined',)
    """


class RetryAfterError(Exception):
    """Raise it (from a ``step`` or the function) to have the attempt retried no sooner than
    ``retry_after``: a number of seconds, a ``timedelta`` or an aware ``datetime``.  The
    answer carries it as ``Retry-After`` (whole seconds, rounded up, or an HTTP date), with
    ``X-Inngest-No-Retry: false`` (SDK spec 4.4.3).  Inngest waits at least 1 s and at most
    24 h; the seconds are kept within those bounds.  When the attempts are used up, the step
    or the run fails as for any other error.

    The official SDK (``inngest/_internal/errors.py``) reads an ``int`` as milliseconds and
    always writes a date; the header's own unit, the second, is used here.

    >>> RetryAfterError("rate limited", 90).retry_after
    '90'
    >>> RetryAfterError("later", timedelta(milliseconds=1500)).retry_after
    '2'
    >>> RetryAfterError("at noon", datetime(2024, 5, 1, 14, tzinfo=timezone(timedelta(hours=2)))
    ...                 ).retry_after
    'Wed, 01 May 2024 12:00:00 GMT'
    """

    def __init__(self, message: str, retry_after: int | float | timedelta | datetime) -> None:
        super().__init__(message)
        #: The ``Retry-After`` header's value.
        self.retry_after: str
        if isinstance(retry_after, datetime):
            if retry_after.tzinfo is None or retry_after.utcoffset() is None:
                raise ValueError("RetryAfterError needs an aware datetime (with a time zone)")
            from ..datetimes import format_datetime

            self.retry_after = format_datetime(retry_after.astimezone(timezone.utc), "RFC1123")
            return
        if isinstance(retry_after, timedelta):
            seconds = retry_after.total_seconds()
        elif isinstance(retry_after, (int, float)) and not isinstance(retry_after, bool) \
                and math.isfinite(retry_after):
            seconds = float(retry_after)
        else:
            raise TypeError("retry_after is a number of seconds, a timedelta or an aware "
                            f"datetime, not {type(retry_after).__name__}")
        whole = min(max(math.ceil(seconds), MIN_RETRY_SECONDS), MAX_RETRY_SECONDS)
        self.retry_after = str(whole)


class StepError(Exception):
    """Raised inside a function at a ``step`` that failed for good (its memo is an error).

    The function may catch it; left uncaught the run fails without retry.
    ``name``, ``message`` and ``stack`` are the failed step's error.

    >>> err = StepError("ValueError", "bad card", "")
    >>> err.name, str(err)
    ('ValueError', 'ValueError: bad card')
    """

    def __init__(self, name: str, message: str, stack: str = "", step_id: str = "") -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message
        self.stack = stack
        self.step_id = step_id
        # Reported as the step's own error, so the run's error names what really failed.
        self.error_name = name
        self.error_message = message
        self.error_stack = stack


class StepUsageError(NonRetriableError, ValueError):
    """A step called with arguments no execution can accept (a bad duration, a naive
    datetime, ``match`` with ``if_``, ...): the run fails at once, with no retry.

    >>> issubclass(StepUsageError, ValueError)
    True
    """


class OutputTooLargeError(NonRetriableError):
    """A step's output or a function's result whose JSON is over Inngest's limit
    (``MaxStepOutputSize``, 4 MB): the step or the run fails for good, with the size and
    the limit in the message.

    >>> str(OutputTooLargeError('step "big"', 5_000_000))
    'step "big" returned 5000000 bytes of JSON; the limit is 4194304 bytes (4 MB)'
    """

    def __init__(self, what: str, size: int, limit: int = 4 * 1024 * 1024) -> None:
        super().__init__(f"{what} returned {size} bytes of JSON; the limit is {limit} bytes "
                         f"({limit // (1024 * 1024)} MB)")
        self.size = size
        self.limit = limit


class StepInterrupt(BaseException):
    """Stops the function at steps that have to be reported to Inngest: ``ops``, the body of
    the 206 answer (one op per step; several when a group of steps is planned at once).

    A ``BaseException``, so a function's ``except Exception`` cannot swallow it.

    >>> StepInterrupt({"op": "Sleep"}).op
    {'op': 'Sleep'}
    >>> StepInterrupt([{"op": "StepPlanned"}, {"op": "StepPlanned"}]).ops[1]
    {'op': 'StepPlanned'}
    """

    def __init__(self, ops: dict[str, Any] | list[dict[str, Any]],
                 no_retry: bool = False, retry_after: str | None = None) -> None:
        self.ops = [ops] if isinstance(ops, dict) else list(ops)
        super().__init__(self.ops[0].get("op") if self.ops else None)
        self.no_retry = no_retry
        #: The ``Retry-After`` of a step that raised a :class:`RetryAfterError`.
        self.retry_after = retry_after

    @property
    def op(self) -> dict[str, Any]:
        """The first (usually the only) op reported."""
        return self.ops[0]
