"""``inngest-core run FILE.py --event JSON [--db PATH] [--fast-forward]``.

Loads the functions defined in FILE.py, sends the event through a :class:`LocalRunner`,
runs until idle (``--fast-forward`` also jumps the clock through sleeps, retries and wait
timeouts) and prints the timeline of each run it caused: the runs the event started, and
those their steps started in turn (``step.invoke``, ``step.send_event``), flow control's
entries among them (``Throttled``, ``ConcurrencyLimited``, ``RunCancelled`` with its cause),
and the runs the event did not start (``skipped <function>: rate_limit``, ``idempotency``,
``singleton``).  Exit codes: 0 every run completed or is still pending, 1 a run failed,
2 bad input (the error goes to stderr).

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="inngest-core")
>>> add_run_command(parser.add_subparsers(dest="command"))
>>> parser.parse_args(["run", "flow.py", "--event", "{}"]).fast_forward
False
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
from typing import Any

from .events import events_in

__all__ = ["add_run_command", "run_command", "load_functions", "format_entry"]

BAD_INPUT = 2
_NOT_AN_EVENT = '--event must be a JSON object with a "name"'


def add_run_command(subparsers: Any) -> None:
    """Add the ``run`` command to an argparse ``subparsers`` object.

    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_run_command(parser.add_subparsers())
    >>> parser.parse_args(["run", "f.py", "--event", "{}", "--db", "x.db"]).db
    'x.db'
    """
    p = subparsers.add_parser(
        "run", help="run the functions of a Python file locally for one event")
    p.add_argument("file", help="a Python file defining functions with inngest_core.sdk")
    p.add_argument("--event", required=True,
                   help='the event as JSON, such as \'{"name": "auth/signup", "data": {}}\'')
    p.add_argument("--db", default=":memory:",
                   help="the SQLite database of run state (default: in memory)")
    p.add_argument("--fast-forward", action="store_true",
                   help="advance the clock through sleeps, retries and wait timeouts")
    p.add_argument("--json", action="store_true", help="print the timelines as JSON")
    p.set_defaults(run=run_command)


def load_functions(path: str) -> list[Any]:
    """Run a Python file and return the :class:`~inngest_core.sdk.Function` objects it
    defines at top level, in definition order.

    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp, "f.py")
    ...     _ = path.write_text("from inngest_core.sdk import function, Trigger\\n"
    ...                         "f = function(id='f', trigger=Trigger(event='a'))(lambda c, s: 1)\\n")
    ...     [fn.slug for fn in load_functions(str(path))]
    ['f']
    """
    from .function import Function

    namespace = runpy.run_path(path, run_name="__inngest_core_run__")
    found: list[Any] = []
    for value in namespace.values():
        if isinstance(value, Function) and value not in found:
            found.append(value)
    return found


def format_entry(entry: dict[str, Any]) -> str:
    """One timeline line.

    >>> format_entry({"at": "2024-01-01T00:00:00Z", "step": "create user", "op": "StepRun",
    ...               "result": {"id": 1}})
    '  2024-01-01T00:00:00Z  create user  StepRun  result={"id": 1}'
    """
    parts = [f"  {entry['at']}", entry["step"] or "(run)", entry["op"]]
    if "result" in entry:
        parts.append("result=" + json.dumps(entry["result"], ensure_ascii=False))
    if "error" in entry:
        err = entry["error"]
        parts.append(f"error={err.get('name')}: {err.get('message')}"
                     if isinstance(err, dict) else f"error={err}")
    if "until" in entry:
        parts.append(f"until={entry['until']}")
    return "  ".join(parts)


def run_command(args: argparse.Namespace) -> int:
    """The ``run`` command's handler; returns the exit code.

    >>> import argparse
    >>> run_command(argparse.Namespace(event="{oops", file="f.py"))
    2
    """
    from .clock import ManualClock
    from .intake import triggered
    from .runner import LocalRunner

    try:
        event = json.loads(args.event)
    except json.JSONDecodeError as exc:
        sys.stderr.write(f"inngest-core run: --event is not valid JSON: {exc}\n")
        return BAD_INPUT
    try:
        # One event, not a list.
        [event] = events_in(event if isinstance(event, dict) else None, wording=_NOT_AN_EVENT)
    except ValueError as exc:
        sys.stderr.write(f"inngest-core run: {exc}\n")
        return BAD_INPUT
    try:
        functions = load_functions(args.file)
    except Exception as exc:  # whatever the user's file raises is bad input here
        sys.stderr.write(f"inngest-core run: cannot load {args.file}: {exc}\n")
        return BAD_INPUT
    if not functions:
        sys.stderr.write(f"inngest-core run: {args.file} defines no functions\n")
        return BAD_INPUT
    try:
        runner = LocalRunner(functions, db=args.db, clock=ManualClock())
    except (ValueError, OSError) as exc:
        sys.stderr.write(f"inngest-core run: {exc}\n")
        return BAD_INPUT
    with runner:
        before = {run_id for run_id, _, _ in runner.runs()}
        skips_before = len(runner.skipped())
        try:
            started = runner.send(event)
        except ValueError as exc:
            sys.stderr.write(f"inngest-core run: {exc}\n")
            return BAD_INPUT
        if args.fast_forward:
            runner.fast_forward()
        failed = False
        report: list[dict[str, Any]] = []
        for run_id, fn_id, _ in runner.runs():
            if run_id in before:
                continue
            status = runner.status(run_id)
            failed = failed or status == "failed"
            timeline = [entry.as_dict() for entry in runner.history(run_id)]
            report.append({"run_id": run_id, "function": fn_id, "status": status,
                           "history": timeline})
        skipped = [{"function": fn_id, "reason": reason, "event_id": doc.get("id")}
                   for fn_id, reason, doc, _ in runner.skipped()[skips_before:]]
        if args.json:
            sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
        else:
            if not started and not report and not skipped:
                if any(triggered(fn, event) for fn in runner.functions.values()):
                    # Debounce or batching holds it until later.
                    sys.stdout.write(f"no run started yet: {event['name']!r} is held by "
                                     "debounce or batching (--fast-forward drives it)\n")
                else:
                    sys.stdout.write(f"no function is triggered by {event['name']!r}\n")
            for skip in skipped:
                sys.stdout.write(f"skipped {skip['function']}: {skip['reason']} "
                                 f"(event {skip['event_id']})\n")
            for run in report:
                sys.stdout.write(f"run {run['run_id']} {run['function']}: {run['status']}\n")
                for entry in run["history"]:
                    sys.stdout.write(format_entry(entry) + "\n")
    return 1 if failed else 0
