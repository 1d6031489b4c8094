"""Inngest functions in Python, on the core's parsers: define them, answer Inngest's step
protocol, and run them locally on SQLite.

As in the seed (Inngest's Elixir SDK), ``step.step`` is the memoized block (run once, then
replayed) -- what Inngest's other SDKs call ``step.run`` -- and ``step.run`` is the
non-memoized one that runs on every execution.

>>> from datetime import timedelta
>>> from inngest_core.sdk import function, Trigger, LocalRunner, ManualClock
>>> @function(id="sign-up-flow", name="Sign up flow", trigger=Trigger(event="auth/signup"))
... def sign_up(ctx, step):
...     user = step.step("create user", lambda: {"id": ctx.event["data"]["id"]})
...     step.sleep("cool down", "1h30m")
...     return user
>>> runner = LocalRunner([sign_up], db=":memory:", clock=ManualClock())
>>> [run] = runner.send({"name": "auth/signup", "data": {"id": 7}})
>>> runner.status(run)
'sleeping'
>>> runner.advance(timedelta(hours=2))
>>> runner.status(run), runner.result(run)
('completed', {'id': 7})
"""

from __future__ import annotations

from .clock import Clock, ManualClock, SystemClock
from .function import Function, Trigger, function
from .options import (Batch, Cancel, Concurrency, Debounce, FunctionConfigError, FunctionOptions,
                      Priority, RateLimit, Singleton, Throttle, Timeouts)
from .protocol import Response, hash_step_id
from .remote import RemoteFunction, SyncError
from .runner import HistoryEntry, LocalRunner
from .serve import App, ConfigurationError, SendError
from .signing import SignatureError
from .step_async import AsyncStep
from .step import Context, NonRetriableError, OutputTooLargeError, RetryAfterError, Step, \
    StepError, StepUsageError, calling

__all__ = [
    "function",
    "Trigger",
    "Function",
    "FunctionOptions",
    "FunctionConfigError",
    "Concurrency",
    "Throttle",
    "RateLimit",
    "Debounce",
    "Priority",
    "Batch",
    "Cancel",
    "Timeouts",
    "Singleton",
    "Context",
    "Step",
    "AsyncStep",
    "NonRetriableError",
    "StepError",
    "StepUsageError",
    "RetryAfterError",
    "OutputTooLargeError",
    "calling",
    "Response",
    "LocalRunner",
    "HistoryEntry",
    "Clock",
    "ManualClock",
    "SystemClock",
    "hash_step_id",
    "App",
    "ConfigurationError",
    "SendError",
    "SignatureError",
    "SyncError",
    "RemoteFunction",
]
