"""The step tools of an ``async def`` function: :class:`AsyncStep`.

Each tool is the sync :class:`~inngest_core.sdk.Step` tool of the same name, awaited: it
checks, reports and replays its kind's declaration (:mod:`~inngest_core.sdk.kinds`) through
the same :class:`~inngest_core.sdk.step.StepBase`; only a block's execution differs (a
block, sync or async, is awaited on the running loop).  The tools are ``async def`` with
typed results, so ``mypy --strict`` flags a tool called without ``await``
(``unused-coroutine``).

>>> import asyncio
>>> from inngest_core.sdk.protocol import hash_step_id
>>> async def fetch():
...     return {"id": 1}
>>> step = AsyncStep({hash_step_id("one"): {"data": 1}}, attempt=0, max_attempts=5)
>>> asyncio.run(step.step("one", fetch))
1
>>> try:
...     asyncio.run(step.step("two", fetch))
... except StepInterrupt as stop:
...     print(stop.op["op"], stop.op["data"])
StepRun {'id': 1}
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar, overload

from . import kinds
from .exceptions import StepInterrupt
from .step import _NO_MEMO, StepBase, StepSkipped

__all__ = ["AsyncStep"]

T = TypeVar("T")


class AsyncStep(StepBase):
    """The step tools of one execution of an ``async def`` function, replaying ``memos``;
    every tool is awaited (``await step.sleep("nap", "1h")``)."""

    async def run(self, step_id: str, fn: Callable[[], Awaitable[T]] | Callable[[], T]) -> T:
        """The non-memoized block (:meth:`Step.run <inngest_core.sdk.Step.run>`), awaited
        if it is async."""
        from .exceptions import StepUsageError

        if not isinstance(step_id, str) or not step_id:
            raise StepUsageError(f"a step id must be a non-empty str, not {step_id!r}")
        result = fn()
        if isinstance(result, Awaitable):
            return await result
        return result

    @overload
    async def step(self, step_id: str, fn: Callable[[], Awaitable[T]]) -> T: ...

    @overload
    async def step(self, step_id: str, fn: Callable[[], T]) -> T: ...

    async def step(self, step_id: str, fn: Callable[[], Any]) -> Any:
        """The memoized block (:meth:`Step.step <inngest_core.sdk.Step.step>`): ``fn`` may
        be sync or async; runs once, later executions get its memoized result."""
        hashed = self._first_hashed(step_id)
        memo = self._memos.get(hashed, _NO_MEMO)
        if memo is not _NO_MEMO:
            if type(memo) is dict and "data" in memo and "error" not in memo:
                return memo["data"]
            return kinds.STEP.read_memo(memo, step_id)
        await self._execute_async(hashed, step_id, fn)

    async def sleep(self, step_id: str, duration: str | timedelta) -> None:
        """:meth:`Step.sleep <inngest_core.sdk.Step.sleep>`, awaited."""
        self._reach(kinds.SLEEP, step_id, duration)

    async def sleep_until(self, step_id: str,
                          when: str | datetime | Callable[[], str | datetime]) -> None:
        """:meth:`Step.sleep_until <inngest_core.sdk.Step.sleep_until>`, awaited."""
        self._reach(kinds.SLEEP_UNTIL, step_id, when)

    async def wait_for_event(self, step_id: str, *, event: str, timeout: str | timedelta,
                             match: str | None = None, if_: str | None = None) -> Any:
        """:meth:`Step.wait_for_event <inngest_core.sdk.Step.wait_for_event>`, awaited."""
        return self._reach(kinds.WAIT_FOR_EVENT, step_id, event, timeout, match, if_)

    async def send_event(self, step_id: str,
                         events: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[str]:
        """:meth:`Step.send_event <inngest_core.sdk.Step.send_event>`, awaited; the events
        are sent from a worker thread, so the loop is not blocked."""
        planned = self._sending(step_id, events)
        if isinstance(planned, list):
            return planned  # replayed: the memo's ids
        hashed, send = planned

        async def sending() -> list[str]:
            return await asyncio.to_thread(send)

        await self._execute_async(hashed, step_id, sending)

    async def invoke(self, step_id: str, *, function: Any,
                     data: Mapping[str, Any] | None = None,
                     timeout: str | timedelta | None = None, v: str | None = None,
                     app_id: str | None = None) -> Any:
        """:meth:`Step.invoke <inngest_core.sdk.Step.invoke>`, awaited."""
        return self._reach(kinds.INVOKE, step_id, function,
                           app_id if app_id is not None else self._call.app_id,
                           data, timeout, v)

    async def parallel(self, callables: Sequence[Callable[[], Awaitable[T]]]) -> tuple[T, ...]:
        """:meth:`Step.parallel <inngest_core.sdk.Step.parallel>` (the official SDK's
        ``ctx.group.parallel``, ``step_lib/group.py``): each callable returns an awaitable
        reaching one step (``lambda: step.step("a", fetch_a)``); they are awaited one after
        another, so the steps are found in the order given.

        >>> import asyncio
        >>> step = AsyncStep({}, attempt=0, max_attempts=1)
        >>> async def main():
        ...     return await step.parallel([lambda: step.step("a", lambda: 1),
        ...                                 lambda: step.step("b", lambda: 2)])
        >>> try:
        ...     asyncio.run(main())
        ... except StepInterrupt as stop:
        ...     print([op["op"] for op in stop.ops])
        ['StepPlanned', 'StepPlanned']
        """
        self._enter_group()
        outputs: list[T] = []
        stops: list[StepInterrupt] = []
        skipped: list[StepSkipped] = []
        try:
            for cb in callables:
                try:
                    outputs.append(await cb())
                except StepSkipped as skip:
                    skipped.append(skip)
                except StepInterrupt as stop:
                    stops.append(stop)
        finally:
            self._in_group = False
        lone = self._group_end(stops, skipped)
        if lone is not None:
            await self._run_block_async(*lone)
        return tuple(outputs)
