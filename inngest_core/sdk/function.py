"""Defining functions: :func:`function`, :class:`Trigger`, and :class:`Function`, which
answers Inngest's call requests (:meth:`Function.handle`) and describes itself for
registration (:meth:`Function.config`).

>>> @function(id="hello", trigger=Trigger(event="demo/hello"))
... def hello(ctx, step):
...     return {"greeting": step.step("greet", lambda: "hi " + ctx.event["data"]["who"])}
>>> from inngest_core.sdk.protocol import call_request
>>> first = hello.handle(call_request({"name": "demo/hello", "data": {"who": "ann"}}, run_id="r"))
>>> first.status, first.body[0]["op"], first.body[0]["data"]
(206, 'StepRun', 'hi ann')
>>> memo = {first.body[0]["id"]: {"data": first.body[0]["data"]}}
>>> done = hello.handle(call_request({"name": "demo/hello", "data": {"who": "ann"}},
...                                  run_id="r", steps=memo))
>>> done.status, done.body
(200, {'greeting': 'hi ann'})
"""

from __future__ import annotations

import asyncio
import inspect
import re
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from ..duration import format_duration
from ..expr import Program
from . import protocol
from .options import (CRON_JITTER, FUNCTION_FAILED_EVENT, MAX_TRIGGER_TEXT, MAX_TRIGGERS, Batch,
                      Cancel, Concurrency, Debounce, Duration, FunctionConfigError,
                      FunctionOptions, Priority, RateLimit, Singleton, Throttle, Timeouts,
                      compile_option_expression, duration_ns)
from .protocol import Response
from .step import Context, NonRetriableError, OutputTooLargeError, RetryAfterError, Step, \
    StepBase, StepError, StepInterrupt, StepSkipped, run_blocking
from .step_async import AsyncStep

__all__ = ["Trigger", "Function", "function", "FunctionBody", "FunctionOptions",
           "FunctionConfigError"]

#: A function body: ``fn(ctx, step)``, or ``async def fn(ctx, step)`` (with an
#: :class:`~inngest_core.sdk.AsyncStep`).
FunctionBody = Callable[[Context, Any], Any]

_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*\Z")
_TZ_PREFIX = re.compile(r"(?:CRON_)?TZ=(\S+)\s+(.*)\Z", re.DOTALL)
# Standard descriptors (as Inngest's cron parser, robfig/cron, reads them).
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


class Trigger:
    """What starts a function: an ``event`` name (with an optional ``if_`` CEL expression,
    compiled at definition) or a ``cron`` schedule (validated at definition;
    ``"TZ=Europe/Paris 0 9 * * *"`` sets its time zone, UTC otherwise; ``jitter`` -- 0s, or
    1s to 5m -- lets Inngest start each run up to that much later).

    >>> Trigger(cron="TZ=Europe/Paris 0 9 * * *").next_fire(
    ...     datetime(2024, 1, 1, 12, 0, tzinfo=timezone.utc))
    datetime.datetime(2024, 1, 2, 8, 0, tzinfo=datetime.timezone.utc)
    >>> Trigger(cron="0 9 * * MON").config()
    {'cron': '0 9 * * MON'}
    >>> Trigger(cron="@hourly", jitter="90s").config()
    {'cron': '@hourly', 'jitter': '1m30s'}
    >>> Trigger(cron="61 * * * *")
    Traceback (most recent call last):
    ...
    ValueError: invalid cron schedule "61 * * * *": Bad minute
    """

    def __init__(self, event: str | None = None, *, cron: str | None = None,
                 if_: str | None = None, jitter: Duration | None = None) -> None:
        if (event is None) == (cron is None):
            raise ValueError("a Trigger takes an event name or a cron schedule (exactly one)")
        self.event = event
        self.cron = cron
        #: The cron jitter in nanoseconds (``None`` when not given).
        self.jitter_ns: int | None = None
        self.expression: str | None = None
        self._program: Program | None = None
        self._zone: zoneinfo.ZoneInfo | None = None
        self._schedule = ""
        if event is not None:
            if not isinstance(event, str) or not event:
                raise ValueError("a Trigger's event name must be a non-empty str")
            if len(event) > MAX_TRIGGER_TEXT:
                raise FunctionConfigError("trigger.event", f"the event name is {len(event)} "
                                          f"characters long: Inngest allows at most "
                                          f"{MAX_TRIGGER_TEXT}", event)
            if jitter is not None:
                raise ValueError("an event Trigger takes no jitter (only a cron Trigger does)")
            if if_ is not None:
                self._program = compile_option_expression("trigger.if_", if_)
                self.expression = self._program.source
        else:
            if if_ is not None:
                raise ValueError("a cron Trigger takes no if_ expression")
            if not isinstance(cron, str) or not cron.strip():
                raise ValueError("a Trigger's cron schedule must be a non-empty str")
            if len(cron) > MAX_TRIGGER_TEXT:
                raise FunctionConfigError("trigger.cron", f"the schedule is {len(cron)} "
                                          f"characters long: Inngest allows at most "
                                          f"{MAX_TRIGGER_TEXT}", cron)
            self._zone, self._schedule = _parse_cron(cron)
            if jitter is not None:
                self.jitter_ns = duration_ns("trigger.jitter", jitter, CRON_JITTER)

    def __repr__(self) -> str:
        if self.cron is not None:
            if self.jitter_ns is not None:
                return f"Trigger(cron={self.cron!r}, jitter={format_duration(self.jitter_ns)!r})"
            return f"Trigger(cron={self.cron!r})"
        extra = f", if_={self.expression!r}" if self.expression is not None else ""
        return f"Trigger(event={self.event!r}{extra})"

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Whether ``event`` starts a run: same name and, if there is one, ``if_`` true.

        >>> Trigger(event="a/b").matches({"name": "a/b", "data": {}})
        True
        >>> Trigger(cron="@hourly").matches({"name": "a/b"})
        False
        """
        if self.event is None or event.get("name") != self.event:
            return False
        if self._program is None:
            return True
        return bool(self._program.matches({"event": event}))

    def next_fire(self, after: datetime) -> datetime:
        """The first time strictly after ``after`` that the cron schedule fires (UTC).

        >>> Trigger(cron="*/15 * * * *").next_fire(datetime(2024, 5, 1, 10, 7, tzinfo=timezone.utc))
        datetime.datetime(2024, 5, 1, 10, 15, tzinfo=datetime.timezone.utc)
        """
        if self.cron is None:
            raise ValueError("an event Trigger has no fire times")
        if after.tzinfo is None:
            raise ValueError("next_fire needs an aware datetime")
        zone = self._zone or timezone.utc
        start = after.astimezone(zone)
        import cronsim

        fire: datetime = next(iter(cronsim.CronSim(self._schedule, start)))
        return fire.astimezone(timezone.utc)

    def config(self) -> dict[str, str]:
        """The trigger as Inngest's registration reads it.

        >>> Trigger(event="auth/signup").config()
        {'event': 'auth/signup'}
        """
        if self.cron is not None:
            if self.jitter_ns is not None:
                return {"cron": self.cron, "jitter": format_duration(self.jitter_ns)}
            return {"cron": self.cron}
        assert self.event is not None
        doc = {"event": self.event}
        if self.expression is not None:
            doc["expression"] = self.expression
        return doc


def _parse_cron(text: str) -> tuple[zoneinfo.ZoneInfo | None, str]:
    body = text.strip()
    zone: zoneinfo.ZoneInfo | None = None
    prefixed = _TZ_PREFIX.match(body)
    if prefixed:
        name, body = prefixed.group(1), prefixed.group(2).strip()
        try:
            zone = zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'invalid cron schedule "{text}": unknown time zone "{name}"'
                             ) from None
    body = _DESCRIPTORS.get(body.lower(), body)
    if len(body.split()) != 5:
        raise ValueError(f'invalid cron schedule "{text}": expected 5 fields '
                         "(minute hour day-of-month month day-of-week)")
    import cronsim  # only cron triggers need it

    try:
        cronsim.CronSim(body, datetime(2000, 1, 1, tzinfo=timezone.utc))
    except cronsim.CronSimError as exc:
        raise ValueError(f'invalid cron schedule "{text}": {exc}') from None
    return zone, body


def _triggers(trigger: Trigger | Sequence[Trigger]) -> tuple[Trigger, ...]:
    if isinstance(trigger, Trigger):
        return (trigger,)
    if not isinstance(trigger, (list, tuple)):
        raise TypeError(f"trigger must be a Trigger or a list of them, not "
                        f"{type(trigger).__name__}")
    for item in trigger:
        if not isinstance(item, Trigger):
            raise TypeError(f"trigger must be a Trigger or a list of them, not a list "
                            f"holding {type(item).__name__}")
    # pkg/inngest/trigger.go (MultipleTriggers.Validate): 1 to consts.MaxTriggers triggers, no
    # two the same, no cron expression twice (even with another jitter).
    if not trigger or len(trigger) > MAX_TRIGGERS:
        raise FunctionConfigError("trigger", f"{len(trigger)} triggers given: Inngest takes "
                                  f"from 1 to {MAX_TRIGGERS}", list(trigger))
    seen: set[tuple[str, str, str | None, int | None]] = set()
    crons: set[str] = set()
    for item in trigger:
        if item.cron is not None:
            if item.cron in crons:
                raise FunctionConfigError("trigger", f"the cron schedule {item.cron!r} is "
                                          "given twice", list(trigger))
            crons.add(item.cron)
        else:
            assert item.event is not None
            key = ("event", item.event, item.expression, None)
            if key in seen:
                raise FunctionConfigError("trigger", f"the trigger {item!r} is given twice",
                                          list(trigger))
            seen.add(key)
    return tuple(trigger)


class Function:
    """An Inngest function: ``name``, ``slug`` (its id), its ``triggers`` (``trigger`` is
    the first), ``options`` (:class:`~inngest_core.sdk.options.FunctionOptions`), an
    ``on_failure`` handler, and its body.

    Made by :func:`function`.  :meth:`handle` answers one call request of Inngest's step
    protocol; :meth:`config` is its registration document, :meth:`configs` adds the
    failure handler's.

    >>> f = Function(lambda ctx, step: None, slug="noop", trigger=Trigger(event="a/b"))
    >>> f.name, f.slug, f.retries, f.max_attempts, f.options.throttle
    ('noop', 'noop', 4, 5, None)
    """

    def __init__(self, fn: FunctionBody, *, slug: str, trigger: Trigger | Sequence[Trigger],
                 name: str | None = None, retries: int | None = None,
                 options: FunctionOptions | None = None,
                 on_failure: FunctionBody | None = None) -> None:
        if not isinstance(slug, str) or not _SLUG.match(slug):
            raise ValueError(f"invalid function id {slug!r}: use letters, digits and - _ . :")
        triggers = _triggers(trigger)
        if options is None:
            options = FunctionOptions()
        if not isinstance(options, FunctionOptions):
            raise TypeError(f"options must be FunctionOptions, not {type(options).__name__}")
        if on_failure is not None and not callable(on_failure):
            raise FunctionConfigError("on_failure", "expected a function fn(ctx, step), not "
                                      f"{type(on_failure).__name__}", on_failure)
        if retries is None:
            retries = protocol.DEFAULT_RETRIES
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 20:
            raise ValueError(f"retries must be an int from 0 to 20 (Inngest's range), "
                             f"not {retries!r}")
        self.fn = fn
        #: Whether the body is an ``async def`` (its step tools are then awaited:
        #: :class:`~inngest_core.sdk.AsyncStep`).
        self.is_async = inspect.iscoroutinefunction(fn)
        self.slug = slug
        self.name = name or slug
        #: Every trigger, in the order given.
        self.triggers = triggers
        #: The first trigger.
        self.trigger = triggers[0]
        self.retries = retries
        #: The function's options (concurrency, throttle, ..., each ``None`` or empty if unset).
        self.options = options
        #: Runs when a run of this function fails for good (a function of its own, triggered
        #: by ``inngest/function.failed``: :meth:`failure_function`).
        self.on_failure = on_failure
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__wrapped__ = fn

    @property
    def id(self) -> str:
        """The function's own id (its slug).

        >>> Function(lambda ctx, step: None, slug="sign-up-flow", trigger=Trigger(event="a")).id
        'sign-up-flow'
        """
        return self.slug

    @property
    def max_attempts(self) -> int:
        """Attempts per step: ``retries + 1``.

        >>> Function(lambda ctx, step: None, slug="f", trigger=Trigger(event="a"),
        ...          retries=0).max_attempts
        1
        """
        return self.retries + 1

    def __repr__(self) -> str:
        shown = self.trigger if len(self.triggers) == 1 else list(self.triggers)
        return f"<Function {self.slug!r} {shown!r}>"

    def failure_function(self, app_id: str) -> Function | None:
        """The function that runs ``on_failure`` (``None`` without a handler), as Inngest's
        official SDK registers it: id ``<slug>-failure``, name ``<name> (failure)``, no
        retries, triggered by ``inngest/function.failed`` for this function's composite id.

        >>> f = Function(lambda ctx, step: None, slug="charge", trigger=Trigger(event="a"),
        ...              on_failure=lambda ctx, step: None)
        >>> failure = f.failure_function("shop")
        >>> failure.slug, failure.name, failure.retries, failure.trigger
        ('charge-failure', 'charge (failure)', 0, Trigger(event='inngest/function.failed', if_="event.data.function_id == 'shop-charge'"))
        """
        if self.on_failure is None:
            return None
        composite = f"{app_id}-{self.slug}".replace("\\", "\\\\").replace("'", "\\'")
        return Function(self.on_failure, slug=f"{self.slug}-failure",
                        name=f"{self.name} (failure)", retries=0,
                        trigger=Trigger(event=FUNCTION_FAILED_EVENT,
                                        if_=f"event.data.function_id == '{composite}'"))

    def handle(self, request: object, step_id: str = "step") -> Response:
        """Answer one call request (the JSON object Inngest's server POSTs, or the
        :class:`~inngest_core.sdk.protocol.CallRequest` parsed from it); ``step_id`` is
        the call's ``stepId`` query parameter: ``"step"``, or the hashed id of the one step
        this call runs (after Inngest planned it).

        206 with the op of the first step without a memo (or the ops of a group,
        :meth:`Step.parallel <inngest_core.sdk.Step.parallel>`); 200 with the return value;
        500 (retried) or 400 (``X-Inngest-No-Retry: true``) for an error; 400 for a
        malformed request.  An ``async def`` function runs on a private event loop here
        (:meth:`handle_async` awaits it on the caller's).

        >>> noop = Function(lambda ctx, step: "done", slug="noop", trigger=Trigger(event="a"))
        >>> noop.handle({"event": {}}).body
        {'name': 'RequestError', 'message': 'invalid call request: missing key "events"'}
        """
        if self.is_async:
            return run_blocking(self.handle_async(request, step_id))
        ready = self._prepare(request, step_id, Step)
        if isinstance(ready, Response):
            return ready
        ctx, step, headers = ready
        try:
            result = self.fn(ctx, step)
        except (StepInterrupt, StepSkipped, Exception) as exc:
            return self._failure(exc, headers, step_id)
        return self._success(result, headers)

    async def handle_async(self, request: object, step_id: str = "step") -> Response:
        """:meth:`handle`, awaiting an ``async def`` function on the running event loop (a
        sync function runs in a worker thread).

        >>> import asyncio
        >>> async def body(ctx, step):
        ...     return await step.step("one", lambda: 1)
        >>> f = Function(body, slug="f", trigger=Trigger(event="a"))
        >>> from inngest_core.sdk.protocol import call_request
        >>> asyncio.run(f.handle_async(call_request({"name": "a"}, run_id="r"))).body[0]["data"]
        1
        """
        if not self.is_async:
            return await asyncio.to_thread(self.handle, request, step_id)
        ready = self._prepare(request, step_id, AsyncStep)
        if isinstance(ready, Response):
            return ready
        ctx, step, headers = ready
        try:
            result = await self.fn(ctx, step)
        except (StepInterrupt, StepSkipped, Exception) as exc:
            return self._failure(exc, headers, step_id)
        return self._success(result, headers)

    def _prepare(self, request: object, step_id: str, kind: type[StepBase]
                 ) -> Response | tuple[Context, Any, dict[str, str]]:
        try:
            req = request if type(request) is protocol.CallRequest else \
                protocol.parse_request(request)
            if req.use_api:
                raise protocol.RequestError(
                    "invalid call request: use_api is true, but Function.handle has no API "
                    "to fetch the run's events and memos from (App fetches them before it "
                    "calls); send them in the request")
        except protocol.RequestError as exc:
            headers = protocol.base_headers()
            headers[protocol.HEADER_NO_RETRY] = "true"
            return Response(400, headers, {"name": "RequestError", "message": str(exc)})
        max_attempts = req.max_attempts or self.max_attempts
        ctx = Context(req.event, req.events, req.run_id, req.attempt)
        target = None if step_id in ("", "step") else step_id
        step = kind(req.steps, attempt=req.attempt, max_attempts=max_attempts, target=target,
                    plan=req.disable_immediate_execution)
        return ctx, step, protocol.base_headers()

    def _failure(self, exc: BaseException, headers: dict[str, str], step_id: str) -> Response:
        if isinstance(exc, StepInterrupt):
            return protocol.step_response(exc.ops, headers, retry_after=exc.retry_after)
        if isinstance(exc, StepSkipped):
            # The targeted step was not found before another step without a memo
            # (SDK spec 5.3.1: StepNotFound).
            return protocol.step_response(
                [{"id": step_id, "op": protocol.STEP_NOT_FOUND}], headers)
        if isinstance(exc, (NonRetriableError, StepError)):
            headers[protocol.HEADER_NO_RETRY] = "true"
            return Response(400, headers, protocol.error_body(exc))
        headers[protocol.HEADER_NO_RETRY] = "false"
        if isinstance(exc, RetryAfterError):
            headers[protocol.HEADER_RETRY_AFTER] = exc.retry_after
        return Response(500, headers, protocol.error_body(exc))

    def _success(self, result: object, headers: dict[str, str]) -> Response:
        try:
            size = protocol.json_size(result)
        except (TypeError, ValueError) as exc:
            err: Exception = TypeError(f'function "{self.slug}" returned a value that is not '
                                       f"JSON-serializable: {exc}")
            headers[protocol.HEADER_NO_RETRY] = "true"
            return Response(400, headers, protocol.error_body(err))
        if size > protocol.MAX_OUTPUT_BYTES:
            err = OutputTooLargeError(f'function "{self.slug}"', size, protocol.MAX_OUTPUT_BYTES)
            headers[protocol.HEADER_NO_RETRY] = "true"
            return Response(400, headers, protocol.error_body(err))
        return Response(200, headers, result)

    def config(self, app_id: str, url: str) -> dict[str, Any]:
        """The registration document Inngest's server reads for this function.

        >>> f = Function(lambda ctx, step: None, slug="sign-up-flow", name="Sign up flow",
        ...              trigger=Trigger(event="auth/signup"))
        >>> doc = f.config("shop", "http://localhost:8000/api/inngest")
        >>> doc["id"], doc["triggers"], doc["steps"]["step"]["runtime"]["url"]
        ('shop-sign-up-flow', [{'event': 'auth/signup'}], 'http://localhost:8000/api/inngest?fnId=shop-sign-up-flow&stepId=step')
        """
        composite = f"{app_id}-{self.slug}"
        return {
            "id": composite,
            "name": self.name,
            "triggers": [trigger.config() for trigger in self.triggers],
            "steps": {
                "step": {
                    "id": "step",
                    "name": "step",
                    "retries": {"attempts": self.retries},
                    "runtime": {"type": "http", "url": f"{url}?fnId={composite}&stepId=step"},
                }
            },
            **self.options.to_config(),
        }

    def configs(self, app_id: str, url: str) -> list[dict[str, Any]]:
        """Every registration document this function brings: its own, then its failure
        handler's if it has one.

        >>> f = Function(lambda ctx, step: None, slug="charge", trigger=Trigger(event="a"),
        ...              on_failure=lambda ctx, step: None)
        >>> [doc["id"] for doc in f.configs("shop", "http://h/api")]
        ['shop-charge', 'shop-charge-failure']
        """
        failure = self.failure_function(app_id)
        own = self.config(app_id, url)
        return [own] if failure is None else [own, failure.config(app_id, url)]


def function(*, id: str, trigger: Trigger | Sequence[Trigger], name: str | None = None,
             retries: int | None = None,
             concurrency: int | Concurrency | Sequence[Concurrency] | None = None,
             throttle: Throttle | None = None, rate_limit: RateLimit | None = None,
             debounce: Debounce | None = None, priority: Priority | None = None,
             idempotency: str | None = None, batch_events: Batch | None = None,
             cancel: Cancel | Sequence[Cancel] | None = None, timeouts: Timeouts | None = None,
             singleton: Singleton | None = None,
             on_failure: FunctionBody | None = None) -> Callable[[FunctionBody], Function]:
    """Decorator: turn ``fn(ctx, step)`` into a :class:`Function`.

    ``id`` is the human-readable slug (``"sign-up-flow"``), ``name`` defaults to it,
    ``trigger`` one :class:`Trigger` or a list of up to 10 (events and crons mixed),
    ``retries`` is per step (default Inngest's 4, so 5 attempts).  The options
    (:mod:`~inngest_core.sdk.options`) are checked here, when the function is defined: a bad
    one raises :class:`~inngest_core.sdk.options.FunctionConfigError`.  ``concurrency`` is an
    int (the limit) or up to 2 :class:`Concurrency`; ``cancel`` a :class:`Cancel` or up to 5;
    ``idempotency`` a key expression; ``on_failure`` a handler ``fn(ctx, step)`` run when a
    run fails for good (with the ``inngest/function.failed`` event).

    >>> @function(id="charge", trigger=[Trigger(event="shop/order"), Trigger(cron="@daily")],
    ...           throttle=Throttle(limit=10, period="1m"), concurrency=5)
    ... def charge(ctx, step):
    ...     return None
    >>> charge.options.throttle.period_ns, [t.config() for t in charge.triggers]
    (60000000000, [{'event': 'shop/order'}, {'cron': '@daily'}])

    >>> @function(id="sign-up-flow", name="Sign up flow", trigger=Trigger(event="auth/signup"))
    ... def sign_up(ctx, step):
    ...     return None
    >>> sign_up.name, sign_up.slug, sign_up.trigger
    ('Sign up flow', 'sign-up-flow', Trigger(event='auth/signup'))
    """

    options = FunctionOptions.of(
        concurrency=concurrency, throttle=throttle, rate_limit=rate_limit, debounce=debounce,
        priority=priority, idempotency=idempotency, batch_events=batch_events, cancel=cancel,
        timeouts=timeouts, singleton=singleton)
    triggers = _triggers(trigger)

    def wrap(fn: FunctionBody) -> Function:
        return Function(fn, slug=id, trigger=triggers, name=name, retries=retries,
                        options=options, on_failure=on_failure)

    return wrap
