"""Function options: typed, checked when they are made, written as Inngest's server reads them.

Each option of :func:`~inngest_core.sdk.function` is a frozen dataclass with keyword-only
fields (named as in Inngest's official Python SDK): :class:`Concurrency`, :class:`Throttle`,
:class:`RateLimit`, :class:`Debounce`, :class:`Priority`, :class:`Batch`, :class:`Cancel`,
:class:`Timeouts`, :class:`Singleton`.  Making one checks it: durations (our duration strings
or ``timedelta``) against the ranges Inngest's server enforces, counts and limits, and
expressions (``key``, ``run``, ``if_``), compiled once -- the compiled program is kept beside
the source (``key_program``, ``if_program``, ``run_program``) for whoever evaluates it.  A bad
option raises :class:`FunctionConfigError` naming the option, the value and what is allowed.
``to_config()`` is the option's part of the registration document.  :class:`FunctionOptions`
holds a function's options together (``fn.options``) and checks the combinations the server
refuses.

>>> Throttle(limit=10, period="90m", key="event.data.user_id").to_config()
{'limit': 10, 'period': '1h30m', 'burst': 1, 'key': 'event.data.user_id'}
>>> Debounce(period="8d")
Traceback (most recent call last):
...
inngest_core.sdk.options.FunctionConfigError: debounce.period: "8d" is out of range: it must be from 1s to 7d
>>> Throttle(limit=1, period="1m", key="event.data.+")
Traceback (most recent call last):
...
inngest_core.sdk.options.FunctionConfigError: throttle.key: unexpected "+" at line 1, column 12
  event.data.+
             ^
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final, Literal, NamedTuple

from ..duration import format_duration, parse_duration_ns
from ..errors import DurationError, ExpressionLimitError, ExpressionSyntaxError
from .._expr_dialect import ValidationError, validate
from ..expr import Program, compile_expression

__all__ = ["FunctionConfigError", "Duration", "Concurrency", "Throttle", "RateLimit", "Debounce",
           "Priority", "Batch", "Cancel", "Timeouts", "Singleton", "FunctionOptions",
           "DurationRange", "compile_option_expression", "duration_ns", "check_int",
           "CRON_JITTER", "MAX_TRIGGERS", "MAX_TRIGGER_TEXT", "FUNCTION_FAILED_EVENT"]

#: A duration as options take it: our duration text (``"1h30m"``, ``"PT5M"``) or a timedelta.
Duration = str | timedelta

_S: Final = 1_000_000_000
_M: Final = 60 * _S
_H: Final = 60 * _M
_D: Final = 24 * _H


class FunctionConfigError(ValueError):
    """A function option Inngest's server would refuse (or one that cannot mean anything),
    raised when the function is defined.  ``option`` is its dotted name
    (``"throttle.period"``), ``value`` the value given.

    >>> try:
    ...     RateLimit(limit=0, period="1h")
    ... except FunctionConfigError as exc:
    ...     print(exc.option, exc.value, "|", exc)
    rate_limit.limit 0 | rate_limit.limit: 0 is out of range: it must be at least 1
    """

    def __init__(self, option: str, message: str, value: object = None) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.value = value


class DurationRange(NamedTuple):
    """The durations an option takes: ``low`` to ``high`` nanoseconds (``None``: no bound),
    ``text`` for the message; ``zero`` admits exactly 0 below ``low``; ``whole_seconds``
    refuses fractions of a second."""

    low: int
    high: int | None
    text: str
    zero: bool = False
    whole_seconds: bool = False


# Every option duration is at least 1 s: the official Python SDK refuses anything shorter
# (inngest 0.5.19, inngest/_internal/transforms.py, to_duration_str) and the server's own
# minima below are 1 s too.
_AT_LEAST_1S: Final = DurationRange(_S, None, "at least 1s")
# Throttle: inngest/inngest pkg/inngest/function.go (type Throttle: "the minimum granularity is
# a single second"); the queue keeps the period in whole seconds (pkg/execution/queue/item.go).
THROTTLE_PERIOD: Final = DurationRange(_S, None, "at least 1s", whole_seconds=True)
# Rate limit: pkg/inngest/function.go (RateLimit.IsValid: the period may not exceed
# consts.FunctionIdempotencyPeriod, 24h, in pkg/consts/consts.go).
RATE_LIMIT_PERIOD: Final = DurationRange(_S, 24 * _H, "from 1s to 24h")
# Debounce: pkg/consts/consts.go (MinDebouncePeriod 1s, MaxDebouncePeriod 7 days), checked in
# pkg/inngest/function.go (Function.Validate).
DEBOUNCE_PERIOD: Final = DurationRange(_S, 7 * _D, "from 1s to 7d")
# Batch timeout: pkg/inngest/batch.go (EventBatchConfig.IsValid: at least 1s) and
# docs/SDK_SPEC.md section 4.3.2 (batchEvents.timeout "MUST be 1s to 60s").
BATCH_TIMEOUT: Final = DurationRange(_S, 60 * _S, "from 1s to 60s")
# Cancel timeout: pkg/consts/consts.go (CancelTimeout, 365 days: "the maximum time a
# cancellation can exist"; docs/SDK_SPEC.md: "valid for up to a year").
CANCEL_TIMEOUT: Final = DurationRange(_S, 365 * _D, "from 1s to 365d")
# Cron jitter: pkg/inngest/trigger.go (CronTrigger.Validate: 0, or MinCronJitter 1s to
# MaxCronJitter 5m).
CRON_JITTER: Final = DurationRange(_S, 5 * _M, "0s, or from 1s to 5m", zero=True)

# Counts: pkg/consts/consts.go (MaxConcurrencyLimits 2, MaxCancellations 5, MaxTriggers 10),
# checked in pkg/inngest/concurrency.go, function.go and trigger.go.
MAX_CONCURRENCY: Final = 2
MAX_CANCEL: Final = 5
MAX_TRIGGERS: Final = 10
# pkg/inngest/trigger.go (MaxEventNameLength, MaxCronLength).
MAX_TRIGGER_TEXT: Final = 255
# Batch size: pkg/inngest/batch.go (at least 2) and docs/SDK_SPEC.md 4.3.2 (at most 100;
# pkg/consts/consts.go DefaultBatchSizeLimit).
BATCH_SIZE: Final = (2, 100)

#: The event Inngest sends when a run fails for good; an ``on_failure`` handler is a function
#: it triggers (inngest 0.5.19, inngest/_internal/server_lib/consts.py, InternalEvents).
FUNCTION_FAILED_EVENT: Final = "inngest/function.failed"

_SCOPES: Final = ("fn", "env", "account")
_MODES: Final = ("skip", "cancel")


def _show(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


#: The options whose expression Inngest's server checks at registration (``Validate``:
#: ``pkg/inngest/trigger.go``, ``batch.go``, ``function.go``), with the policy it uses; the
#: others are only parsed there (rules.md R16).
VALIDATED_OPTIONS: dict[str, str | None] = {
    "trigger.if_": None, "batch_events.if_": None, "batch_events.key": None,
    "debounce.key": None, "rate_limit.key": None, "cancel.if_": "restrictive",
}


def compile_option_expression(option: str, source: object) -> Program:
    """Compile an option's expression (a key, ``if_`` or ``run``) in the ``"inngest"``
    dialect, as Inngest's server will evaluate it, and reject what the server would reject
    at registration.  Every option expression is compiled here, so the dialect is chosen in
    this one place.

    >>> compile_option_expression("singleton.key", "event.data.user_id").variables
    frozenset({'event'})
    >>> compile_option_expression("priority.run", 7)
    Traceback (most recent call last):
    ...
    inngest_core.sdk.options.FunctionConfigError: priority.run: expected an expression (a str), not int
    """
    if not isinstance(source, str):
        raise FunctionConfigError(option, f"expected an expression (a str), not "
                                          f"{type(source).__name__}", source)
    try:
        program = compile_expression(source, dialect="inngest")
        if option in VALIDATED_OPTIONS:
            validate(source, VALIDATED_OPTIONS[option])
    except (ExpressionSyntaxError, ExpressionLimitError, ValidationError) as exc:
        raise FunctionConfigError(option, str(exc), source) from None
    return program


def duration_ns(option: str, value: object, allowed: DurationRange) -> int:
    """``value`` (duration text or a ``timedelta``) in nanoseconds, checked against
    ``allowed``.

    >>> duration_ns("debounce.period", timedelta(minutes=5), DEBOUNCE_PERIOD)
    300000000000
    >>> duration_ns("throttle.period", "1.5s", THROTTLE_PERIOD)
    Traceback (most recent call last):
    ...
    inngest_core.sdk.options.FunctionConfigError: throttle.period: "1.5s" is not a whole number of seconds (Inngest keeps a throttle period in seconds)
    """
    if isinstance(value, timedelta):
        ns = ((value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds) * 1000
    elif isinstance(value, str):
        try:
            ns = parse_duration_ns(value)
        except DurationError as exc:
            raise FunctionConfigError(option, str(exc), value) from None
    else:
        raise FunctionConfigError(option, 'expected a duration (a str such as "1h30m", or a '
                                          f"timedelta), not {type(value).__name__}", value)
    if ns == 0 and allowed.zero:
        return 0
    if ns < allowed.low or (allowed.high is not None and ns > allowed.high):
        raise FunctionConfigError(option, f"{_show(value)} is out of range: it must be "
                                          f"{allowed.text}", value)
    if allowed.whole_seconds and ns % _S:
        raise FunctionConfigError(option, f"{_show(value)} is not a whole number of seconds "
                                          "(Inngest keeps a throttle period in seconds)", value)
    return ns


def check_int(option: str, value: object, low: int, high: int | None = None) -> int:
    """``value`` if it is an ``int`` (not a ``bool``) from ``low`` to ``high``.

    >>> check_int("batch_events.max_size", 101, *BATCH_SIZE)
    Traceback (most recent call last):
    ...
    inngest_core.sdk.options.FunctionConfigError: batch_events.max_size: 101 is out of range: it must be from 2 to 100
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise FunctionConfigError(option, f"expected an int, not {type(value).__name__}", value)
    if value < low or (high is not None and value > high):
        allowed = f"at least {low}" if high is None else f"from {low} to {high}"
        raise FunctionConfigError(option, f"{value} is out of range: it must be {allowed}",
                                  value)
    return value


def _choice(option: str, value: object, choices: Sequence[str]) -> None:
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(_show(c) for c in choices)
        raise FunctionConfigError(option, f"{_show(value)} is not one of {listed}", value)


def _event_name(option: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise FunctionConfigError(option, f"expected an event name (a non-empty str), not "
                                          f"{_show(value)}", value)
    if len(value) > MAX_TRIGGER_TEXT:
        raise FunctionConfigError(option, f"the event name is {len(value)} characters long: "
                                          f"Inngest allows at most {MAX_TRIGGER_TEXT}", value)
    return value


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


def _program(option: str, source: str | None) -> Program | None:
    return None if source is None else compile_option_expression(option, source)


def _put(doc: dict[str, Any], key: str, value: object) -> None:
    if value is not None:
        doc[key] = value


@dataclass(frozen=True, kw_only=True)
class Concurrency:
    """At most ``limit`` steps of this function run at once (``0``: the most Inngest
    allows), per value of ``key`` if given, counted across the ``scope``: ``"fn"`` (the
    default), ``"env"`` or ``"account"`` (these two need a ``key``).

    >>> Concurrency(limit=5, key="event.data.user_id").to_config()
    {'limit': 5, 'key': 'event.data.user_id'}
    >>> Concurrency(limit=5, scope="account")
    Traceback (most recent call last):
    ...
    inngest_core.sdk.options.FunctionConfigError: concurrency.key: an "account"-scoped limit needs a key
    """

    limit: int
    key: str | None = None
    scope: Literal["fn", "env", "account"] | None = None
    key_program: Program | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        # pkg/inngest/concurrency.go (StepConcurrency.Validate): env and account scopes need a
        # key; docs/SDK_SPEC.md 4.3.2: a limit of 0 means the maximum available.
        check_int("concurrency.limit", self.limit, 0)
        if self.scope is not None:
            _choice("concurrency.scope", self.scope, _SCOPES)
            if self.scope != "fn" and self.key is None:
                raise FunctionConfigError("concurrency.key", f'an "{self.scope}"-scoped '
                                                             "limit needs a key")
        _set(self, "key_program", _program("concurrency.key", self.key))

    def to_config(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"limit": self.limit}
        _put(doc, "key", self.key)
        _put(doc, "scope", self.scope)
        return doc


@dataclass(frozen=True, kw_only=True)
class Throttle:
    """At most ``limit`` runs start per ``period`` (plus ``burst`` at once), per value of
    ``key`` if given; runs over it wait their turn.

    >>> Throttle(limit=0, period="1m")
    Traceback (most recent call last):
    ...
    inngest_core.sdk.options.FunctionConfigError: throttle.limit: 0 is out of range: it must be at least 1
    """

    limit: int
    period: Duration
    burst: int = 1
    key: str | None = None
    period_ns: int = field(init=False, default=0, repr=False, compare=False)
    key_program: Program | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        # pkg/inngest/function.go (type Throttle): the minimum limit is 1 (the server turns a
        # 0 into 1); burst is unsigned, 1 when unset (docs/SDK_SPEC.md 4.3.2).
        check_int("throttle.limit", self.limit, 1)
        _set(self, "period_ns", duration_ns("throttle.period", self.period, THROTTLE_PERIOD))
        check_int("throttle.burst", self.burst, 0)
        _set(self, "key_program", _program("throttle.key", self.key))

    def to_config(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"limit": self.limit, "period": format_duration(self.period_ns),
                               "burst": self.burst}
        _put(doc, "key", self.key)
        return doc


@dataclass(frozen=True, kw_only=True)
class RateLimit:
    """At most ``limit`` runs start per ``period`` (1s to 24h), per value of ``key`` if
    given; events over it start nothing.

    >>> RateLimit(limit=1, period=timedelta(hours=4)).to_config()
    {'limit': 1, 'period': '4h'}
    """

    limit: int
    period: Duration
    key: str | None = None
    period_ns: int = field(init=False, default=0, repr=False, compare=False)
    key_program: Program | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        # pkg/inngest/function.go (RateLimit.IsValid): "limit must be greater than 0".
        check_int("rate_limit.limit", self.limit, 1)
        _set(self, "period_ns", duration_ns("rate_limit.period", self.period,
                                            RATE_LIMIT_PERIOD))
        _set(self, "key_program", _program("rate_limit.key", self.key))

    def to_config(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"limit": self.limit, "period": format_duration(self.period_ns)}
        _put(doc, "key", self.key)
        return doc


@dataclass(frozen=True, kw_only=True)
class Debounce:
    """Start a run only once no event (per value of ``key``) came for ``period`` (1s to
    7d), and at the latest ``timeout`` after the first one.

    >>> Debounce(period="5m", timeout="PT1H").to_config()
    {'period': '5m', 'timeout': '1h'}
    """

    period: Duration
    key: str | None = None
    timeout: Duration | None = None
    period_ns: int = field(init=False, default=0, repr=False, compare=False)
    timeout_ns: int | None = field(init=False, default=None, repr=False, compare=False)
    key_program: Program | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        _set(self, "period_ns", duration_ns("debounce.period", self.period, DEBOUNCE_PERIOD))
        if self.timeout is not None:
            _set(self, "timeout_ns", duration_ns("debounce.timeout", self.timeout,
                                                 _AT_LEAST_1S))
        _set(self, "key_program", _program("debounce.key", self.key))

    def to_config(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"period": format_duration(self.period_ns)}
        _put(doc, "key", self.key)
        if self.timeout_ns is not None:
            doc["timeout"] = format_duration(self.timeout_ns)
        return doc


@dataclass(frozen=True, kw_only=True)
class Priority:
    """``run``: an expression over ``event`` giving the seconds a run moves ahead in the
    queue (Inngest clamps it to -12h..12h, pkg/consts/consts.go PriorityFactorMin/Max).

    >>> Priority(run="event.data.plan == 'pro' ? 120 : 0").to_config()
    {'run': "event.data.plan == 'pro' ? 120 : 0"}
    """

    run: str
    run_program: Program | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        _set(self, "run_program", compile_option_expression("priority.run", self.run))

    def to_config(self) -> dict[str, Any]:
        return {"run": self.run}


@dataclass(frozen=True, kw_only=True)
class Batch:
    """Run once for up to ``max_size`` events (2 to 100), or for what came within
    ``timeout`` (1s to 60s), batched per value of ``key``; events for which ``if_`` is
    false run alone.

    >>> Batch(max_size=50, timeout="30s", if_="event.data.ok").to_config()
    {'maxSize': 50, 'timeout': '30s', 'if': 'event.data.ok'}
    """

    max_size: int
    timeout: Duration
    key: str | None = None
    if_: str | None = None
    timeout_ns: int = field(init=False, default=0, repr=False, compare=False)
    key_program: Program | None = field(init=False, default=None, repr=False, compare=False)
    if_program: Program | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_int("batch_events.max_size", self.max_size, *BATCH_SIZE)
        # The server reads this timeout with Go's time.ParseDuration (pkg/inngest/batch.go);
        # within 60s our canonical text is always Go's form too.
        _set(self, "timeout_ns", duration_ns("batch_events.timeout", self.timeout,
                                             BATCH_TIMEOUT))
        _set(self, "key_program", _program("batch_events.key", self.key))
        _set(self, "if_program", _program("batch_events.if_", self.if_))

    def to_config(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"maxSize": self.max_size,
                               "timeout": format_duration(self.timeout_ns)}
        _put(doc, "key", self.key)
        _put(doc, "if", self.if_)
        return doc


@dataclass(frozen=True, kw_only=True)
class Cancel:
    """Cancel a run when ``event`` comes (and ``if_``, over ``event`` -- the run's trigger
    -- and ``async`` -- the cancelling event, is true), within ``timeout`` (1s to 365d;
    a year when unset).

    >>> Cancel(event="order/cancelled", if_="event.data.id == async.data.id").to_config()
    {'event': 'order/cancelled', 'if': 'event.data.id == async.data.id'}
    """

    event: str
    if_: str | None = None
    timeout: Duration | None = None
    timeout_ns: int | None = field(init=False, default=None, repr=False, compare=False)
    if_program: Program | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        _event_name("cancel.event", self.event)
        _set(self, "if_program", _program("cancel.if_", self.if_))
        if self.timeout is not None:
            _set(self, "timeout_ns", duration_ns("cancel.timeout", self.timeout,
                                                 CANCEL_TIMEOUT))

    def to_config(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"event": self.event}
        _put(doc, "if", self.if_)
        if self.timeout_ns is not None:
            doc["timeout"] = format_duration(self.timeout_ns)
        return doc


@dataclass(frozen=True, kw_only=True)
class Timeouts:
    """Cancel a run that has not started ``start`` after it was scheduled, or not finished
    ``finish`` after it started (each at least 1s).

    >>> Timeouts(finish="1h").to_config()
    {'finish': '1h'}
    >>> Timeouts()
    Traceback (most recent call last):
    ...
    inngest_core.sdk.options.FunctionConfigError: timeouts: give start, finish or both
    """

    start: Duration | None = None
    finish: Duration | None = None
    start_ns: int | None = field(init=False, default=None, repr=False, compare=False)
    finish_ns: int | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.start is None and self.finish is None:
            raise FunctionConfigError("timeouts", "give start, finish or both")
        if self.start is not None:
            _set(self, "start_ns", duration_ns("timeouts.start", self.start, _AT_LEAST_1S))
        if self.finish is not None:
            _set(self, "finish_ns", duration_ns("timeouts.finish", self.finish, _AT_LEAST_1S))

    def to_config(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        if self.start_ns is not None:
            doc["start"] = format_duration(self.start_ns)
        if self.finish_ns is not None:
            doc["finish"] = format_duration(self.finish_ns)
        return doc


@dataclass(frozen=True, kw_only=True)
class Singleton:
    """One run at a time (per value of ``key``): a new one is dropped (``mode="skip"``)
    or replaces the running one (``mode="cancel"``).

    >>> Singleton(mode="skip", key="event.data.user_id").to_config()
    {'mode': 'skip', 'key': 'event.data.user_id'}
    """

    mode: Literal["skip", "cancel"]
    key: str | None = None
    key_program: Program | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        # pkg/enums/singleton_mode.go: skip, cancel.
        _choice("singleton.mode", self.mode, _MODES)
        _set(self, "key_program", _program("singleton.key", self.key))

    def to_config(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"mode": self.mode}
        _put(doc, "key", self.key)
        return doc


def _one(option: str, value: object, cls: type[Any]) -> Any:
    if value is not None and not isinstance(value, cls):
        raise FunctionConfigError(option, f"expected a {cls.__name__}, not "
                                          f"{type(value).__name__}", value)
    return value


def _many(option: str, value: object, cls: type[Any], most: int) -> tuple[Any, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, cls) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, cls) for i in items):
        raise FunctionConfigError(option, f"expected a {cls.__name__} or a list of them, not "
                                          f"{_show(value)}", value)
    if len(items) > most:
        raise FunctionConfigError(option, f"{len(items)} given: Inngest allows at most {most}",
                                  value)
    return tuple(items)


@dataclass(frozen=True, kw_only=True)
class FunctionOptions:
    """A function's options, as :func:`~inngest_core.sdk.function` takes them, normalized
    (``concurrency=5`` is ``(Concurrency(limit=5),)``), with the combinations Inngest's
    server refuses checked (pkg/inngest/function.go, Function.Validate; and
    pkg/sdk/function.go, where ``idempotency`` replaces any ``rate_limit``).

    >>> opts = FunctionOptions.of(concurrency=5, idempotency="event.data.order_id")
    >>> opts.concurrency, opts.to_config()
    ((Concurrency(limit=5, key=None, scope=None),), {'concurrency': [{'limit': 5}], 'idempotency': 'event.data.order_id'})
    >>> FunctionOptions.of(batch_events=Batch(max_size=10, timeout="5s"),
    ...                    cancel=Cancel(event="a/b"))
    Traceback (most recent call last):
    ...
    inngest_core.sdk.options.FunctionConfigError: batch_events: Inngest does not batch a function that has cancel
    """

    concurrency: tuple[Concurrency, ...] = ()
    throttle: Throttle | None = None
    rate_limit: RateLimit | None = None
    debounce: Debounce | None = None
    priority: Priority | None = None
    idempotency: str | None = None
    batch_events: Batch | None = None
    cancel: tuple[Cancel, ...] = ()
    timeouts: Timeouts | None = None
    singleton: Singleton | None = None
    idempotency_program: Program | None = field(init=False, default=None, repr=False,
                                                compare=False)

    @classmethod
    def of(cls, *, concurrency: int | Concurrency | Sequence[Concurrency] | None = None,
           throttle: Throttle | None = None, rate_limit: RateLimit | None = None,
           debounce: Debounce | None = None, priority: Priority | None = None,
           idempotency: str | None = None, batch_events: Batch | None = None,
           cancel: Cancel | Sequence[Cancel] | None = None, timeouts: Timeouts | None = None,
           singleton: Singleton | None = None) -> FunctionOptions:
        """The options from :func:`~inngest_core.sdk.function`'s keyword arguments."""
        if isinstance(concurrency, int) and not isinstance(concurrency, bool):
            concurrency = Concurrency(limit=concurrency)
        return cls(
            concurrency=_many("concurrency", concurrency, Concurrency, MAX_CONCURRENCY),
            throttle=_one("throttle", throttle, Throttle),
            rate_limit=_one("rate_limit", rate_limit, RateLimit),
            debounce=_one("debounce", debounce, Debounce),
            priority=_one("priority", priority, Priority),
            idempotency=idempotency,
            batch_events=_one("batch_events", batch_events, Batch),
            cancel=_many("cancel", cancel, Cancel, MAX_CANCEL),
            timeouts=_one("timeouts", timeouts, Timeouts),
            singleton=_one("singleton", singleton, Singleton),
        )

    def __post_init__(self) -> None:
        _set(self, "idempotency_program", _program("idempotency", self.idempotency))
        if self.idempotency is not None and self.rate_limit is not None:
            raise FunctionConfigError("idempotency", "Inngest replaces rate_limit with "
                                                     "idempotency: give one of them")
        if self.batch_events is not None:
            for name, value in (("cancel", self.cancel), ("debounce", self.debounce),
                                ("singleton", self.singleton), ("priority", self.priority)):
                if value:
                    raise FunctionConfigError("batch_events", "Inngest does not batch a "
                                                              f"function that has {name}")

    def to_config(self) -> dict[str, Any]:
        """The options' fields of the registration document (unset ones left out)."""
        doc: dict[str, Any] = {}
        if self.concurrency:
            doc["concurrency"] = [c.to_config() for c in self.concurrency]
        for key, value in (("throttle", self.throttle), ("rateLimit", self.rate_limit),
                           ("debounce", self.debounce), ("priority", self.priority)):
            if value is not None:
                doc[key] = value.to_config()
        _put(doc, "idempotency", self.idempotency)
        if self.batch_events is not None:
            doc["batchEvents"] = self.batch_events.to_config()
        if self.cancel:
            doc["cancel"] = [c.to_config() for c in self.cancel]
        if self.timeouts is not None:
            doc["timeouts"] = self.timeouts.to_config()
        if self.singleton is not None:
            doc["singleton"] = self.singleton.to_config()
        return doc
