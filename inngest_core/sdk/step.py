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

import asyncio
import inspect
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NoReturn, TypeVar, overload

from . import kinds, protocol
from .exceptions import NonRetriableError, OutputTooLargeError, RetryAfterError, StepError, \
    StepInterrupt, StepUsageError
from .kinds import StepKind

__all__ = [
    "Context",
    "Step",
    "StepBase",
    "StepSkipped",
    "run_blocking",
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


_LOCAL = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop:
    loop: asyncio.AbstractEventLoop | None = getattr(_LOCAL, "loop", None)
    if loop is None or loop.is_closed():
        loop = _LOCAL.loop = asyncio.new_event_loop()
    return loop


def run_blocking(awaitable: Awaitable[T]) -> T:
    """Await ``awaitable`` from synchronous code, on this thread's private event loop (kept
    for the thread's next call), or on a helper thread's when an event loop already runs
    in this one (a sync function called from async code).

    >>> async def two():
    ...     return 2
    >>> run_blocking(two())
    2
    """
    async def wrapped() -> T:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _thread_loop().run_until_complete(wrapped())
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: _thread_loop().run_until_complete(wrapped())).result()


class StepSkipped(BaseException):
    """A step reached while the call targets another one (``stepId``): it neither runs nor
    is reported (the official SDK's ``SkipInterrupt``, ``step_lib/base.py``)."""

    def __init__(self, step_id: str) -> None:
        super().__init__(step_id)
        self.step_id = step_id


class _Planned(StepInterrupt):
    """A memoized block planned (``StepPlanned``) inside a group: it keeps the block, so a
    group with a single step to report can run it at once (SDK spec 5.3.1)."""

    def __init__(self, op: dict[str, Any], hashed: str, step_id: str,
                 block: Callable[[], Any]) -> None:
        super().__init__(op)
        self.block = (hashed, step_id, block)


class StepBase:
    """What the sync :class:`Step` and the async :class:`~inngest_core.sdk.AsyncStep` share:
    step ids, memos, and the decision to run, plan, skip or report each step (the kinds'
    declarations, :mod:`~inngest_core.sdk.kinds`).  Only the execution of a block differs.

    ``target`` is the hashed id of the step the call runs (the request's ``stepId``;
    ``None`` for ``"step"``); ``plan`` is ``ctx.disable_immediate_execution``."""

    def __init__(self, memos: Mapping[str, Any], *, attempt: int, max_attempts: int,
                 target: str | None = None, plan: bool = False) -> None:
        self._memos = memos
        self._attempt = attempt
        self._max_attempts = max_attempts
        self._seen: dict[str, int] = {}
        self._call = _CALL.get()
        self._target = target
        self._plan = plan
        self._in_group = False

    def _hashed(self, step_id: str) -> str:
        if not isinstance(step_id, str) or not step_id:
            raise StepUsageError(f"a step id must be a non-empty str, not {step_id!r}")
        n = self._seen.get(step_id, 0)
        self._seen[step_id] = n + 1
        return protocol.hash_step_id(step_id if n == 0 else f"{step_id}:{n}")

    def _first_hashed(self, step_id: str) -> str:
        """:meth:`_hashed`, the common case first (an id's first use in the execution: a
        replay takes this path for every step)."""
        if type(step_id) is str and step_id and step_id not in self._seen:
            self._seen[step_id] = 1
            return _HASHED.get(step_id) or protocol.hash_step_id(step_id)
        return self._hashed(step_id)

    def _fail(self, hashed: str, step_id: str, exc: BaseException, final: bool) -> StepInterrupt:
        retry_after = exc.retry_after if isinstance(exc, RetryAfterError) and not final else None
        return StepInterrupt(kinds.failure_op(hashed, step_id, exc, final), no_retry=final,
                             retry_after=retry_after)

    def _before_block(self, hashed: str, step_id: str, fn: Callable[[], Any]) -> None:
        """A memoized block without a memo: return if it runs in this call; else raise.

        As the official SDK (``execution_lib/v0.py`` ``report_step``): a call that targets
        another step skips it; inside a group, or when the server asks for every step to be
        planned (``disable_immediate_execution``), it is reported as ``StepPlanned``."""
        if self._target is not None:
            if hashed != self._target:
                raise StepSkipped(step_id)
            return
        if self._in_group or self._plan:
            raise _Planned(kinds.op(hashed, protocol.STEP_PLANNED, step_id, step_id, None),
                           hashed, step_id, fn)

    def _failed(self, hashed: str, step_id: str, exc: Exception) -> StepInterrupt:
        if isinstance(exc, NonRetriableError):
            return self._fail(hashed, step_id, exc, final=True)
        return self._fail(hashed, step_id, exc, final=self._attempt + 1 >= self._max_attempts)

    def _ran(self, hashed: str, step_id: str, result: object) -> StepInterrupt:
        """The op of a block that returned ``result``."""
        try:
            _json_check(step_id, result)
        except (TypeError, OutputTooLargeError) as exc:
            return self._fail(hashed, step_id, exc, final=True)
        name, opts = _report_step(step_id, None)
        op = kinds.op(hashed, _STEP_RUN, name, step_id, opts)
        op["data"] = result
        return StepInterrupt(op)

    def _execute(self, hashed: str, step_id: str, fn: Callable[[], Any]) -> NoReturn:
        """Run the block of a memoized step that has no memo and report its result (or
        its failure: ``StepError`` while attempts remain, else ``StepFailed``).  A block
        may be async: it is awaited on a private loop (:func:`run_blocking`)."""
        self._before_block(hashed, step_id, fn)
        self._run_block(hashed, step_id, fn)

    def _run_block(self, hashed: str, step_id: str, fn: Callable[[], Any]) -> NoReturn:
        try:
            result = fn()
            if inspect.isawaitable(result):
                result = run_blocking(result)
        except Exception as exc:
            raise self._failed(hashed, step_id, exc) from None
        raise self._ran(hashed, step_id, result)

    async def _execute_async(self, hashed: str, step_id: str, fn: Callable[[], Any]) -> NoReturn:
        """:meth:`_execute`, awaiting the block (sync or async) on the running loop."""
        self._before_block(hashed, step_id, fn)
        await self._run_block_async(hashed, step_id, fn)

    async def _run_block_async(self, hashed: str, step_id: str,
                               fn: Callable[[], Any]) -> NoReturn:
        try:
            result = fn()
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            raise self._failed(hashed, step_id, exc) from None
        raise self._ran(hashed, step_id, result)


    def _sending(self, step_id: str, events: Mapping[str, Any] | Sequence[Mapping[str, Any]]
                 ) -> list[str] | tuple[str, Callable[[], list[str]]]:
        """``send_event``'s part before running, both flavours: the memo's ids when
        replayed, else the step's hash and the call that sends the checked events."""
        checked = kinds.SEND_EVENT.check(step_id, events)
        hashed = self._hashed(step_id)
        if hashed in self._memos:
            return kinds.SEND_EVENT.read_memo(self._memos[hashed], step_id)  # type: ignore[no-any-return]
        send = self._call.send
        if send is None:
            raise self._fail(hashed, step_id, NonRetriableError(
                "send_event has nowhere to send events: serve the function with App, or "
                "run it with LocalRunner"), final=True)
        return hashed, lambda: send(checked)
    def _reach(self, kind: StepKind, step_id: str, *args: Any) -> Any:
        """Reach a step of ``kind`` that runs no block: its memo's value on replay, else
        its op reported (skipped when the call targets another step)."""
        checked = kind.check(step_id, *args)
        hashed = self._hashed(step_id)
        if hashed in self._memos:
            return kind.read_memo(self._memos[hashed], step_id)
        if self._target is not None and hashed != self._target:
            raise StepSkipped(step_id)
        try:
            name, opts = kind.report(step_id, checked)
        except ValueError as exc:
            # A syntax error (with its caret line) is the step's own failure, for good.
            raise self._fail(hashed, step_id, exc, final=True) from None
        raise StepInterrupt(kinds.op(hashed, kind.opcode, name, step_id, opts))

    def _enter_group(self) -> None:
        if self._in_group:
            raise StepUsageError("step.parallel inside step.parallel: a group cannot hold "
                                 "another group")
        self._in_group = True

    def _group_end(self, stops: list[StepInterrupt], skipped: list[StepSkipped]
                   ) -> tuple[str, str, Callable[[], Any]] | None:
        """After every step of a group was reached: ``None`` when all returned; the block
        to run at once when the group found a single step to report, a block, and the
        server allows immediate execution (SDK spec 5.3.1); else raise the group's ops
        (a step skipped for a target outside the group stops the function too: its
        result is not known)."""
        if not stops:
            if skipped:
                raise skipped[0]
            return None
        if len(stops) == 1:
            stop = stops[0]
            if isinstance(stop, _Planned) and not self._plan and self._target is None:
                return stop.block
            raise stop
        raise StepInterrupt([op for stop in stops for op in stop.ops])


class Step(StepBase):
    """The step tools of one execution, replaying ``memos`` (keyed by hashed step id).

    ``attempt`` and ``max_attempts`` decide whether a failing ``step`` reports ``StepError``
    (retried) or ``StepFailed`` (final).

    >>> from inngest_core.sdk.protocol import hash_step_id
    >>> step = Step({hash_step_id("one"): {"data": 1}}, attempt=0, max_attempts=5)
    >>> step.step("one", lambda: 99)
    1
    """

    def parallel(self, callables: Sequence[Callable[[], T]]) -> tuple[T, ...]:
        """Run several steps as one group -- named as the official SDK names it
        (``ctx.group.parallel``, ``step_lib/group.py``) -- and return their results in the
        order given.  Each callable reaches one step (``lambda: step.step("a", fetch_a)``).

        On the first call every step of the group without a memo is reported at once
        (``StepPlanned`` for a block, its own op for the others) in one 206; Inngest then
        calls once per step with ``stepId`` set, and only that step runs (SDK spec 5.3.1,
        5.5).  A group with a single step to report runs it at once when the server allows
        (``disable_immediate_execution`` false).  A group inside a group is an error.

        >>> step = Step({}, attempt=0, max_attempts=1)
        >>> try:
        ...     step.parallel([lambda: step.step("a", lambda: 1), lambda: step.step("b", lambda: 2)])
        ... except StepInterrupt as stop:
        ...     print([(op["op"], op["name"]) for op in stop.ops])
        [('StepPlanned', 'a'), ('StepPlanned', 'b')]
        """
        self._enter_group()
        outputs: list[T] = []
        stops: list[StepInterrupt] = []
        skipped: list[StepSkipped] = []
        try:
            for cb in callables:
                try:
                    outputs.append(cb())
                except StepSkipped as skip:
                    skipped.append(skip)
                except StepInterrupt as stop:
                    stops.append(stop)
        finally:
            self._in_group = False
        lone = self._group_end(stops, skipped)
        if lone is not None:
            self._run_block(*lone)
        return tuple(outputs)

    def run(self, step_id: str, fn: Callable[[], T]) -> T:
        """The seed's non-deterministic block: runs on every execution, its result is passed
        on, nothing is memoized and nothing is reported to Inngest.

        >>> calls = []
        >>> Step({}, attempt=0, max_attempts=1).run("log", lambda: calls.append(1) or len(calls))
        1
        """
        if not isinstance(step_id, str) or not step_id:
            raise StepUsageError(f"a step id must be a non-empty str, not {step_id!r}")
        result = fn()
        if inspect.isawaitable(result):
            return run_blocking(result)  # type: ignore[no-any-return]
        return result

    @overload
    def step(self, step_id: str, fn: Callable[[], Awaitable[T]]) -> T: ...

    @overload
    def step(self, step_id: str, fn: Callable[[], T]) -> T: ...

    def step(self, step_id: str, fn: Callable[[], Any]) -> Any:
        """The memoized block: runs once, later executions get its memoized result.  ``fn``
        may be async: it is then awaited on a private event loop.

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
        # _first_hashed inlined: this is the path of every replayed step.
        seen = self._seen
        if type(step_id) is str and step_id and step_id not in seen:
            seen[step_id] = 1
            hashed = _HASHED.get(step_id) or protocol.hash_step_id(step_id)
        else:
            hashed = self._hashed(step_id)
        memo = self._memos.get(hashed, _NO_MEMO)
        if memo is not _NO_MEMO:
            if type(memo) is dict and "data" in memo and "error" not in memo:
                return memo["data"]
            return _read_data(memo, step_id)
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
        planned = self._sending(step_id, events)
        if isinstance(planned, list):
            return planned  # replayed: the memo's ids
        hashed, send = planned
        self._execute(hashed, step_id, send)

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
_NO_MEMO = object()
_HASHED = protocol._HASHED
_STEP_RUN = kinds.STEP.opcode
_read_data = kinds.STEP.read_memo
_report_step = kinds.STEP.report
