"""The ``inngest-core`` command (also ``python -m inngest_core``).

Exit codes: 0 success, 2 bad input (the error goes to stderr), 1 a failure of the job itself.
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

    p = sub.add_parser("bench", help="run the comparative benchmark and print a table")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="JSON output")
    out.add_argument("--markdown", action="store_true", help="a Markdown table")
    p.add_argument("--part", action="append", help="only this part (repeatable)")
    p.add_argument("--quick", action="store_true", help="shorter timing loops")
    p.set_defaults(run=_cmd_bench)

    from .sdk.cli import add_run_command

    add_run_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code
