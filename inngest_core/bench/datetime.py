"""Benchmark groups for datetimes: ours against ciso8601, the standard library (fromisoformat,
email.utils, strptime), python-dateutil, pendulum and whenever.

Besides one fixed text per case, the RFC 3339 case is timed over a pool of ``POOL_SIZE``
distinct texts, so that nothing a parser may keep from one call to the next (a cached result,
warm branch history for one input) flatters it.  Every contender of a pool group is the same
``Call(_last, (fn, pool))``: ``fn`` mapped over the whole pool from C (``map`` into a
``deque(maxlen=1)``), so the rotation costs every contender the same few nanoseconds per text
and no Python-level loop is counted.  A pool row's time is for one pass, ``POOL_SIZE`` parses;
its answer is the last text's value, and before that ``make`` checks every text's answer
against the standard library's.
"""

from __future__ import annotations

import datetime as _dt
from collections import deque
from typing import Any, Callable

from . import Call, Contender, Group, Timed, ours

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

POOL_SIZE = 1_000
#: Distinct RFC 3339 instants spread over about a century: every field varies.
POOL_VALUES = [_dt.datetime(1970, 1, 1, tzinfo=UTC) + _dt.timedelta(seconds=i * 3_155_813)
               for i in range(1, POOL_SIZE)] + [VALUE]
RFC3339_POOL = [v.strftime("%Y-%m-%dT%H:%M:%SZ") for v in POOL_VALUES]


def _last(fn: Callable[[str], Any], pool: list[str]) -> Any:
    """``fn`` over every text of ``pool``, driven from C; the last answer."""
    return deque(map(fn, pool), maxlen=1)[0]


def _pool(make: Callable[[], Timed], pool: list[str], values: list[_dt.datetime],
          normalize: Callable[[Any], Any] | None = None) -> Callable[[], Call]:
    """A pool row for the contender ``make`` builds for one text: its function over ``pool``,
    each answer checked against ``values`` first."""

    def pooled() -> Call:
        made = make()
        assert isinstance(made, Call), "a pool row maps a contender's function"
        fn = made.fn
        for text, value in zip(pool, values):
            got = fn(text)
            got = normalize(got) if normalize is not None else got
            assert got == value and got.utcoffset() == value.utcoffset(), (text, got, value)
        return Call(_last, (fn, pool))

    return pooled


def _whenever_rfc2822(text: str) -> Callable[[], Call]:
    def make() -> Call:
        import whenever

        return Call(whenever.OffsetDateTime.parse_rfc2822, (text,))

    return make


def _stdlib(value: Any) -> _dt.datetime:
    """A whenever answer as the standard library's datetime."""
    result: _dt.datetime = value.to_stdlib()
    return result

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
        Group("datetime", f"parse_datetime over {POOL_SIZE:,} distinct RFC 3339 texts"
              f" (one pass)  [detected]", VALUE, [
                  *[Contender(c.label, c.kind, _pool(c.make, RFC3339_POOL, POOL_VALUES))
                    for c in ours("datetime", "parse_datetime", RFC3339)],
                  Contender("ciso8601.parse_rfc3339", "peer",
                            _pool(_peer("ciso8601", "parse_rfc3339", RFC3339), RFC3339_POOL,
                                  POOL_VALUES)),
                  Contender("datetime.fromisoformat", "peer",
                            _pool(lambda: Call(_dt.datetime.fromisoformat, (RFC3339,)),
                                  RFC3339_POOL, POOL_VALUES)),
              ]),
    ]
    for name, text, pattern in NAMED:
        expected = VALUE
        found.append(Group("datetime", f'parse_datetime("{text}")  [detected]', expected, [
            *ours("datetime", "parse_datetime", text),
            Contender("email.utils.parsedate_to_datetime", "peer",
                      _peer("email.utils", "parsedate_to_datetime", text), normalize=_utc),
            *([Contender("whenever.OffsetDateTime.parse_rfc2822", "peer",
                         _whenever_rfc2822(text), normalize=_stdlib)]
              if name in ("RFC1123", "RFC822") else []),
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
