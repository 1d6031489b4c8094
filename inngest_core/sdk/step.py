"""The ``step`` tools a function receives and its ``ctx``; the SDK's exceptions (from
:mod:`~inngest_core.sdk.exceptions`) are importable from here too.  Each tool executes one
kind of step declared in :mod:`~inngest_core.sdk.kinds`.

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
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NoReturn, TypeVar

from . import kinds, protocol
from .exceptions import NonRetriableError, OutputTooLargeError, RetryAfterError, StepError, \
    StepInterrupt, StepUsageError
from .kinds import StepKind

__all__ = [
    "Context",
    "Step",
    "CallContext",
    "calling",
    "NonRetriableError",
    "RetryAfterError",
    "StepError",
    "StepUsageError",
    "OutputTooLargeError",
    "StepInterrupt",
]

T = TypeVar("T")

#: Sends checked events somewhere and returns their ids.
Sender = Callable[[list[dict[str, Any]]], list[str]]


@dataclass(frozen=True)
class CallContext:
    """Where a call is answered: the ``app_id`` that composite function ids start with
    (``step.invoke``) and ``send``, which takes the events of ``step.send_event`` --
    :meth:`App.send <inngest_core.sdk.App.send>` when an :class:`~inngest_core.sdk.App`
    serves the call, the runner's intake when a :class:`~inngest_core.sdk.LocalRunner`
    makes it in process."""

    app_id: str | None = None
    send: Sender | None = None


_CALL: ContextVar[CallContext] = ContextVar("inngest_core_call", default=CallContext())


@contextmanager
def calling(app_id: str | None = None, send: Sender | None = None) -> Iterator[CallContext]:
    """Answer the calls made inside the block as the app ``app_id``, sending events with
    ``send`` (what :class:`~inngest_core.sdk.App` and the runner do around each call).

    >>> with calling("shop", lambda events: ["e1"] * len(events)):
    ...     try:
    ...         Step({}, attempt=0, max_attempts=1).send_event("notify", {"name": "a/b"})
    ...     except StepInterrupt as stop:
    ...         print(stop.op["op"], stop.op["data"])
    StepRun ['e1']
    """
    token = _CALL.set(CallContext(app_id, send))
    try:
        yield _CALL.get()
    finally:
        _CALL.reset(token)


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


def _json_check(step_id: str, value: object) -> None:
    try:
        size = protocol.json_size(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f'step "{step_id}" returned a value that is not JSON-serializable: {exc}'
                        ) from exc
    if size > protocol.MAX_OUTPUT_BYTES:
        raise OutputTooLargeError(f'step "{step_id}"', size, protocol.MAX_OUTPUT_BYTES)


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
        self._call = _CALL.get()

    def _hashed(self, step_id: str) -> str:
        if not isinstance(step_id, str) or not step_id:
            raise StepUsageError(f"a step id must be a non-empty str, not {step_id!r}")
        n = self._seen.get(step_id, 0)
        self._seen[step_id] = n + 1
        return protocol.hash_step_id(step_id if n == 0 else f"{step_id}:{n}")

    def _fail(self, hashed: str, step_id: str, exc: BaseException, final: bool) -> StepInterrupt:
        retry_after = exc.retry_after if isinstance(exc, RetryAfterError) and not final else None
        return StepInterrupt(kinds.failure_op(hashed, step_id, exc, final), no_retry=final,
                             retry_after=retry_after)

    def _execute(self, hashed: str, step_id: str, fn: Callable[[], Any]) -> NoReturn:
        """Run the block of a memoized step that has no memo and report its result (or
        its failure: ``StepError`` while attempts remain, else ``StepFailed``)."""
        try:
            result = fn()
        except NonRetriableError as exc:
            raise self._fail(hashed, step_id, exc, final=True) from None
        except Exception as exc:
            final = self._attempt + 1 >= self._max_attempts
            raise self._fail(hashed, step_id, exc, final=final) from None
        try:
            _json_check(step_id, result)
        except (TypeError, OutputTooLargeError) as exc:
            raise self._fail(hashed, step_id, exc, final=True) from None
        name, opts = _report_step(step_id, None)
        op = kinds.op(hashed, _STEP_RUN, name, step_id, opts)
        op["data"] = result
        raise StepInterrupt(op)

    def _reach(self, kind: StepKind, step_id: str, *args: Any) -> Any:
        """Reach a step of ``kind`` that runs no block: its memo's value on replay, else
        its op reported."""
        checked = kind.check(step_id, *args)
        hashed = self._hashed(step_id)
        if hashed in self._memos:
            return kind.read_memo(self._memos[hashed], step_id)
        try:
            name, opts = kind.report(step_id, checked)
        except ValueError as exc:
            # A syntax error (with its caret line) is the step's own failure, for good.
            raise self._fail(hashed, step_id, exc, final=True) from None
        raise StepInterrupt(kinds.op(hashed, kind.opcode, name, step_id, opts))

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
        up (``StepFailed``); a :class:`NonRetriableError` fails at once; a
        :class:`RetryAfterError` is retried no sooner than it says.  The result must be
        JSON-serializable, 4 MB at most (Inngest's limit; past it the step fails with
        :class:`OutputTooLargeError`).  A memoized failure raises :class:`StepError` here.

        >>> from inngest_core.sdk.protocol import hash_step_id
        >>> memo = {hash_step_id("pay"): {"error": {"name": "ValueError", "message": "no"}}}
        >>> Step(memo, attempt=0, max_attempts=5).step("pay", lambda: 1)
        Traceback (most recent call last):
        ...
        inngest_core.sdk.exceptions.StepError: ValueError: no
        """
        hashed = self._hashed(step_id)
        if hashed in self._memos:
            return _read_data(self._memos[hashed], step_id)  # type: ignore[no-any-return]
        self._execute(hashed, step_id, fn)

    def sleep(self, step_id: str, duration: str | timedelta) -> None:
        """Pause the run for ``duration``: a duration string (``"1h30m"``, ``"2s"``, ``"1d"``)
        or a ``timedelta``, from 0 to 366 days.

        >>> try:
        ...     Step({}, attempt=0, max_attempts=1).sleep("cool down", "1h30m")
        ... except StepInterrupt as stop:
        ...     print(stop.op["opts"])
        {'duration': '1h30m'}
        """
        self._reach(kinds.SLEEP, step_id, duration)

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
        self._reach(kinds.SLEEP_UNTIL, step_id, when)

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
        return self._reach(kinds.WAIT_FOR_EVENT, step_id, event, timeout, match, if_)

    def send_event(self, step_id: str,
                   events: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[str]:
        """Send one event or a list, once: a memoized step whose block sends them and
        returns their ids (SDK spec 5.3.5), so a replay returns the same ids and sends
        nothing.  Served by an :class:`~inngest_core.sdk.App`, the events go through
        :meth:`App.send <inngest_core.sdk.App.send>`; in a
        :class:`~inngest_core.sdk.LocalRunner`, through the runner's intake.  A failed send
        is retried as any step is.

        >>> with calling("shop", lambda events: [f"id-{e['name']}" for e in events]):
        ...     try:
        ...         Step({}, attempt=0, max_attempts=1).send_event("tell", [{"name": "a"}])
        ...     except StepInterrupt as stop:
        ...         print(stop.op["op"], stop.op["name"], stop.op["data"])
        StepRun tell ['id-a']
        """
        checked = kinds.SEND_EVENT.check(step_id, events)
        hashed = self._hashed(step_id)
        if hashed in self._memos:
            return kinds.SEND_EVENT.read_memo(self._memos[hashed], step_id)  # type: ignore[no-any-return]
        send = self._call.send
        if send is None:
            raise self._fail(hashed, step_id, NonRetriableError(
                "send_event has nowhere to send events: serve the function with App, or "
                "run it with LocalRunner"), final=True)
        self._execute(hashed, step_id, lambda: send(checked))

    def invoke(self, step_id: str, *, function: Any, data: Mapping[str, Any] | None = None,
               timeout: str | timedelta | None = None, v: str | None = None,
               app_id: str | None = None) -> Any:
        """Run another function and return its result: ``function`` is a
        :class:`~inngest_core.sdk.Function` or a function's id, of this app unless
        ``app_id`` names another; ``data`` becomes the invoked run's ``event["data"]``.
        The invoked function fails, or ``timeout`` passes (a duration; without one the wait
        is a year, as on Inngest's server): :class:`StepError` here (for a timeout, named
        ``InngestInvokeTimeoutError``).  Reported as Inngest's ``InvokeFunction`` op
        (SDK spec 5.3.4).

        >>> with calling("shop"):
        ...     try:
        ...         Step({}, attempt=0, max_attempts=1).invoke(
        ...             "score", function="scorer", data={"n": 1}, timeout="1h")
        ...     except StepInterrupt as stop:
        ...         print(stop.op["op"], stop.op["opts"])
        InvokeFunction {'function_id': 'shop-scorer', 'payload': {'data': {'n': 1}, 'v': None}, 'timeout': '1h'}
        """
        return self._reach(kinds.INVOKE, step_id, function,
                           app_id if app_id is not None else self._call.app_id,
                           data, timeout, v)


# The memoized block's declaration, read on every replayed step.
_STEP_RUN = kinds.STEP.opcode
_read_data = kinds.STEP.read_memo
_report_step = kinds.STEP.report
