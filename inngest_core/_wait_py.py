"""Pure-Python twin of the wait index (the compiled twin is ``src_pyx/_wait_c.pyx``).

An :class:`ExpressionIndex` holds many stored ``if`` expressions and answers, for one incoming
event, which of them it resumes -- without evaluating them all.  Each expression is split into
``||``-alternatives of ``&&``-groups (disjunctive normal form over the boolean operators).  A
group can only be exactly ``true`` when every comparison in it is, so it is filed under one
comparison of an ``async.*`` path against a literal:

* ``async.p == literal`` and ``async.p in [literals]`` in a hash table per path, keyed by the
  value as CEL compares it (``1 == 1.0``, but ``true != 1``);
* ``async.p < <= > >= number`` in sorted threshold lists per path;
* a group with neither (functions, macros, field-to-field comparisons) is always a candidate.

The candidates an event reaches are then confirmed with a full evaluation, so the answer is
exactly that of evaluating every stored program; only the cost differs.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import _expr_py
from ._wait_plan import MISSING, Planned, choose, decompose, lookup, plan, range_value
from ._wait_plan import value_key

if TYPE_CHECKING:
    from ._expr_py import Program

__all__ = ["ExpressionIndex", "decompose"]

class _Ranges:
    """Thresholds of one path, one sorted list per operator: ``(threshold, seq, key)``."""

    __slots__ = ("lists",)

    def __init__(self) -> None:
        self.lists: dict[str, list[tuple[Any, int, Hashable]]] = {
            "_<_": [], "_<=_": [], "_>_": [], "_>=_": []}

    def candidates(self, value: int | float, out: set[Hashable]) -> None:
        # async.p > t holds for t < value; >= for t <= value; < for t > value; <= for t >= value.
        gt, ge, lt, le = (self.lists[op] for op in ("_>_", "_>=_", "_<_", "_<=_"))
        probe_low = (value, -1)
        probe_high = (value, 1 << 62)
        out.update(entry[2] for entry in gt[: bisect.bisect_left(gt, probe_low)])
        out.update(entry[2] for entry in ge[: bisect.bisect_right(ge, probe_high)])
        out.update(entry[2] for entry in lt[bisect.bisect_right(lt, probe_high):])
        out.update(entry[2] for entry in le[bisect.bisect_left(le, probe_low):])


class ExpressionIndex:
    """Stored wait expressions, keyed by any hashable, matched against incoming events.

    >>> index = ExpressionIndex()
    >>> index.add("wait-1", 'async.data.user_id == "u1"')
    >>> index.add("wait-2", "event.data.id == async.data.user_id", event={"data": {"id": "u2"}})
    >>> index.add("wait-3", 'async.data.amount > 100 || async.data.plan in ["pro"]')
    >>> index.match({"data": {"user_id": "u2", "amount": 500}})
    ['wait-2', 'wait-3']
    >>> len(index), "wait-1" in index
    (3, True)
    >>> index.remove("wait-3")
    >>> index.match({"data": {"user_id": "u2", "amount": 500}})
    ['wait-2']
    """

    def __init__(self, dialect: str = "cel") -> None:
        if dialect not in ("cel", "inngest"):
            raise ValueError(f"unknown dialect {dialect!r}; the dialects are cel, inngest")
        #: ``"inngest"``: expressions are compiled and matched in Inngest's dialect, where a
        #: missing field equals ``null`` and orders below every number (R4/R7), so such
        #: events also reach the ``== null`` and ``<``/``<=`` filings.
        self.dialect = dialect
        self._lock = threading.RLock()
        self._seq = 0
        # key -> (insertion number, program, filings: one comparison per group, or None)
        self._entries: dict[Hashable, tuple[int, Program, list[tuple[Any, ...] | None]]] = {}
        self._equal: dict[tuple[str, ...], dict[Hashable, set[Hashable]]] = {}
        self._ranges: dict[tuple[str, ...], _Ranges] = {}
        self._always: dict[Hashable, None] = {}
        #: The last program added and its groups (see ``_wait_plan.plan``): adding it again
        #: does not decompose it again.
        self._planned: Planned | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __repr__(self) -> str:
        return f"<ExpressionIndex of {len(self._entries)} expressions>"

    def add(self, key: Hashable, expression: str | Program, *,
            event: Mapping[str, Any] | None = None) -> None:
        """Store ``expression`` under ``key`` (replacing what ``key`` had), substituting the
        triggering ``event`` first when given."""
        if isinstance(expression, str):
            if self.dialect == "inngest":
                from ._expr_dialect import compile_dialect

                program: Any = compile_dialect(expression)
            else:
                program = _expr_py.compile_program(expression)
        else:
            program = expression
        if getattr(program, "dialect", "cel") != self.dialect:
            raise ValueError(f"a program of the {getattr(program, 'dialect', 'cel')} dialect "
                             f"in an index of the {self.dialect} dialect")
        if event is not None:
            program = program.substitute({"event": event})
        self._planned = planned = plan(program, self._planned)
        groups = planned[1]
        with self._lock:
            if key in self._entries:
                self._unfile(key)
            filings: list[tuple[Any, ...] | None] = []
            for group in groups:
                filing = choose(group, self._held)
                if filing not in filings:
                    filings.append(filing)
            self._seq += 1
            self._entries[key] = (self._seq, program, filings)
            for filing in filings:
                self._file(key, self._seq, filing)

    def remove(self, key: Hashable) -> None:
        """Forget ``key``; a ``KeyError`` if it is not stored."""
        with self._lock:
            if key not in self._entries:
                raise KeyError(key)
            self._unfile(key)
            del self._entries[key]

    def _held(self, path: tuple[str, ...], value: Hashable) -> int:
        table = self._equal.get(path)  # no empty dict made for an unfiled path
        return 0 if table is None else len(table.get(value, ()))

    def _file(self, key: Hashable, seq: int, filing: tuple[Any, ...] | None) -> None:
        if filing is None:
            self._always[key] = None
        elif filing[0] == "eq":
            table = self._equal.setdefault(filing[1], {})
            for value in filing[2]:
                keys = table.get(value)
                if keys is None:  # not setdefault(value, set()): no new set per filing
                    table[value] = {key}
                else:
                    keys.add(key)
        else:
            ranges = self._ranges.setdefault(filing[1], _Ranges())
            bisect.insort(ranges.lists[filing[2]], (filing[3], seq, key))

    def _unfile(self, key: Hashable) -> None:
        seq, _, filings = self._entries[key]
        for filing in filings:
            if filing is None:
                self._always.pop(key, None)
            elif filing[0] == "eq":
                # Two filings of one key may hold the same value (``a in ["x", "y"] ||
                # a == "x"``): the first one unfiled may have emptied the bucket or the path.
                table = self._equal.get(filing[1])
                if table is None:
                    continue
                for value in filing[2]:
                    keys = table.get(value)
                    if keys is None:
                        continue
                    keys.discard(key)
                    if not keys:
                        del table[value]
                if not table:
                    del self._equal[filing[1]]
            else:
                entries = self._ranges[filing[1]].lists[filing[2]]
                del entries[bisect.bisect_left(entries, (filing[3], seq))]

    def candidates(self, async_event: Mapping[str, Any]) -> list[Hashable]:
        """The keys whose filing the event reaches, before confirmation (for inspection)."""
        found: set[Hashable] = set()
        dialect = self.dialect == "inngest"
        with self._lock:
            for path, table in self._equal.items():
                value = lookup(async_event, path)
                if value is MISSING and dialect:
                    value = None  # unknown == null is true (unknown.go: handleUnknownCall)
                key = value_key(value)
                if key is not None:
                    hits = table.get(key)
                    if hits:
                        found.update(hits)
            for path, ranges in self._ranges.items():
                value = lookup(async_event, path)
                if dialect and value is MISSING:
                    # unknown < x and unknown <= x are true (handleUnknownCall)
                    lists = ranges.lists
                    found.update(entry[2] for entry in lists["_<_"])
                    found.update(entry[2] for entry in lists["_<=_"])
                    continue
                if dialect and value is None:
                    value = 0  # null orders as the other operand's zero (unknown.go: zeroVal)
                number = range_value(value)
                if number is not None:
                    ranges.candidates(number, found)
            found.update(self._always)
            return sorted(found, key=lambda k: self._entries[k][0])

    def match(self, async_event: Mapping[str, Any]) -> list[Hashable]:
        """The keys whose expression matches ``{"async": async_event}``, in insertion order."""
        with self._lock:
            keys = self.candidates(async_event)
            programs = [self._entries[k][1] for k in keys]
        activation = {"async": async_event}
        return [k for k, program in zip(keys, programs) if program.matches(activation)]

    def programs(self) -> Iterable[tuple[Hashable, Program]]:
        """Every stored ``(key, program)`` in insertion order (a snapshot)."""
        with self._lock:
            return [(k, entry[1]) for k, entry in self._entries.items()]
