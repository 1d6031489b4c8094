"""Inngest's step protocol: opcodes, step-id hashing, call requests and responses.

Everything here is a pure function of its input, so the protocol can be tested without a
server.  The shapes follow Inngest's SDK specification (inngest/inngest ``docs/SDK_SPEC.md``)
and what Inngest's own SDKs send; where those two differ, the specification wins.

>>> hash_step_id("create user")
'462b83996b9388943e5ee57a17a3e1ade191881d'
>>> request = parse_request(call_request({"name": "auth/signup", "data": {}}, run_id="r1"))
>>> request.run_id, request.attempt, request.steps
('r1', 0, {})
"""

from __future__ import annotations

import hashlib
import json
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Final

__all__ = [
    "STEP_RUN",
    "STEP_ERROR",
    "STEP_FAILED",
    "STEP_PLANNED",
    "STEP_NOT_FOUND",
    "SLEEP",
    "WAIT_FOR_EVENT",
    "INVOKE_FUNCTION",
    "OPCODES",
    "SDK_NAME",
    "REQUEST_VERSION",
    "HEADER_SDK",
    "HEADER_REQ_VERSION",
    "HEADER_NO_RETRY",
    "HEADER_RETRY_AFTER",
    "MAX_DURATION_NS",
    "MAX_OUTPUT_BYTES",
    "MAX_RESPONSE_BYTES",
    "MAX_STEPS",
    "json_size",
    "DEFAULT_RETRIES",
    "Response",
    "CallRequest",
    "RequestError",
    "hash_step_id",
    "sdk_header",
    "base_headers",
    "error_body",
    "step_response",
    "parse_request",
    "call_request",
]

#: A ``step`` that finished: ``data`` carries its JSON result.
STEP_RUN: Final = "StepRun"
#: An attempt of a ``step`` failed; Inngest retries it.
STEP_ERROR: Final = "StepError"
#: A ``step`` failed for good (attempts used up, or a ``NonRetriableError``).
STEP_FAILED: Final = "StepFailed"
#: A step reported to run in a call of its own (``?stepId=<its hashed id>``): every step of
#: a group, or any block when the server asks for planning (SDK spec 5.3.1; the official
#: SDK's ``server_lib/consts.py`` ``Opcode.PLANNED``).
STEP_PLANNED: Final = "StepPlanned"
#: The step a call targets (``stepId``) was not reached (SDK spec 5.3.1).
STEP_NOT_FOUND: Final = "StepNotFound"
#: Pause the run; ``opts.duration`` is a time string or an RFC 3339 time.
SLEEP: Final = "Sleep"
#: Pause until an event arrives; ``opts = {event, timeout, if}``.
WAIT_FOR_EVENT: Final = "WaitForEvent"
#: Start a run of another function and wait for its result; ``opts = {function_id,
#: payload: {data, v}, timeout}`` (SDK spec 5.3.4; the official SDK's ``step_lib/base.py``
#: ``InvokeOpts``).
INVOKE_FUNCTION: Final = "InvokeFunction"
OPCODES: Final = (STEP_RUN, STEP_ERROR, STEP_FAILED, SLEEP, WAIT_FOR_EVENT, INVOKE_FUNCTION)

SDK_NAME: Final = "inngest_core"
REQUEST_VERSION: Final = 2
HEADER_SDK: Final = "X-Inngest-Sdk"
HEADER_REQ_VERSION: Final = "X-Inngest-Req-Version"
HEADER_NO_RETRY: Final = "X-Inngest-No-Retry"
#: When to retry a failed attempt: seconds or a date (SDK spec 4.1.1, 4.4.3).
HEADER_RETRY_AFTER: Final = "Retry-After"

#: Inngest's ``MaxSleepDuration`` and ``MaxWaitForEventTimeout``: 366 days (allowed itself).
MAX_DURATION_NS: Final = 366 * 24 * 3600 * 1_000_000_000
#: Inngest's ``DefaultRetryCount``: 4 retries, so 5 attempts.
DEFAULT_RETRIES: Final = 4
#: Inngest's ``MaxStepOutputSize``: the JSON of a step's output (and, here, of a function's
#: result) may be 4 MB at most.
MAX_OUTPUT_BYTES: Final = 4 * 1024 * 1024
#: Inngest's ``MaxSDKResponseBodySize`` (``MaxStepOutputSize + MaxStepInputSize``): the
#: body of an answer to a call may be 8 MB at most.
MAX_RESPONSE_BYTES: Final = 8 * 1024 * 1024
#: Inngest's ``DefaultMaxStepLimit``: a run may have 1,000 steps.
MAX_STEPS: Final = 1_000


def hash_step_id(step_id: str) -> str:
    """The id Inngest knows a step by: the hex SHA-1 of its UTF-8 id.

    The n-th repeat of an id in one execution is hashed as ``f"{id}:{n}"`` by the caller.

    >>> hash_step_id("dup") != hash_step_id("dup:1")
    True
    >>> len(hash_step_id("é"))
    40
    """
    hashed = _HASHED.get(step_id) if type(step_id) is str else None
    if hashed is None:
        hashed = hashlib.sha1(step_id.encode("utf-8")).hexdigest()
        if type(step_id) is str:
            if len(_HASHED) >= _HASHED_MAX:
                _HASHED.clear()
            _HASHED[step_id] = hashed
    return hashed


# A replay hashes every step id of the function again on every call: the ids repeat from
# call to call, so their hashes are kept (plain ``str`` keys only, so no user ``__hash__``
# or ``__eq__`` runs; the table is emptied when full).
_HASHED: dict[str, str] = {}
_HASHED_MAX: Final = 1 << 16


def json_size(value: object) -> int:
    """The bytes of ``value`` as compact UTF-8 JSON, as an answer carries it (``ValueError``
    or ``TypeError`` for a value JSON cannot hold).

    >>> json_size({"a": "é"})
    10
    """
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False).encode("utf-8"))


def sdk_header() -> str:
    """The ``X-Inngest-Sdk`` value: ``inngest_core:v<version>``.

    >>> sdk_header().startswith("inngest_core:v")
    True
    """
    from .. import __version__

    return f"{SDK_NAME}:v{__version__}"


def base_headers() -> dict[str, str]:
    """The headers every response carries.

    >>> sorted(base_headers())
    ['Content-Type', 'X-Inngest-Req-Version', 'X-Inngest-Sdk']
    """
    return {
        "Content-Type": "application/json",
        HEADER_SDK: sdk_header(),
        HEADER_REQ_VERSION: str(REQUEST_VERSION),
    }


@dataclass(frozen=True)
class Response:
    """What a function answers a call with: ``status``, ``headers`` and a JSON-ready ``body``.

    >>> r = Response(200, base_headers(), {"ok": True})
    >>> r.status, r.json()
    (200, '{"ok": true}')
    """

    status: int
    headers: dict[str, str]
    body: Any

    @property
    def no_retry(self) -> bool:
        """Whether the response tells Inngest not to retry (``X-Inngest-No-Retry: true``).

        >>> Response(400, {HEADER_NO_RETRY: "true"}, None).no_retry
        True
        """
        return self.headers.get(HEADER_NO_RETRY) == "true"

    def json(self) -> str:
        """The body as JSON text (UTF-8 kept as is).

        >>> Response(206, {}, [{"op": "Sleep"}]).json()
        '[{"op": "Sleep"}]'
        """
        return json.dumps(self.body, ensure_ascii=False)


class RequestError(ValueError):
    """A call request that is not what Inngest's server sends (answered with 400).

    >>> try:
    ...     parse_request({"event": {}})
    ... except RequestError as exc:
    ...     print(exc)
    invalid call request: missing key "events"
    """


@dataclass(frozen=True)
class CallRequest:
    """A validated call request.

    >>> req = parse_request(call_request({"name": "a", "data": {}}, run_id="r", attempt=2))
    >>> req.attempt, req.max_attempts, req.events == [req.event]
    (2, None, True)
    """

    event: dict[str, Any]
    events: list[dict[str, Any]]
    steps: dict[str, Any]
    run_id: str
    attempt: int
    max_attempts: int | None = None
    disable_immediate_execution: bool = False
    use_api: bool = False
    stack: list[str] = field(default_factory=list)


def _bad(message: str) -> RequestError:
    return RequestError(f"invalid call request: {message}")


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _get(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str,
         *, required: bool = True) -> Any:
    if key not in obj:
        if required:
            raise _bad(f'missing key "{where}{key}"')
        return None
    value = obj[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(
            k.__name__ for k in kind)
        if not required and value is None:
            return None
        raise _bad(f'"{where}{key}" must be {expected}, not {_type_name(value)}')
    return value


def parse_request(raw: object) -> CallRequest:
    """Validate what Inngest's server POSTs to a function and return it as a
    :class:`CallRequest`; raises :class:`RequestError` with a clear message otherwise.

    Required: ``event`` (object), ``events`` (list of objects), ``steps`` (object of memos),
    ``ctx`` with ``run_id`` (string) and ``attempt`` (integer).  ``use_api`` may be given at
    the top level (as Inngest's server does) or in ``ctx`` (as the SDK specification says).

    >>> parse_request({"event": {}, "events": [], "steps": [], "ctx": {}})
    Traceback (most recent call last):
    ...
    inngest_core.sdk.protocol.RequestError: invalid call request: "steps" must be dict, not list
    """
    if not isinstance(raw, Mapping):
        raise _bad(f"the body must be a JSON object, not {_type_name(raw)}")
    event = _get(raw, "event", dict, "")
    events = _get(raw, "events", list, "")
    for i, item in enumerate(events):
        if not isinstance(item, dict):
            raise _bad(f'"events[{i}]" must be dict, not {_type_name(item)}')
    steps = _get(raw, "steps", dict, "")
    if not all(map(isinstance, steps, repeat(str))):
        raise _bad("step ids in \"steps\" must be strings")
    ctx = _get(raw, "ctx", dict, "")
    run_id = _get(ctx, "run_id", str, "ctx.")
    attempt = _get(ctx, "attempt", int, "ctx.")
    if attempt < 0:
        raise _bad(f'"ctx.attempt" must be >= 0, not {attempt}')
    max_attempts = _get(ctx, "max_attempts", int, "ctx.", required=False)
    if max_attempts is not None and max_attempts < 1:
        raise _bad(f'"ctx.max_attempts" must be >= 1, not {max_attempts}')
    disable = _get(ctx, "disable_immediate_execution", bool, "ctx.", required=False)
    use_api_top = _get(raw, "use_api", bool, "", required=False)
    use_api_ctx = _get(ctx, "use_api", bool, "ctx.", required=False)
    stack_obj = _get(ctx, "stack", dict, "ctx.", required=False)
    stack: list[str] = []
    if stack_obj is not None:
        listed = _get(stack_obj, "stack", list, "ctx.stack.", required=False)
        if listed:
            if not all(map(isinstance, listed, repeat(str))):
                raise _bad('"ctx.stack.stack" must be a list of strings')
            stack = list(listed)
    return CallRequest(
        event=event,
        events=events,
        steps=steps,
        run_id=run_id,
        attempt=attempt,
        max_attempts=max_attempts,
        disable_immediate_execution=bool(disable),
        use_api=bool(use_api_top) or bool(use_api_ctx),
        stack=stack,
    )


def call_request(
    event: Mapping[str, Any],
    *,
    run_id: str,
    attempt: int = 0,
    steps: Mapping[str, Any] | None = None,
    events: Sequence[Mapping[str, Any]] | None = None,
    max_attempts: int | None = None,
    stack: Sequence[str] | None = None,
    fn_id: str | None = None,
) -> dict[str, Any]:
    """Build a call request as Inngest's server sends it (the local runner and tests use it).

    >>> req = call_request({"name": "a", "data": {}}, run_id="r", max_attempts=5)
    >>> sorted(req), sorted(req["ctx"])
    (['ctx', 'event', 'events', 'steps', 'use_api', 'version'], ['attempt', 'disable_immediate_execution', 'max_attempts', 'run_id', 'stack', 'use_api'])
    """
    memos = dict(steps or {})
    ctx: dict[str, Any] = {
        "run_id": run_id,
        "attempt": attempt,
        "disable_immediate_execution": False,
        "use_api": False,
        "stack": {"stack": list(stack if stack is not None else memos), "current": len(memos)},
    }
    if max_attempts is not None:
        ctx["max_attempts"] = max_attempts
    if fn_id is not None:
        ctx["fn_id"] = fn_id
    return {
        "event": dict(event),
        "events": [dict(e) for e in events] if events is not None else [dict(event)],
        "steps": memos,
        "ctx": ctx,
        "use_api": False,
        "version": REQUEST_VERSION,
    }


def error_body(exc: BaseException) -> dict[str, str]:
    """The JSON shape of an error: ``{"name", "message", "stack"}`` (SDK spec).

    A :class:`~inngest_core.sdk.StepError` keeps the name and message it was memoized with.

    >>> error_body(RuntimeError("kaput"))["name"], error_body(RuntimeError("kaput"))["message"]
    ('RuntimeError', 'kaput')
    """
    name = getattr(exc, "error_name", None) or type(exc).__name__
    message = getattr(exc, "error_message", None)
    if message is None:
        message = str(exc)
    stack = getattr(exc, "error_stack", None)
    if stack is None:
        stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return {"name": str(name), "message": str(message), "stack": str(stack)}


def step_response(ops: Sequence[Mapping[str, Any]],
                  headers: dict[str, str] | None = None, *,
                  retry_after: str | None = None) -> Response:
    """The 206 answer reporting ``ops`` (one per step reached; several when a group of
    steps is planned at once), with the retry header their failures call for: ``false``
    after a ``StepError`` (Inngest retries), ``true`` after a ``StepFailed``.  ``headers``
    (the :func:`base_headers` by default) are extended in place.  ``retry_after`` (from a
    :class:`~inngest_core.sdk.RetryAfterError`) goes out as ``Retry-After`` with a
    ``StepError``: Inngest's executor retries a 206 that reports one at that time
    (``executor.go``, ``queue.RetryAtError``).

    >>> r = step_response([{"op": "StepError", "error": {}}])
    >>> r.status, r.headers[HEADER_NO_RETRY]
    (206, 'false')
    >>> HEADER_NO_RETRY in step_response([{"op": "Sleep"}]).headers
    False
    """
    if headers is None:
        headers = base_headers()
    opcodes = {op.get("op") for op in ops}
    if STEP_FAILED in opcodes:
        headers[HEADER_NO_RETRY] = "true"
    elif STEP_ERROR in opcodes:
        headers[HEADER_NO_RETRY] = "false"
        if retry_after is not None:
            headers[HEADER_RETRY_AFTER] = retry_after
    return Response(206, headers, list(ops))
