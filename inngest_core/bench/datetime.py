"""Benchmark groups for datetimes: ours against ciso8601, the standard library (fromisoformat,
email.utils, strptime), python-dateutil and pendulum."""

from __future__ import annotations

import datetime as _dt
from typing import Any, Callable

from . import Call, Contender, Group, ours

UTC = _dt.timezone.utc
VALUE = _dt.datetime(2023, 7, 18, 7, 31, tzinfo=UTC)


def _utc(value: Any) -> _dt.datetime:
    """A peer's answer as a plain aware datetime (naive answers mean UTC, as in ours)."""
    result = _dt.datetime(value.year, value.month, value.day, value.hour, value.minute,
                          value.second, value.microsecond,
                          tzinfo=value.tzinfo if value.utcoffset() is not None else UTC)
    return result


def _peer(module: str, attr: str, *args: Any) -> Callable[[], Call]:
    def make() -> Call:
        import importlib

        fn: Any = importlib.import_module(module)
        for part in attr.split("."):
            fn = getattr(fn, part)
        return Call(fn, args)

    return make


def _strptime(text: str, pattern: str) -> Callable[[], Call]:
    def make() -> Call:
        return Call(_dt.datetime.strptime, (text, pattern))

    return make


RFC3339 = "2023-07-18T07:31:00Z"

NAMED = [
    # name, text, strptime pattern
    ("RFC1123", "Tue, 18 Jul 2023 07:31:00 GMT", "%a, %d %b %Y %H:%M:%S %Z"),
    ("RFC822", "18 Jul 23 07:31 UTC", "%d %b %y %H:%M %Z"),
    ("UNIX", "Tue Jul 18 07:31:00 UTC 2023", "%a %b %d %H:%M:%S %Z %Y"),
    ("ANSIC", "Tue Jul 18 07:31:00 2023", "%a %b %d %H:%M:%S %Y"),
]


def groups() -> list[Group]:
    found = [
        Group("datetime", f'parse_datetime("{RFC3339}")  [detected]', VALUE, [
            *ours("datetime", "parse_datetime", RFC3339),
            Contender("ciso8601.parse_rfc3339", "peer", _peer("ciso8601", "parse_rfc3339",
                                                               RFC3339)),
            Contender("datetime.fromisoformat", "peer",
                      lambda: Call(_dt.datetime.fromisoformat, (RFC3339,))),
            Contender("dateutil.parser.isoparse", "peer",
                      _peer("dateutil.parser", "isoparse", RFC3339)),
            Contender("pendulum.parse", "peer", _peer("pendulum", "parse", RFC3339),
                      normalize=_utc),
            Contender("datetime.strptime", "peer",
                      _strptime(RFC3339, "%Y-%m-%dT%H:%M:%S%z")),
        ]),
        Group("datetime", f'parse_datetime("{RFC3339}", "RFC3339")', VALUE,
              ours("datetime", "parse_datetime", RFC3339, "RFC3339")),
    ]
    for name, text, pattern in NAMED:
        expected = VALUE
        found.append(Group("datetime", f'parse_datetime("{text}")  [detected]', expected, [
            *ours("datetime", "parse_datetime", text),
            Contender("email.utils.parsedate_to_datetime", "peer",
                      _peer("email.utils", "parsedate_to_datetime", text), normalize=_utc),
            Contender(f"datetime.strptime({pattern!r})", "peer", _strptime(text, pattern),
                      normalize=_utc),
            Contender("dateutil.parser.parse", "peer", _peer("dateutil.parser", "parse", text),
                      normalize=_utc),
        ]))
        found.append(Group("datetime", f'parse_datetime("{text}", "{name}")', expected,
                           ours("datetime", "parse_datetime", text, name)))
    found.append(Group("datetime", 'format_datetime(dt, "RFC3339")', RFC3339, [
        *ours("datetime", "format_datetime", VALUE, "RFC3339"),
        Contender("datetime.isoformat [baseline]", "baseline",
                  lambda: Call(VALUE.isoformat, ()), checked=False),
    ]))
    return found
