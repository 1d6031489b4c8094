"""The ``inngest-core`` command (also ``python -m inngest_core``).

Exit codes: 0 success, 2 bad input (the error goes to stderr), 1 a failure of the job itself
(an evaluation error, no match, a failed run).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import __version__
from ._compat import IMPLEMENTATION

BAD_INPUT = 2


def _print_json(value: object) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")


def _cmd_duration(args: argparse.Namespace) -> int:
    from .duration import format_duration, parse_duration_ns
    from .errors import DurationError

    try:
        ns = parse_duration_ns(args.text)
    except DurationError as exc:
        sys.stderr.write(f"inngest-core duration: {exc}\n")
        return BAD_INPUT
    canonical = format_duration(ns)
    if args.json:
        _print_json({"input": args.text, "nanoseconds": ns, "seconds": ns / 1e9,
                     "canonical": canonical})
    else:
        sys.stdout.write(f"nanoseconds: {ns}\nseconds:     {exact_seconds(ns)}\n"
                         f"canonical:   {canonical}\n")
    return 0


def exact_seconds(ns: int) -> str:
    """Nanoseconds as an exact decimal count of seconds.

    >>> exact_seconds(5_400_000_000_000), exact_seconds(-1), exact_seconds(1_500_000_000)
    ('5400', '-0.000000001', '1.5')
    """
    sign = "-" if ns < 0 else ""
    whole, fraction = divmod(abs(ns), 1_000_000_000)
    text = f"{sign}{whole}"
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text


def _cmd_datetime(args: argparse.Namespace) -> int:
    from datetime import timezone

    from .datetimes import detect_format, format_datetime, parse_datetime
    from .errors import DatetimeError

    try:
        value = parse_datetime(args.text, args.format)
        name = args.format or detect_format(args.text)
    except DatetimeError as exc:
        sys.stderr.write(f"inngest-core datetime: {exc}\n")
        return BAD_INPUT
    utc = format_datetime(value.astimezone(timezone.utc), "RFC3339")
    epoch = format_datetime(value, "EPOCH")
    if args.json:
        _print_json({"input": args.text, "format": name, "utc": utc,
                     "epoch": float(epoch), "epoch_text": epoch})
    else:
        sys.stdout.write(f"format: {name}\nutc:    {utc}\nepoch:  {epoch}\n")
    return 0


def to_json(value: object) -> object:
    """A CEL result as JSON: timestamps in RFC 3339, durations as Inngest time strings, bytes
    in base64, types by name, non-finite doubles as strings.

    >>> import datetime
    >>> to_json([datetime.timedelta(seconds=90), b"hi", float("nan"), {"k": None}])
    ['1m30s', 'aGk=', 'NaN', {'k': None}]
    """
    import base64
    import datetime as dt
    import math

    from .datetimes import format_datetime
    from .duration import format_duration

    if isinstance(value, dt.datetime):
        return format_datetime(value, "RFC3339")
    if isinstance(value, dt.timedelta):
        return format_duration(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(to_json(k)) if not isinstance(k, str) else k: to_json(v)
                for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return int(value) if type(value) is not bool and isinstance(value, int) else value
    return str(getattr(value, "name", value))


def _variables(specs: list[str] | None) -> dict[str, object]:
    """``NAME=JSON`` or ``NAME=@file.json`` pairs; a ValueError names the bad one."""
    from pathlib import Path

    found: dict[str, object] = {}
    for spec in specs or []:
        name, sep, text = spec.partition("=")
        if not sep or not name:
            raise ValueError(f"--var {spec!r}: expected NAME=JSON or NAME=@file.json")
        try:
            if text.startswith("@"):
                text = Path(text[1:]).read_text(encoding="utf-8")
            found[name] = json.loads(text)
        except OSError as exc:
            raise ValueError(f"--var {name}: cannot read {text[1:]!r}: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"--var {name}: invalid JSON: {exc}") from None
    return found


def _cmd_eval(args: argparse.Namespace) -> int:
    from .errors import EvaluationError, ExpressionLimitError, ExpressionSyntaxError
    from .expr import compile_expression

    try:
        activation = _variables(args.var)
        program = compile_expression(args.expr, args.dialect)
    except (ExpressionSyntaxError, ExpressionLimitError, ValueError) as exc:
        sys.stderr.write(f"inngest-core eval: {exc}\n")
        return BAD_INPUT
    try:
        result = program.evaluate(activation)
    except EvaluationError as exc:
        sys.stderr.write(f"inngest-core eval: {exc}\n")
        return 1
    _print_json(to_json(result))
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from .errors import ExpressionLimitError, ExpressionSyntaxError
    from .expr import compile_expression

    try:
        program = compile_expression(args.expr, args.dialect)
        if args.dialect == "inngest":  # what Inngest's server checks at registration
            from ._expr_dialect import validate

            validate(args.expr)
    except (ExpressionSyntaxError, ExpressionLimitError, ValueError) as exc:
        sys.stderr.write(f"inngest-core check: {exc}\n")
        return BAD_INPUT
    names = ", ".join(sorted(program.variables)) or "none"
    sys.stdout.write(f"ok: {program.source}\nvariables: {names}\n")
    return 0


def _cmd_match(args: argparse.Namespace) -> int:
    from .errors import EvaluationError, ExpressionLimitError, ExpressionSyntaxError
    from .expr import compile_expression

    try:
        event = json.loads(args.event)
        async_event = json.loads(args.async_)
        program = compile_expression(args.expr, args.dialect).substitute({"event": event})
    except json.JSONDecodeError as exc:
        sys.stderr.write(f"inngest-core match: invalid JSON: {exc}\n")
        return BAD_INPUT
    except (ExpressionSyntaxError, ExpressionLimitError, EvaluationError) as exc:
        sys.stderr.write(f"inngest-core match: {exc}\n")
        return BAD_INPUT
    matched = program.matches({"async": async_event})
    if args.json:
        _print_json({"substituted": program.source, "matches": matched})
    else:
        sys.stdout.write(f"substituted: {program.source}\n"
                         f"{'match: the wait resumes' if matched else 'no match'}\n")
    return 0 if matched else 1


def _cmd_bench(args: argparse.Namespace) -> int:
    from .bench import runner

    fmt = "json" if args.json else "markdown" if args.markdown else "text"
    return runner.main(fmt, tuple(args.part) if args.part else None, quick=args.quick)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inngest-core",
        description="Fast, exact parsers for Inngest durations, datetimes and expressions.",
    )
    parser.add_argument("--version", action="version",
                        version=f"inngest-core {__version__} ({IMPLEMENTATION})")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("duration", help="parse a duration: nanoseconds, seconds, canonical form")
    p.add_argument("text", help='a duration such as "1h30m", "1.5s", "2w3d" or "PT1H30M"')
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_cmd_duration)

    p = sub.add_parser("datetime", help="parse a datetime: detected format, UTC instant, epoch")
    p.add_argument("text", help='a datetime such as "2023-07-18T07:31:00Z" or an RFC 1123 date')
    p.add_argument("--format", metavar="NAME", help="read only this format (see DATETIME_FORMATS)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_cmd_datetime)

    p = sub.add_parser("eval", help="evaluate a CEL expression and print the result as JSON")
    p.add_argument("expr", help='CEL source, e.g. "event.data.amount > 100"')
    p.add_argument("--var", action="append", metavar="NAME=JSON",
                   help="a variable: NAME=JSON or NAME=@file.json (repeatable)")
    p.add_argument("--dialect", choices=("cel", "inngest"), default="cel",
                   help="standard CEL (default) or Inngest's server dialect")
    p.set_defaults(run=_cmd_eval)

    p = sub.add_parser("check", help="check a CEL expression's syntax only")
    p.add_argument("expr", help="CEL source")
    p.add_argument("--dialect", choices=("cel", "inngest"), default="cel",
                   help="standard CEL (default) or Inngest's server dialect (also runs its "
                        "registration check)")
    p.set_defaults(run=_cmd_check)

    p = sub.add_parser("match", help="would this event resume a wait with this expression?")
    p.add_argument("--expr", required=True, help="the wait's `if` expression (CEL)")
    p.add_argument("--event", required=True, help="the triggering event (JSON), substituted")
    p.add_argument("--async", dest="async_", required=True, metavar="JSON",
                   help="the incoming event (JSON)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--dialect", choices=("cel", "inngest"), default="cel",
                   help="standard CEL (default) or Inngest's server dialect")
    p.set_defaults(run=_cmd_match)

    p = sub.add_parser("bench", help="run the comparative benchmark and print a table")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="JSON output")
    out.add_argument("--markdown", action="store_true", help="a Markdown table")
    p.add_argument("--part", action="append", help="only this part (repeatable)")
    p.add_argument("--quick", action="store_true", help="shorter timing loops")
    p.set_defaults(run=_cmd_bench)

    from .sdk.cli import add_run_command
    from .sdk.devloop import add_dev_commands

    add_run_command(sub)
    add_dev_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code
