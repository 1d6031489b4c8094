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

import json
import re
import zoneinfo
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from ..expr import Program, compile_expression
from . import protocol
from .protocol import Response
from .step import Context, NonRetriableError, Step, StepError, StepInterrupt

__all__ = ["Trigger", "Function", "function", "FunctionBody"]

#: A function body: ``fn(ctx, step)``.
FunctionBody = Callable[[Context, Step], Any]

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
    ``"TZ=Europe/Paris 0 9 * * *"`` sets its time zone, UTC otherwise).

    >>> Trigger(cron="TZ=Europe/Paris 0 9 * * *").next_fire(
    ...     datetime(2024, 1, 1, 12, 0, tzinfo=timezone.utc))
    datetime.datetime(2024, 1, 2, 8, 0, tzinfo=datetime.timezone.utc)
    >>> Trigger(cron="0 9 * * MON").config()
    {'cron': '0 9 * * MON'}
    >>> Trigger(cron="61 * * * *")
    Traceback (most recent call last):
    ...
    ValueError: invalid cron schedule "61 * * * *": Bad minute
    """

    def __init__(self, event: str | None = None, *, cron: str | None = None,
                 if_: str | None = None) -> None:
        if (event is None) == (cron is None):
            raise ValueError("a Trigger takes an event name or a cron schedule (exactly one)")
        self.event = event
        self.cron = cron
        self.expression: str | None = None
        self._program: Program | None = None
        self._zone: zoneinfo.ZoneInfo | None = None
        self._schedule = ""
        if event is not None:
            if not isinstance(event, str) or not event:
                raise ValueError("a Trigger's event name must be a non-empty str")
            if if_ is not None:
                self._program = compile_expression(if_)
                self.expression = self._program.source
        else:
            if if_ is not None:
                raise ValueError("a cron Trigger takes no if_ expression")
            if not isinstance(cron, str) or not cron.strip():
                raise ValueError("a Trigger's cron schedule must be a non-empty str")
            self._zone, self._schedule = _parse_cron(cron)

    def __repr__(self) -> str:
        if self.cron is not None:
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


class Function:
    """An Inngest function: ``name``, ``slug`` (its id), ``trigger`` and its body.

    Made by :func:`function`.  :meth:`handle` answers one call request of Inngest's step
    protocol; :meth:`config` is its registration document.

    >>> f = Function(lambda ctx, step: None, slug="noop", trigger=Trigger(event="a/b"))
    >>> f.name, f.slug, f.retries, f.max_attempts
    ('noop', 'noop', 4, 5)
    """

    def __init__(self, fn: FunctionBody, *, slug: str, trigger: Trigger,
                 name: str | None = None, retries: int | None = None) -> None:
        if not isinstance(slug, str) or not _SLUG.match(slug):
            raise ValueError(f"invalid function id {slug!r}: use letters, digits and - _ . :")
        if not isinstance(trigger, Trigger):
            raise TypeError(f"trigger must be a Trigger, not {type(trigger).__name__}")
        if retries is None:
            retries = protocol.DEFAULT_RETRIES
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 20:
            raise ValueError(f"retries must be an int from 0 to 20 (Inngest's range), "
                             f"not {retries!r}")
        self.fn = fn
        self.slug = slug
        self.name = name or slug
        self.trigger = trigger
        self.retries = retries
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
        return f"<Function {self.slug!r} {self.trigger!r}>"

    def handle(self, request: object) -> Response:
        """Answer one call request (the JSON object Inngest's server POSTs).

        206 with one op for the first step without a memo; 200 with the return value;
        500 (retried) or 400 (``X-Inngest-No-Retry: true``) for an error; 400 for a
        malformed request.  ``ctx.disable_immediate_execution`` is accepted and ignored:
        steps run one at a time here, so each ``step`` always runs in the call that reaches it.

        >>> noop = Function(lambda ctx, step: "done", slug="noop", trigger=Trigger(event="a"))
        >>> noop.handle({"event": {}}).body
        {'name': 'RequestError', 'message': 'invalid call request: missing key "events"'}
        """
        try:
            req = protocol.parse_request(request)
            if req.use_api:
                raise protocol.RequestError(
                    "invalid call request: use_api is true, but this SDK does not fetch "
                    "events and step memos from Inngest's API; send them in the request")
        except protocol.RequestError as exc:
            headers = protocol.base_headers()
            headers[protocol.HEADER_NO_RETRY] = "true"
            return Response(400, headers, {"name": "RequestError", "message": str(exc)})
        max_attempts = req.max_attempts or self.max_attempts
        ctx = Context(req.event, req.events, req.run_id, req.attempt)
        step = Step(req.steps, attempt=req.attempt, max_attempts=max_attempts)
        headers = protocol.base_headers()
        try:
            result = self.fn(ctx, step)
        except StepInterrupt as stop:
            return protocol.step_response(stop.ops, headers)
        except (NonRetriableError, StepError) as exc:
            headers[protocol.HEADER_NO_RETRY] = "true"
            return Response(400, headers, protocol.error_body(exc))
        except Exception as exc:
            headers[protocol.HEADER_NO_RETRY] = "false"
            return Response(500, headers, protocol.error_body(exc))
        try:
            json.dumps(result, allow_nan=False)
        except (TypeError, ValueError) as exc:
            err = TypeError(f'function "{self.slug}" returned a value that is not '
                            f"JSON-serializable: {exc}")
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
            "triggers": [self.trigger.config()],
            "steps": {
                "step": {
                    "id": "step",
                    "name": "step",
                    "retries": {"attempts": self.retries},
                    "runtime": {"type": "http", "url": f"{url}?fnId={composite}&stepId=step"},
                }
            },
        }


def function(*, id: str, trigger: Trigger, name: str | None = None,
             retries: int | None = None) -> Callable[[FunctionBody], Function]:
    """Decorator: turn ``fn(ctx, step)`` into a :class:`Function`.

    ``id`` is the human-readable slug (``"sign-up-flow"``), ``name`` defaults to it,
    ``retries`` is per step (default Inngest's 4, so 5 attempts).

    >>> @function(id="sign-up-flow", name="Sign up flow", trigger=Trigger(event="auth/signup"))
    ... def sign_up(ctx, step):
    ...     return None
    >>> sign_up.name, sign_up.slug, sign_up.trigger
    ('Sign up flow', 'sign-up-flow', Trigger(event='auth/signup'))
    """

    def wrap(fn: FunctionBody) -> Function:
        return Function(fn, slug=id, trigger=trigger, name=name, retries=retries)

    return wrap
