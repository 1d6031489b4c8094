"""The CEL abstract syntax tree both expression twins produce: plain, hashable tuples.

The Lark twin (``_expr_py``) and the hand-written compiled parser (``_expr_c``) must return
equal trees for every source; a test compares them.  Nodes:

``("const", kind, value)``
    ``kind`` is ``"int"``, ``"uint"``, ``"double"``, ``"string"``, ``"bytes"``, ``"bool"`` or
    ``"null"``; ``value`` the Python value (``int`` for int and uint, ``float``, ``str``,
    ``bytes``, ``bool``, ``None``).  A ``-`` written directly before an int or double literal
    is folded into it (``-9223372036854775808`` is an int literal, as in cel-go's grammar).
``("ident", name)``
    a free variable or type name; a leading dot (``.x``) is kept in ``name``.
``("select", operand, field)``
    ``operand.field`` (backtick-quoted fields arrive unquoted).
``("has", operand, field)``
    the ``has(operand.field)`` macro: a presence test.
``("call", function, args)``
    a global function or an operator; ``args`` is a tuple.  Operators use cel-go's names:
    ``_?_:_  _||_  _&&_  _==_  _!=_  _<_  _<=_  _>_  _>=_  @in  _+_  _-_  _*_  _/_  _%_  !_  -_
    _[_]`` (indexing).  ``&&``/``||`` chains are left-associative binary calls.
``("method", function, target, args)``
    ``target.function(args...)``.
``("list", elements)``, ``("map", entries)``
    ``entries`` is a tuple of ``(key, value)`` pairs, in source order.
``("struct", type_name, fields)``
    a message literal ``T{f: v}``; ``fields`` a tuple of ``(name, value)``.  Evaluating one is an
    error: there are no protobuf messages here.
``("comprehension", macro, target, var, args)``
    ``target.all(x, p)``, ``exists``, ``exists_one``, ``filter`` (``args == (p,)``), ``map``
    with two arguments (``args == (transform,)``) or three (``args == (predicate, transform)``).
"""

from __future__ import annotations

from typing import Any

Node = tuple[Any, ...]

OPERATORS = frozenset(
    {
        "_?_:_", "_||_", "_&&_", "_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_", "@in",
        "_+_", "_-_", "_*_", "_/_", "_%_", "!_", "-_", "_[_]",
    }
)
MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})

#: The deepest tree either twin compiles and evaluates, whatever ``max_depth`` a caller asks
#: for: both recurse once per level (the compiled twin on the C stack), and past this a raised
#: limit could exhaust the stack.  A deeper expression is an ``ExpressionLimitError``.
MAX_NESTING = 1000


def height(node: Node) -> int:
    """The height of a tree, without recursion.

    >>> height(("call", "_+_", (("ident", "a"), ("const", "int", 1))))
    2
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(node, 1)]
    while stack:
        item, level = stack.pop()
        if type(item) is tuple and item and type(item[0]) is str and item[0] in _KINDS:
            deepest = max(deepest, level)
            level += 1
        for child in item if type(item) is tuple else ():
            if type(child) is tuple:
                stack.append((child, level))
    return deepest


_KINDS = frozenset({"const", "ident", "select", "has", "call", "method", "list", "map",
                    "struct", "comprehension"})
