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
import math
import threading
from collections.abc import Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import _expr_py
from ._expr_ast import Node
from ._expr_subst import select_path

if TYPE_CHECKING:
    from ._expr_py import Program

__all__ = ["ExpressionIndex", "decompose"]

#: Past this many ``&&``-groups an expression is filed whole as one always-candidate group
#: (distributing ``&&`` over ``||`` can grow exponentially).
MAX_GROUPS = 64
#: Boolean operators nested deeper than this are not decomposed (bounded recursion).
MAX_DECOMPOSE_DEPTH = 64

_FLIP = {"_<_": "_>_", "_<=_": "_>=_", "_>_": "_<_", "_>=_": "_<=_", "_==_": "_==_"}
_PRIMITIVE_KINDS = frozenset({"int", "uint", "double", "string", "bytes", "bool", "null"})


class _TooComplex(Exception):
    pass


def _async_path(node: Node) -> tuple[str, ...] | None:
    """``("data", "id")`` for ``async.data.id`` / ``async["data"].id``: string keys only, the
    one kind of step whose lookup the index reproduces exactly."""
    found = select_path(node)
    if found is None or found[0] != "async" or not found[1]:
        return None
    if not all(type(key) is str for key in found[1]):
        return None
    return tuple(found[1])


def value_key(value: Any) -> Hashable | None:
    """The hash key under which ``value`` equals a literal in CEL, ``None`` when ``value`` can
    never be equal to a primitive literal (NaN, lists, maps, other types).

    Python already compares ``int`` and ``float`` by exact value with equal hashes, which is
    CEL's numeric equality; ``bool`` is tagged apart because CEL's ``true != 1``.  A string is
    its own key (no other key is a ``str``): most stored waits compare one, and a tag would
    cost a tuple per wait.
    """
    if type(value) is str:
        return value
    if value is None:
        return ("z",)
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int):
        return ("n", value)
    if isinstance(value, float):
        return None if math.isnan(value) else ("n", value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bytes):
        return ("y", value)
    return None


#: CEL compares an int with a double as doubles; below this magnitude every int is exactly a
#: double, so Python's exact comparison gives CEL's answer.  Literals past it are not filed.
EXACT_DOUBLE = 1 << 53


def _literal_key(node: Node) -> Hashable | None:
    if node[0] != "const" or node[1] not in _PRIMITIVE_KINDS:
        return None
    if node[1] in ("int", "uint", "double") and _number(node) is None:
        return None
    return value_key(node[2])


def _number(node: Node) -> int | float | None:
    if node[0] == "const" and node[1] in ("int", "uint", "double"):
        value: int | float = node[2]
        if not -EXACT_DOUBLE < value < EXACT_DOUBLE:  # NaN fails this too
            return None
        return value
    return None


def _atom(node: Node) -> tuple[Any, ...] | None:
    """``("eq", path, keys)`` or ``("range", path, op, number)`` for an indexable comparison,
    ``None`` for anything else."""
    if node[0] != "call":
        return None
    name, args = node[1], node[2]
    if name == "@in":
        path = _async_path(args[0])
        if path is None or args[1][0] != "list" or not args[1][1]:
            return None
        keys = [_literal_key(item) for item in args[1][1]]
        if any(key is None for key in keys):
            return None
        return ("eq", path, tuple(dict.fromkeys(keys)))
    if name not in _FLIP:
        return None
    left, right = args
    path = _async_path(left)
    other = right
    if path is None:
        path = _async_path(right)
        other = left
        name = _FLIP[name]
    if path is None:
        return None
    if name == "_==_":
        key = _literal_key(other)
        return None if key is None else ("eq", path, (key,))
    number = _number(other)
    return None if number is None else ("range", path, name, number)


def _dnf(node: Node, depth: int) -> list[list[Node]]:
    if node[0] == "call" and node[1] in ("_||_", "_&&_"):
        if depth > MAX_DECOMPOSE_DEPTH:
            raise _TooComplex
        left = _dnf(node[2][0], depth + 1)
        right = _dnf(node[2][1], depth + 1)
        if node[1] == "_||_":
            groups = left + right
        else:
            groups = [a + b for a in left for b in right]
        if len(groups) > MAX_GROUPS:
            raise _TooComplex
        return groups
    return [[node]]


def decompose(ast: Node) -> list[tuple[tuple[Any, ...], ...]]:
    """The ``&&``-groups of an expression, each as its indexable comparisons (equalities
    first, then ranges); an empty group has none and is always a candidate.  A group holding
    a literal ``false`` can never match and is left out.

    >>> from inngest_core._expr_py import parse
    >>> decompose(parse('async.a == "x" && async.n > 3 || f(async.b)'))
    [(('eq', ('a',), ('x',)), ('range', ('n',), '_>_', 3)), ()]
    >>> decompose(parse('async.plan in ["pro", "team"] || 5 <= async.n'))
    [(('eq', ('plan',), ('pro', 'team')),), (('range', ('n',), '_>=_', 5),)]
    """
    if ast == ("const", "bool", False):
        return []
    try:
        groups = _dnf(ast, 0)
    except _TooComplex:
        return [()]
    found: list[tuple[tuple[Any, ...], ...]] = []
    for group in groups:
        if ("const", "bool", False) in group:
            continue
        atoms = [a for a in (_atom(node) for node in group) if a is not None]
        atoms.sort(key=lambda a: a[0] != "eq")  # stable: source order within each kind
        indexable = tuple(atoms)
        if indexable not in found:
            found.append(indexable)
    return found


def _lookup(event: Any, path: tuple[str, ...]) -> Any:
    value = event
    for key in path:
        if not isinstance(value, Mapping):
            return _MISSING
        value = value.get(key, _MISSING)
        if value is _MISSING:
            return _MISSING
    return value


_MISSING: Any = object()


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

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._seq = 0
        # key -> (insertion number, program, filings: one comparison per group, or None)
        self._entries: dict[Hashable, tuple[int, Program, list[tuple[Any, ...] | None]]] = {}
        self._equal: dict[tuple[str, ...], dict[Hashable, set[Hashable]]] = {}
        self._ranges: dict[tuple[str, ...], _Ranges] = {}
        self._always: dict[Hashable, None] = {}

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
        program = (_expr_py.compile_program(expression) if isinstance(expression, str)
                   else expression)
        if event is not None:
            program = program.substitute({"event": event})
        groups = decompose(program.ast)
        with self._lock:
            if key in self._entries:
                self._unfile(key)
            filings: list[tuple[Any, ...] | None] = []
            for group in groups:
                filing = self._choose(group)
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

    def _choose(self, group: tuple[tuple[Any, ...], ...]) -> tuple[Any, ...] | None:
        """The comparison to file a group under: the equality whose buckets hold the fewest
        keys right now (``plan in ["pro"]`` shared by thousands of waits loses to
        ``user_id == "u1"``), else the first range, else none (always a candidate)."""
        if not group:
            return None
        if group[0][0] != "eq":
            return group[0]
        best: tuple[Any, ...] | None = None
        best_size = -1
        for atom in group:
            if atom[0] != "eq":
                break
            table = self._equal.get(atom[1], {})
            size = sum(len(table.get(value, ())) for value in atom[2])
            if best is None or size < best_size:
                best, best_size = atom, size
        return best

    def _file(self, key: Hashable, seq: int, filing: tuple[Any, ...] | None) -> None:
        if filing is None:
            self._always[key] = None
        elif filing[0] == "eq":
            table = self._equal.setdefault(filing[1], {})
            for value in filing[2]:
                table.setdefault(value, set()).add(key)
        else:
            ranges = self._ranges.setdefault(filing[1], _Ranges())
            bisect.insort(ranges.lists[filing[2]], (filing[3], seq, key))

    def _unfile(self, key: Hashable) -> None:
        seq, _, filings = self._entries[key]
        for filing in filings:
            if filing is None:
                self._always.pop(key, None)
            elif filing[0] == "eq":
                table = self._equal[filing[1]]
                for value in filing[2]:
                    keys = table[value]
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
        with self._lock:
            for path, table in self._equal.items():
                key = value_key(_lookup(async_event, path))
                if key is not None:
                    hits = table.get(key)
                    if hits:
                        found.update(hits)
            for path, ranges in self._ranges.items():
                value = _lookup(async_event, path)
                if isinstance(value, (int, float)) and not isinstance(value, bool) \
                        and value == value:
                    ranges.candidates(value, found)
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
