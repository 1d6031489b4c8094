"""The ``step`` tools a function receives, its ``ctx``, and the SDK's exceptions.

As in the seed (Inngest's Elixir SDK), ``step.run`` is the *non-memoized* block: it runs on
every execution and reports nothing.  ``step.step`` is the *memoized* one, run once and then
replayed from its memo -- what Inngest's other SDKs call ``step.run``.

>>> step = Step({}, attempt=0, max_attempts=5)
>>> step.run("roll", lambda: 4)
4
>>> try:
...     step.step("create user", lambda: {"id": 1})
... except StepInterrupt as stop:
...     print(stop.op["op"], stop.op["data"])
StepRun {'id': 1}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from ..datetimes import format_datetime, parse_datetime
from ..duration import format_duration, parse_duration_ns
from ..errors import DatetimeError, DurationError
from ..expr import Program, compile_expression
from ..wait import match_expression
from . import protocol

__all__ = [
    "Context",
    "Step",
    "NonRetriableError",
    "StepError",
    "StepUsageError",
    "StepInterrupt",
]

T = TypeVar("T")


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
    """Stops the function at a step that has to be reported to Inngest (one op).

    A ``BaseException``, so a function's ``except Exception`` cannot swallow it.

    >>> StepInterrupt({"op": "Sleep"}).op
    {'op': 'Sleep'}
    """

    def __init__(self, op: dict[str, Any], no_retry: bool = False) -> None:
        super().__init__(op.get("op"))
        self.op = op
        self.no_retry = no_retry


@dataclass(frozen=True)
class Context:
    """What a function knows about its run: the triggering ``event``, the ``events`` batch,
    the ``run_id`` and the ``attempt`` (0-based, per step: it resets after each step).

    >>> ctx = Context({"name": "auth/signup", "data": {}}, [], "01H", 0)
    >>> ctx.event["name"], ctx.attempt
    ('auth/signup', 0)
    """

    event: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    run_id: str = ""
    attempt: int = 0


def _usage(step_id: str, message: str) -> StepUsageError:
    return StepUsageError(f'step "{step_id}": {message}')


def _duration_ns(step_id: str, what: str, value: str | timedelta) -> int:
    if isinstance(value, timedelta):
        ns = (value.days * 86_400 + value.seconds) * 1_000_000_000 + value.microseconds * 1000
    elif isinstance(value, str):
        try:
            ns = parse_duration_ns(value)
        except DurationError as exc:
            raise _usage(step_id, f"{what}: {exc}") from exc
    else:
        raise _usage(step_id, f"{what} must be a str or a timedelta, not {type(value).__name__}")
    if ns < 0:
        raise _usage(step_id, f"{what} must not be negative, got {format_duration(ns)}")
    if ns > protocol.MAX_DURATION_NS:
        raise _usage(step_id, f"{what} must be at most 366 days (Inngest's limit), "
                              f"got {format_duration(ns)}")
    return ns


def _json_check(step_id: str, value: object) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f'step "{step_id}" returned a value that is not JSON-serializable: {exc}'
                        ) from exc


class Step:
    """The step tools of one execution, replaying ``memos`` (keyed by hashed step id).

    ``attempt`` and ``max_attempts`` decide whether a failing ``step`` reports ``StepError``
    (retried) or ``StepFailed`` (final).

    >>> from inngest_core.sdk.protocol import hash_step_id
    >>> step = Step({hash_step_id("one"): {"data": 1}}, attempt=0, max_attempts=5)
    >>> step.step("one", lambda: 99)
    1
    """

    def __init__(self, memos: Mapping[str, Any], *, attempt: int, max_attempts: int) -> None:
        self._memos = memos
        self._attempt = attempt
        self._max_attempts = max_attempts
        self._seen: dict[str, int] = {}

    def _hashed(self, step_id: str) -> str:
        if not isinstance(step_id, str) or not step_id:
            raise StepUsageError(f"a step id must be a non-empty str, not {step_id!r}")
        n = self._seen.get(step_id, 0)
        self._seen[step_id] = n + 1
        return protocol.hash_step_id(step_id if n == 0 else f"{step_id}:{n}")

    def _op(self, hashed: str, op: str, name: str, display: str,
            opts: dict[str, Any] | None) -> dict[str, Any]:
        return {"id": hashed, "op": op, "name": name, "displayName": display, "opts": opts}

    def _fail(self, hashed: str, step_id: str, exc: BaseException, final: bool) -> StepInterrupt:
        op = self._op(hashed, protocol.STEP_FAILED if final else protocol.STEP_ERROR,
                      step_id, step_id, None)
        op["error"] = protocol.error_body(exc)
        return StepInterrupt(op, no_retry=final)

    def run(self, step_id: str, fn: Callable[[], T]) -> T:
        """The seed's non-deterministic block: runs on every execution, its result is passed
        on, nothing is memoized and nothing is reported to Inngest.

        >>> calls = []
        >>> Step({}, attempt=0, max_attempts=1).run("log", lambda: calls.append(1) or len(calls))
        1
        """
        if not isinstance(step_id, str) or not step_id:
            raise StepUsageError(f"a step id must be a non-empty str, not {step_id!r}")
        return fn()

    def step(self, step_id: str, fn: Callable[[], T]) -> T:
        """The memoized block: runs once, later executions get its memoized result.

        An exception is retried (``StepError`` op) until the function's attempts are used
        up (``StepFailed``); a :class:`NonRetriableError` fails at once.  The result must be
        JSON-serializable.  A memoized failure raises :class:`StepError` here.

        >>> from inngest_core.sdk.protocol import hash_step_id
        >>> memo = {hash_step_id("pay"): {"error": {"name": "ValueError", "message": "no"}}}
        >>> Step(memo, attempt=0, max_attempts=5).step("pay", lambda: 1)
        Traceback (most recent call last):
        ...
        inngest_core.sdk.step.StepError: ValueError: no
        """
        hashed = self._hashed(step_id)
        if hashed in self._memos:
            memo = self._memos[hashed]
            _raise_memoized_error(memo, step_id)
            if isinstance(memo, Mapping) and "data" in memo:
                return memo["data"]  # type: ignore[no-any-return]
            return memo  # type: ignore[no-any-return]
        try:
            result = fn()
        except NonRetriableError as exc:
            raise self._fail(hashed, step_id, exc, final=True) from None
        except Exception as exc:
            final = self._attempt + 1 >= self._max_attempts
            raise self._fail(hashed, step_id, exc, final=final) from None
        try:
            _json_check(step_id, result)
        except TypeError as exc:
            raise self._fail(hashed, step_id, exc, final=True) from None
        op = self._op(hashed, protocol.STEP_RUN, step_id, step_id, None)
        op["data"] = result
        raise StepInterrupt(op)

    def sleep(self, step_id: str, duration: str | timedelta) -> None:
        """Pause the run for ``duration``: a duration string (``"1h30m"``, ``"2s"``, ``"1d"``)
        or a ``timedelta``, from 0 to 366 days.

        >>> try:
        ...     Step({}, attempt=0, max_attempts=1).sleep("cool down", "1h30m")
        ... except StepInterrupt as stop:
        ...     print(stop.op["opts"])
        {'duration': '1h30m'}
        """
        ns = _duration_ns(step_id, "sleep duration", duration)
        hashed = self._hashed(step_id)
        if hashed in self._memos:
            return
        raise StepInterrupt(self._op(hashed, protocol.SLEEP, step_id, step_id,
                                     {"duration": format_duration(ns)}))

    def sleep_until(self, step_id: str,
                    when: str | datetime | Callable[[], str | datetime]) -> None:
        """Pause the run until ``when``: any text :func:`~inngest_core.parse_datetime` reads,
        an aware ``datetime``, or a callable returning either (the seed's block form).
        A time in the past does not sleep (Inngest resumes at once).

        >>> try:
        ...     Step({}, attempt=0, max_attempts=1).sleep_until("s", "Tue, 18 Jul 2023 07:31:00 GMT")
        ... except StepInterrupt as stop:
        ...     print(stop.op["opts"])
        {'duration': '2023-07-18T07:31:00Z'}
        """
        target = when() if callable(when) else when
        if isinstance(target, str):
            try:
                moment = parse_datetime(target)
            except DatetimeError as exc:
                raise _usage(step_id, f"sleep_until: {exc}") from exc
        elif isinstance(target, datetime):
            if target.tzinfo is None or target.utcoffset() is None:
                raise _usage(step_id, "sleep_until needs an aware datetime (with a time zone)")
            moment = target
        else:
            raise _usage(step_id, "sleep_until needs a str, a datetime or a callable returning "
                                  f"one, not {type(target).__name__}")
        hashed = self._hashed(step_id)
        if hashed in self._memos:
            return
        utc = format_datetime(moment.astimezone(timezone.utc), "RFC3339")
        raise StepInterrupt(self._op(hashed, protocol.SLEEP, step_id, step_id,
                                     {"duration": utc}))

    def wait_for_event(self, step_id: str, *, event: str, timeout: str | timedelta,
                       match: str | None = None, if_: str | None = None) -> Any:
        """Pause until an ``event`` arrives (returned) or ``timeout`` passes (``None``).

        ``match="data.user.id"`` waits for an event whose ``data.user.id`` equals the
        triggering event's; ``if_`` is any CEL expression over ``event`` (the triggering
        event) and ``async`` (the incoming one), compiled when the step is reached: a syntax
        error fails the step.  ``match`` and ``if_`` together are an error.

        >>> try:
        ...     Step({}, attempt=0, max_attempts=1).wait_for_event(
        ...         "confirm", event="auth/signup.email.confirmed", timeout="1d")
        ... except StepInterrupt as stop:
        ...     print(stop.op["name"], stop.op["opts"])
        auth/signup.email.confirmed {'event': 'auth/signup.email.confirmed', 'timeout': '1d', 'if': None}
        """
        if not isinstance(event, str) or not event:
            raise _usage(step_id, "wait_for_event needs an event name (a non-empty str)")
        if match is not None and if_ is not None:
            raise _usage(step_id, "wait_for_event takes match or if_, not both")
        for what, value in (("match", match), ("if_", if_)):
            if value is not None and not isinstance(value, str):
                raise _usage(step_id, f"{what} must be a str, not {type(value).__name__}")
        ns = _duration_ns(step_id, "wait_for_event timeout", timeout)
        hashed = self._hashed(step_id)
        if hashed in self._memos:
            memo = self._memos[hashed]
            if isinstance(memo, Mapping) and "name" not in memo:
                _raise_memoized_error(memo, step_id)
            return memo
        expression: str | None = None
        if match is not None or if_ is not None:
            try:
                expression = _compile_wait(match, if_).source
            except ValueError as exc:
                # A syntax error (with its caret line) is the step's own failure, for good.
                raise self._fail(hashed, step_id, exc, final=True) from None
        raise StepInterrupt(self._op(hashed, protocol.WAIT_FOR_EVENT, event, step_id,
                                     {"event": event, "timeout": format_duration(ns),
                                      "if": expression}))


def _raise_memoized_error(memo: object, step_id: str) -> None:
    if isinstance(memo, Mapping) and "error" in memo:
        err = memo["error"] if isinstance(memo["error"], Mapping) else {}
        raise StepError(str(err.get("name", "Error")), str(err.get("message", "")),
                        str(err.get("stack", "") or ""), step_id)


def _compile_wait(match: str | None, if_: str | None) -> Program:
    if match is not None:
        return compile_expression(match_expression(match))
    assert if_ is not None
    return compile_expression(if_)
