"""How the local runner reaches a function: in process (:class:`InProcess`, through
:meth:`Function.handle`) or over HTTP (:class:`~inngest_core.sdk.remote.RemoteFunction`).

Either way the runner sends a call request of Inngest's step protocol and reads back a
:class:`CallResult` -- the status, whether Inngest may retry, and the JSON body -- so one
runner drives both, exactly as Inngest's server would.

>>> from inngest_core.sdk import function, Trigger
>>> from inngest_core.sdk.protocol import call_request
>>> f = function(id="hi", trigger=Trigger(event="a"))(lambda ctx, step: "hi")
>>> InProcess(f).call(call_request({"name": "a", "data": {}}, run_id="r"))
CallResult(status=200, no_retry=False, body='hi', retry_after=None, size=4)
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from .function import Function, Trigger

__all__ = ["CallResult", "Target", "InProcess"]


@dataclass(frozen=True)
class CallResult:
    """A function's answer to one call: ``status``, ``no_retry`` (``X-Inngest-No-Retry:
    true``), the JSON ``body``, its ``Retry-After`` header if any, and the ``size`` of the
    body in bytes.

    >>> CallResult(206, False, [{"op": "Sleep"}]).status
    206
    """

    status: int
    no_retry: bool
    body: Any
    retry_after: str | None = None
    size: int = 0


class Target(ABC):
    """A function the runner can call: its ``slug`` (the id runs are filed under), its
    ``trigger``, ``max_attempts`` per step, and :meth:`call`.

    >>> issubclass(InProcess, Target)
    True
    """

    slug: str
    trigger: Trigger
    max_attempts: int

    def composite_id(self, app_id: str) -> str:
        """The id Inngest knows the function by in the app ``app_id`` (``<app_id>-<id>``),
        which ``step.invoke`` names.

        >>> from inngest_core.sdk import function, Trigger
        >>> InProcess(function(id="f", trigger=Trigger(event="a"))(lambda c, s: 1)
        ...           ).composite_id("shop")
        'shop-f'
        """
        return f"{app_id}-{self.slug}"

    @abstractmethod
    def call(self, request: dict[str, Any], step_id: str = "step") -> CallResult:
        """Send one call request (``step_id``: the ``stepId`` of the call, the hashed id
        of a planned step or ``"step"``); return the answer (never raises for the
        function's own errors: those are answers too)."""


class InProcess(Target):
    """A :class:`Function` called in this process.  The request and the answer still cross
    a JSON boundary, as they would over HTTP.

    >>> from inngest_core.sdk import function, Trigger
    >>> f = function(id="f", trigger=Trigger(event="a"), retries=2)(lambda ctx, step: 1)
    >>> target = InProcess(f)
    >>> target.slug, target.max_attempts, target.function is f
    ('f', 3, True)
    """

    def __init__(self, fn: Function) -> None:
        self.function = fn
        self.slug = fn.slug
        self.trigger = fn.trigger
        self.max_attempts = fn.max_attempts

    def __repr__(self) -> str:
        return f"InProcess({self.function!r})"

    def call(self, request: dict[str, Any], step_id: str = "step") -> CallResult:
        response = self.function.handle(json.loads(json.dumps(request, ensure_ascii=False)),
                                        step_id)
        text = response.json()
        return CallResult(response.status, response.no_retry, json.loads(text),
                          response.headers.get("Retry-After"), len(text.encode("utf-8")))
