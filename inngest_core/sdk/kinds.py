"""Step kinds: one declaration per kind of step, read by every layer.

A :class:`StepKind` says what a step reports and how it comes back: its ``opcode``; ``check``,
which validates the tool's arguments when the function reaches the step; ``report``, the op's
``name`` and ``opts`` when the step has no memo yet; ``read_memo``, what the function gets
back from the memo form Inngest replays; and ``resolve``, how the runner carries the reported
op out (through the verbs of a :class:`Resolution`).  How the SDK *executes* a step -- calling
the block of ``step.step``, say -- is not here: :class:`~inngest_core.sdk.Step` does that, and
an executor that awaits its blocks reuses the same declarations.  The failure ops a block
reports (``StepError``, ``StepFailed``) are resolved here too.

Adding a kind is one :class:`StepKind` entry in :data:`KINDS` (with its functions), the tool
method that executes it, and its opcode in :mod:`~inngest_core.sdk.protocol` if the op is a
new one.  An op the runner cannot carry out with the verbs of :class:`Resolution` needs a
new verb (as ``invoke``, which starts another function's run).

``send_event`` is a memoized block whose body sends the events (SDK spec 5.3.5; the official
SDK's ``step_lib/step_sync.py`` wraps ``step.run`` the same way), so it reports ``StepRun``
and takes its kind's check, memo reader and resolution from ``step``.  ``invoke`` reports
``InvokeFunction`` (SDK spec 5.3.4).

>>> SLEEP.check("nap", "90m")
5400000000000
>>> SLEEP.report("nap", 5400000000000)
('nap', {'duration': '1h30m'})
>>> RESOLVERS["Sleep"] is SLEEP_UNTIL.resolve
True
>>> WAIT_FOR_EVENT.read_memo({"name": "auth/confirmed", "data": {}}, "confirm")["name"]
'auth/confirmed'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from ..datetimes import format_datetime, parse_datetime
from ..duration import format_duration, parse_duration_ns
from ..errors import DatetimeError, DurationError
from .._expr_dialect import ValidationError, validate
from ..expr import compile_expression
from ..wait import match_expression
from . import protocol
from .events import events_in
from .exceptions import OutputTooLargeError, StepError, StepUsageError

__all__ = ["StepKind", "Resolution", "KINDS", "RESOLVERS", "STEP", "SLEEP", "SLEEP_UNTIL",
           "WAIT_FOR_EVENT", "SEND_EVENT", "INVOKE", "INVOKE_TIMEOUT_ERROR", "op",
           "failure_op", "usage", "resolve_time"]

#: The memo of an invoke that timed out, as Inngest's server writes it
#: (``pkg/execution/execution.go``, ``SetInvokeTimeoutError``).
INVOKE_TIMEOUT_ERROR: dict[str, str] = {
    "error": "InngestInvokeTimeoutError: Timed out waiting for invoked function to complete",
    "name": "InngestInvokeTimeoutError",
    "message": "Timed out waiting for invoked function to complete",
}
#: How long an invoke without a timeout waits (the server's ``InvokeFunctionOpts.Expires``:
#: a year).
INVOKE_DEFAULT_WAIT = timedelta(days=365)


class Resolution(Protocol):
    """What the runner offers a reported op: the run's state at the time (``now``, the
    ``attempt`` of the step and the function's ``max_attempts``) and the verbs that carry
    an op out.  ``op`` names the history entry each verb writes; ``detail`` goes with it."""

    now: datetime
    attempt: int
    max_attempts: int

    def proceed(self, memo: object, op: str, **detail: Any) -> None:
        """Memoize the step as ``memo`` and call the function again at once."""

    def retry(self, op: str, **detail: Any) -> None:
        """Call the function again after the retry delay of this attempt."""

    def sleep(self, until: datetime) -> None:
        """Call the function again at ``until`` (the step's memo is then ``null``)."""

    def wait(self, event: str, expression: str | None, timeout_at: datetime) -> None:
        """Call the function again with the first ``event`` that ``expression`` matches
        as the step's memo, or with ``null`` at ``timeout_at``."""

    def invoke(self, function_id: str, payload: Mapping[str, Any],
               timeout_at: datetime) -> None:
        """Start a run of the function ``function_id`` (a composite id) with the event
        ``payload``; call this function again with ``{"data": <its result>}`` or
        ``{"error": ...}`` as the step's memo when it ends, or with
        :data:`INVOKE_TIMEOUT_ERROR` at ``timeout_at``."""


Resolve = Callable[[Resolution, Mapping[str, Any], Mapping[str, Any]], None]


@dataclass(frozen=True)
class StepKind:
    """One kind of step (see the module's doc for each part)."""

    #: The ``step`` tool that makes it (``"sleep"``).
    tool: str
    #: The op it reports (``"Sleep"``).
    opcode: str
    #: ``check(step_id, *args)``: the arguments as ``report`` needs them, checked before the
    #: step id counts; :class:`StepUsageError` for arguments no execution can accept.
    check: Callable[..., Any]
    #: ``report(step_id, checked) -> (name, opts)`` of the op, when there is no memo; a
    #: ``ValueError`` fails the step for good.
    report: Callable[[str, Any], tuple[str, dict[str, Any] | None]]
    #: ``read_memo(memo, step_id)``: the value the tool returns on replay.
    read_memo: Callable[[object, str], Any]
    #: ``resolve(resolution, op, opts)``: how the runner carries the op out.
    resolve: Resolve


# ---------------------------------------------------------------------- shared pieces


def op(hashed: str, opcode: str, name: str, display: str,
       opts: dict[str, Any] | None) -> dict[str, Any]:
    """One reported op, as a 206 answer lists it.

    >>> op("ab12", "Sleep", "nap", "nap", {"duration": "1h"})
    {'id': 'ab12', 'op': 'Sleep', 'name': 'nap', 'displayName': 'nap', 'opts': {'duration': '1h'}}
    """
    return {"id": hashed, "op": opcode, "name": name, "displayName": display, "opts": opts}


def failure_op(hashed: str, step_id: str, exc: BaseException, final: bool) -> dict[str, Any]:
    """The op of a step that raised: ``StepFailed`` when ``final``, else ``StepError``.

    >>> failure_op("ab12", "pay", RuntimeError("kaput"), final=False)["error"]["message"]
    'kaput'
    """
    doc = op(hashed, protocol.STEP_FAILED if final else protocol.STEP_ERROR, step_id, step_id,
             None)
    doc["error"] = protocol.error_body(exc)
    return doc


def usage(step_id: str, message: str) -> StepUsageError:
    """A :class:`StepUsageError` naming the step.

    >>> str(usage("nap", "bad"))
    'step "nap": bad'
    """
    return StepUsageError(f'step "{step_id}": {message}')


def _duration_ns(step_id: str, what: str, value: str | timedelta) -> int:
    if isinstance(value, timedelta):
        ns = (value.days * 86_400 + value.seconds) * 1_000_000_000 + value.microseconds * 1000
    elif isinstance(value, str):
        try:
            ns = parse_duration_ns(value)
        except DurationError as exc:
            raise usage(step_id, f"{what}: {exc}") from exc
    else:
        raise usage(step_id, f"{what} must be a str or a timedelta, not {type(value).__name__}")
    if ns < 0:
        raise usage(step_id, f"{what} must not be negative, got {format_duration(ns)}")
    if ns > protocol.MAX_DURATION_NS:
        raise usage(step_id, f"{what} must be at most 366 days (Inngest's limit), "
                             f"got {format_duration(ns)}")
    return ns


def _raise_memoized_error(memo: object, step_id: str) -> None:
    if isinstance(memo, Mapping) and "error" in memo:
        err = memo["error"] if isinstance(memo["error"], Mapping) else {}
        raise StepError(str(err.get("name", "Error")), str(err.get("message", "")),
                        str(err.get("stack", "") or ""), step_id)


def resolve_time(text: object, now: datetime) -> datetime:
    """A time string (``"1h30m"``) from ``now``, or an absolute time, as Inngest reads it.

    >>> resolve_time("1h", datetime(2024, 1, 1, tzinfo=timezone.utc)).hour
    1
    """
    if not isinstance(text, str):
        raise ValueError(f"expected a time string, not {text!r}")
    try:
        return now + timedelta(microseconds=parse_duration_ns(text) // 1000)
    except DurationError:
        pass
    try:
        return parse_datetime(text)
    except DatetimeError:
        raise ValueError(f"not a time string nor a time: {text!r}") from None


# ---------------------------------------------------------------------- step.step: StepRun


def _check_nothing(step_id: str) -> None:
    return None


def _report_step(step_id: str, checked: object) -> tuple[str, None]:
    return step_id, None


def _read_data(memo: object, step_id: str) -> Any:
    # Read on every replayed step: one type check for both memo forms.
    if isinstance(memo, Mapping):
        if "error" in memo:
            _raise_memoized_error(memo, step_id)
        if "data" in memo:
            return memo["data"]
    return memo


def _resolve_step_run(run: Resolution, op: Mapping[str, Any], opts: Mapping[str, Any]) -> None:
    data = op.get("data")
    size = protocol.json_size(data)
    if size > protocol.MAX_OUTPUT_BYTES:
        # The server refuses such an output (GeneratorOpcode.Validate,
        # ErrStepOutputTooLarge): the step fails for good.
        name = op.get("displayName") or op.get("name") or op.get("id")
        error = protocol.error_body(OutputTooLargeError(
            f'step "{name}"', size, protocol.MAX_OUTPUT_BYTES))
        error["stack"] = ""
        _resolve_step_failed(run, {**op, "error": error}, opts)
        return
    run.proceed({"data": data}, protocol.STEP_RUN, result=data)


def _resolve_step_failed(run: Resolution, op: Mapping[str, Any],
                         opts: Mapping[str, Any]) -> None:
    run.proceed({"error": op.get("error")}, protocol.STEP_FAILED, error=op.get("error"),
                attempt=run.attempt)


def _resolve_step_error(run: Resolution, op: Mapping[str, Any],
                        opts: Mapping[str, Any]) -> None:
    if run.attempt + 1 < run.max_attempts:
        run.retry(protocol.STEP_ERROR, error=op.get("error"), attempt=run.attempt)
    else:
        _resolve_step_failed(run, op, opts)


# ---------------------------------------------------------------------- sleeps: Sleep


def _check_sleep(step_id: str, duration: str | timedelta) -> int:
    return _duration_ns(step_id, "sleep duration", duration)


def _report_sleep(step_id: str, ns: int) -> tuple[str, dict[str, Any]]:
    return step_id, {"duration": format_duration(ns)}


def _check_sleep_until(step_id: str,
                       when: str | datetime | Callable[[], str | datetime]) -> datetime:
    target = when() if callable(when) else when
    if isinstance(target, str):
        try:
            return parse_datetime(target)
        except DatetimeError as exc:
            raise usage(step_id, f"sleep_until: {exc}") from exc
    if isinstance(target, datetime):
        if target.tzinfo is None or target.utcoffset() is None:
            raise usage(step_id, "sleep_until needs an aware datetime (with a time zone)")
        return target
    raise usage(step_id, "sleep_until needs a str, a datetime or a callable returning "
                         f"one, not {type(target).__name__}")


def _report_sleep_until(step_id: str, moment: datetime) -> tuple[str, dict[str, Any]]:
    return step_id, {"duration": format_datetime(moment.astimezone(timezone.utc), "RFC3339")}


def _read_nothing(memo: object, step_id: str) -> None:
    return None


def _resolve_sleep(run: Resolution, op: Mapping[str, Any], opts: Mapping[str, Any]) -> None:
    until = resolve_time(opts.get("duration") or op.get("name"), run.now)
    run.sleep(max(until, run.now))


# ---------------------------------------------------------------------- waits: WaitForEvent


def _check_wait(step_id: str, event: str, timeout: str | timedelta, match: str | None,
                if_: str | None) -> tuple[str, int, str | None, str | None]:
    if not isinstance(event, str) or not event:
        raise usage(step_id, "wait_for_event needs an event name (a non-empty str)")
    if match is not None and if_ is not None:
        raise usage(step_id, "wait_for_event takes match or if_, not both")
    for what, value in (("match", match), ("if_", if_)):
        if value is not None and not isinstance(value, str):
            raise usage(step_id, f"{what} must be a str, not {type(value).__name__}")
    return event, _duration_ns(step_id, "wait_for_event timeout", timeout), match, if_


def _report_wait(step_id: str, checked: tuple[str, int, str | None, str | None]
                 ) -> tuple[str, dict[str, Any]]:
    event, ns, match, if_ = checked
    expression: str | None = None
    # Inngest's server compiles and type-checks a wait's expression when the step runs
    # (``executor.go``: compile errors fail the step; policy violations are only logged).
    if match is not None:
        expression = compile_expression(match_expression(match, "inngest"), "inngest").source
    elif if_ is not None:
        expression = compile_expression(if_, "inngest").source
        try:
            validate(if_)
        except ValidationError as exc:
            raise usage(step_id, f"wait_for_event if_: {exc}") from None
    return event, {"event": event, "timeout": format_duration(ns), "if": expression}


def _read_wait(memo: object, step_id: str) -> Any:
    # A matched event is the memo itself; only a memo that is no event can be an error.
    if isinstance(memo, Mapping) and "name" not in memo:
        _raise_memoized_error(memo, step_id)
    return memo


def _resolve_wait(run: Resolution, op: Mapping[str, Any], opts: Mapping[str, Any]) -> None:
    event = opts.get("event") or op.get("name")
    if not isinstance(event, str):
        raise ValueError(f"a WaitForEvent op without an event name: {dict(op)!r}")
    timeout_at = max(resolve_time(opts.get("timeout"), run.now), run.now)
    run.wait(event, opts.get("if"), timeout_at)


# ---------------------------------------------------------------------- send_event: StepRun


def _check_events(step_id: str, events: object) -> list[dict[str, Any]]:
    try:
        docs = events_in(events)
    except ValueError as exc:
        raise usage(step_id, f"send_event: {exc}") from None
    if not docs:
        raise usage(step_id, "send_event needs at least one event")
    return docs


# ---------------------------------------------------------------------- invoke: InvokeFunction


def _check_invoke(step_id: str, function: object, app_id: str | None, data: object,
                  timeout: str | timedelta | None, v: str | None
                  ) -> tuple[str, dict[str, Any], int | None, str | None]:
    ref = function if isinstance(function, str) else getattr(function, "slug", None)
    if not isinstance(ref, str) or not ref:
        raise usage(step_id, "invoke needs function= (a Function, or a function id as str), "
                             f"not {type(function).__name__}")
    if app_id is None:
        raise usage(step_id, "invoke names the function by its app's id: serve the function "
                             "with App, or run it with LocalRunner")
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise usage(step_id, f"invoke's data must be a mapping, not {type(data).__name__}")
    if v is not None and not isinstance(v, str):
        raise usage(step_id, f"invoke's v must be a str, not {type(v).__name__}")
    ns = None if timeout is None else _duration_ns(step_id, "invoke timeout", timeout)
    return f"{app_id}-{ref}", dict(data), ns, v


def _report_invoke(step_id: str, checked: tuple[str, dict[str, Any], int | None, str | None]
                   ) -> tuple[str, dict[str, Any]]:
    function_id, data, ns, v = checked
    # The keys and their order are the official SDK's (step_lib/base.py InvokeOpts).
    return step_id, {"function_id": function_id, "payload": {"data": data, "v": v},
                     "timeout": None if ns is None else format_duration(ns)}


def _resolve_invoke(run: Resolution, op: Mapping[str, Any], opts: Mapping[str, Any]) -> None:
    function_id = opts.get("function_id")
    if not isinstance(function_id, str) or not function_id:
        raise ValueError(f"an InvokeFunction op without opts.function_id: {dict(op)!r}")
    payload = opts.get("payload")
    if payload is None:
        payload = {}
    if not isinstance(payload, Mapping):
        raise ValueError(f"an InvokeFunction op's opts.payload is not an object: {dict(op)!r}")
    timeout = opts.get("timeout")
    timeout_at = (run.now + INVOKE_DEFAULT_WAIT if not timeout
                  else max(resolve_time(timeout, run.now), run.now))
    run.invoke(function_id, payload, timeout_at)


# ---------------------------------------------------------------------- the table

STEP = StepKind("step", protocol.STEP_RUN, _check_nothing, _report_step, _read_data,
                _resolve_step_run)
SLEEP = StepKind("sleep", protocol.SLEEP, _check_sleep, _report_sleep, _read_nothing,
                 _resolve_sleep)
SLEEP_UNTIL = StepKind("sleep_until", protocol.SLEEP, _check_sleep_until, _report_sleep_until,
                       _read_nothing, _resolve_sleep)
WAIT_FOR_EVENT = StepKind("wait_for_event", protocol.WAIT_FOR_EVENT, _check_wait, _report_wait,
                          _read_wait, _resolve_wait)
SEND_EVENT = StepKind("send_event", protocol.STEP_RUN, _check_events, _report_step, _read_data,
                      _resolve_step_run)
INVOKE = StepKind("invoke", protocol.INVOKE_FUNCTION, _check_invoke, _report_invoke, _read_data,
                  _resolve_invoke)

#: Every step kind, by tool name.
KINDS: dict[str, StepKind] = {kind.tool: kind for kind in (STEP, SLEEP, SLEEP_UNTIL,
                                                           WAIT_FOR_EVENT, SEND_EVENT, INVOKE)}


def _resolvers() -> dict[str, Resolve]:
    table: dict[str, Resolve] = {protocol.STEP_ERROR: _resolve_step_error,
                                 protocol.STEP_FAILED: _resolve_step_failed}
    for kind in KINDS.values():
        if table.setdefault(kind.opcode, kind.resolve) is not kind.resolve:
            raise AssertionError(f"step kinds reporting {kind.opcode} resolve it differently")
    return table


#: How the runner resolves each opcode a function may report.
RESOLVERS: dict[str, Resolve] = _resolvers()

