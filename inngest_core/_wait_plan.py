"""The wait index's planner, shared by both twins (it runs once per registration): an
expression's ``&&``-groups and the comparisons they can be filed under, the hash key of a
value as CEL compares it, the filing choice, and how an incoming event is read.

The twins (``_wait_py.py``, ``src_pyx/_wait_c.pyx``) keep the filings and answer ``match``.
An event is read as the evaluator reads an activation (``_expr_lib.owned``): no method of an
object the package does not own is ever called; such a value is simply not filed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from typing import Any

from ._expr_ast import Node, select_path
from ._expr_lib import owned
from .errors import EvaluationError

__all__ = ["plan", "decompose", "value_key", "choose", "lookup", "range_value", "MISSING"]

#: Past this many ``&&``-groups an expression is filed whole as one always-candidate group
#: (distributing ``&&`` over ``||`` can grow exponentially).
MAX_GROUPS = 64
#: Boolean operators nested deeper than this are not decomposed (bounded recursion).
MAX_DECOMPOSE_DEPTH = 64

_FLIP = {"_<_": "_>_", "_<=_": "_>=_", "_>_": "_<_", "_>=_": "_<=_", "_==_": "_==_"}
_PRIMITIVE_KINDS = frozenset({"int", "uint", "double", "string", "bytes", "bool", "null"})
#: The literal ``false``: an expression or ``&&``-group holding it never matches.
_FALSE = ("const", "bool", False)


class _TooComplex(Exception):
    pass


def _async_path(node: Node) -> tuple[str, ...] | None:
    """``("data", "id")`` for ``async.data.id`` / ``async["data"].id``: string keys only, the
    one kind of step whose lookup the index reproduces exactly."""
    if node[0] != "select" and node[0] != "call":  # a literal, a name: no path (cheap no)
        return None
    found = select_path(node)
    if found is None or found[0] != "async" or not found[1]:
        return None
    for key in found[1]:  # a loop, not all(<generator>): this runs once per stored wait
        if type(key) is not str:
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
    kind = type(value)  # the class is compared, the value never asked (see _expr_lib.owned)
    if kind is str:
        return str.__str__(value)
    if value is None:
        return ("z",)
    if kind is bool:
        return ("b", value)
    if kind is int:
        return ("n", value)
    if issubclass(kind, int):
        return ("n", int.__index__(value))
    if issubclass(kind, float):
        number = float.__float__(value)
        return None if math.isnan(number) else ("n", number)
    if issubclass(kind, str):
        return str.__str__(value)
    if issubclass(kind, bytes):
        return ("y", bytes.__bytes__(value))
    return None


#: CEL compares an int with a double as doubles; below this magnitude every int is exactly a
#: double, so Python's exact comparison gives CEL's answer.  Literals past it are not filed.
EXACT_DOUBLE = 1 << 53


def _literal_key(node: Node) -> Hashable | None:
    if node[0] != "const" or node[1] not in _PRIMITIVE_KINDS:
        return None
    if type(node[2]) is str:  # a string literal, most stored waits: its own key (value_key)
        return node[2]
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
    if ast == _FALSE:
        return []
    if ast[0] != "call" or (ast[1] != "_||_" and ast[1] != "_&&_"):
        # One comparison, what most stored waits are: its one group without the DNF's lists.
        atom = _atom(ast)
        return [() if atom is None else (atom,)]
    try:
        groups = _dnf(ast, 0)
    except _TooComplex:
        return [()]
    found: list[tuple[tuple[Any, ...], ...]] = []
    for group in groups:
        if _FALSE in group:
            continue
        # Equalities first, then ranges, each kind in source order (what a stable sort on
        # "is not an equality" gives, without a key function per group).
        equal: list[tuple[Any, ...]] = []
        ranged: list[tuple[Any, ...]] = []
        for node in group:
            atom = _atom(node)
            if atom is not None:
                (equal if atom[0] == "eq" else ranged).append(atom)
        indexable = tuple(equal + ranged) if ranged else tuple(equal)
        if indexable not in found:
            found.append(indexable)
    return found


#: ``(program, its groups)``, what :func:`plan` gives and an index keeps.
Planned = tuple[Any, tuple[tuple[tuple[Any, ...], ...], ...]]


def plan(program: Any, last: Planned | None) -> Planned:
    """``(program, its groups)`` (see :func:`decompose`; a dialect program is planned on its
    ``plan_ast``).  ``last`` is the pair an index kept from its previous add: when it is the
    same program object it is returned as is, so one program added for many waits is read
    and decomposed once (a compiled program re-parses its source each time its tree is
    asked for).  Programs are immutable, so a program's groups never go stale.

    >>> from inngest_core._expr_py import compile_program
    >>> program = compile_program('async.id == "a" || async.n > 1')
    >>> planned = plan(program, None)
    >>> planned[1]
    ((('eq', ('id',), ('a',)),), (('range', ('n',), '_>_', 1),))
    >>> plan(program, planned) is planned
    True
    """
    if last is not None and last[0] is program:
        return last
    tree = getattr(program, "plan_ast", None)  # a dialect program's; else the CEL tree
    return program, tuple(decompose(program.ast if tree is None else tree))


MISSING: Any = object()


def lookup(event: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` in an event (dicts of owned keys only), or :data:`MISSING`."""
    value = event
    for key in path:
        if type(value) is not dict:
            try:
                value = owned(value)
            except EvaluationError:
                return MISSING
            if type(value) is not dict:
                return MISSING
        else:
            try:
                owned(value)  # checks its keys
            except EvaluationError:
                return MISSING
        value = value.get(key, MISSING)
        if value is MISSING:
            return MISSING
    return value


def range_value(value: Any) -> int | float | None:
    """A number a range filing compares with (exact ``int``/``float``), else ``None``."""
    kind = type(value)
    if kind is int:
        return value  # type: ignore[no-any-return]
    if kind is float:
        return None if value != value else value
    if kind is bool:
        return None
    if issubclass(kind, int):
        return int.__index__(value)
    if issubclass(kind, float):
        number = float.__float__(value)
        return None if math.isnan(number) else number
    return None


def choose(group: tuple[tuple[Any, ...], ...],
           held: Callable[[tuple[str, ...], Hashable], int]) -> tuple[Any, ...] | None:
    """The comparison to file a group under: the equality whose buckets hold the fewest
    keys right now (``plan in ["pro"]`` shared by thousands of waits loses to
    ``user_id == "u1"``), else the first range, else none (always a candidate).
    ``held(path, value key)`` is how many keys a twin's bucket holds."""
    if not group:
        return None
    first = group[0]
    if first[0] != "eq" or len(group) == 1 or group[1][0] != "eq":
        return first  # a range, or the only equality: no bucket needs counting
    best: tuple[Any, ...] | None = None
    best_size = -1
    for atom in group:
        if atom[0] != "eq":
            break
        path = atom[1]
        size = 0
        for value in atom[2]:
            size += held(path, value)
        if best is None or size < best_size:
            best, best_size = atom, size
    return best
