"""Benchmark groups for durations: ours against pytimeparse, isodate and plain Python."""

from __future__ import annotations

import datetime
from typing import Any, Callable

from . import Contender, Group, ours

TEXT = "1h30m"
NS = 5_400_000_000_000


def _pytimeparse() -> Callable[[], Any]:
    from pytimeparse import timeparse  # type: ignore[import-untyped]

    parse = timeparse.timeparse
    return lambda: parse(TEXT)


def _isodate() -> Callable[[], Any]:
    import isodate  # type: ignore[import-untyped]

    parse = isodate.parse_duration
    return lambda: parse("PT1H30M")


def _int() -> Callable[[], Any]:
    return lambda: int("5400")


def _timedelta() -> Callable[[], Any]:
    timedelta = datetime.timedelta
    return lambda: timedelta(seconds=5400)


def groups() -> list[Group]:
    return [
        Group(
            "duration",
            'parse_duration_ns("1h30m")',
            NS,
            [
                *ours("duration", "parse_duration_ns", TEXT),
                Contender('int("5400") [baseline]', "baseline", _int, checked=False),
                Contender('pytimeparse.timeparse("1h30m")', "peer", _pytimeparse,
                          normalize=lambda seconds: int(seconds * 10**9)),
            ],
        ),
        Group(
            "duration",
            'parse_duration("1h30m")',
            datetime.timedelta(seconds=5400),
            [
                *ours("duration", "parse_duration", TEXT),
                Contender("timedelta(seconds=5400) [baseline]", "baseline", _timedelta),
                Contender('pytimeparse.timeparse("1h30m")', "peer", _pytimeparse,
                          normalize=lambda seconds: datetime.timedelta(seconds=seconds)),
            ],
        ),
        Group(
            "duration",
            'parse_duration("PT1H30M")',
            datetime.timedelta(seconds=5400),
            [
                *ours("duration", "parse_duration", "PT1H30M"),
                Contender('isodate.parse_duration("PT1H30M")', "peer", _isodate),
            ],
        ),
        Group(
            "duration",
            "format_duration(5400 s)",
            "1h30m",
            ours("duration", "format_duration", NS),
        ),
    ]
