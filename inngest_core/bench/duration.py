"""Benchmark groups for durations: ours against pytimeparse, isodate, whenever and plain
Python."""

from __future__ import annotations

import datetime
from . import Call, Contender, Group, ours

TEXT = "1h30m"
NS = 5_400_000_000_000


def _pytimeparse() -> Call:
    from pytimeparse import timeparse

    return Call(timeparse.timeparse, (TEXT,))


def _isodate() -> Call:
    import isodate

    return Call(isodate.parse_duration, ("PT1H30M",))


def _whenever() -> Call:
    import whenever

    return Call(whenever.TimeDelta.parse_iso, ("PT1H30M",))


def _int() -> Call:
    return Call(int, ("5400",))


def _timedelta() -> Call:
    return Call(datetime.timedelta, (), (("seconds", 5400),))


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
            'parse_duration_ns("PT1H30M")',
            NS,
            [
                *ours("duration", "parse_duration_ns", "PT1H30M"),
                Contender('whenever.TimeDelta.parse_iso("PT1H30M")', "peer", _whenever,
                          normalize=lambda delta: delta.total("nanoseconds")),
                Contender('isodate.parse_duration("PT1H30M")', "peer", _isodate,
                          normalize=lambda delta: delta // datetime.timedelta(microseconds=1)
                          * 1000),
            ],
        ),
        Group(
            "duration",
            'parse_duration("PT1H30M")',
            datetime.timedelta(seconds=5400),
            [
                *ours("duration", "parse_duration", "PT1H30M"),
                Contender('isodate.parse_duration("PT1H30M")', "peer", _isodate),
                Contender('whenever.TimeDelta.parse_iso("PT1H30M")', "peer", _whenever,
                          normalize=lambda delta: delta.to_stdlib()),
            ],
        ),
        Group(
            "duration",
            "format_duration(5400 s)",
            "1h30m",
            ours("duration", "format_duration", NS),
        ),
    ]
