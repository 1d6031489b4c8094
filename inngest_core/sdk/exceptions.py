"""The SDK's exceptions: what a function raises (:class:`NonRetriableError`), what it gets
back at a failed step (:class:`StepError`), a step misused (:class:`StepUsageError`), and the
interrupt that carries a step's report out of the function (:class:`StepInterrupt`).

>>> issubclass(StepUsageError, NonRetriableError)
True
"""

from __future__ import annotations

from typing import Any

__all__ = ["NonRetriableError", "StepError", "StepUsageError", "StepInterrupt"]


class NonRetriableError(Exception):
    """Raise it (from a ``step`` or the function) to fail at once, with no retry.

    >>> NonRetriableError("card declined").args
    ('card declined',)
    """


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
                 no_retry: bool = False) -> None:
        self.ops = [ops] if isinstance(ops, dict) else list(ops)
        super().__init__(self.ops[0].get("op") if self.ops else None)
        self.no_retry = no_retry

    @property
    def op(self) -> dict[str, Any]:
        """The first (usually the only) op reported."""
        return self.ops[0]
