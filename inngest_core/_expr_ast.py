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

#: Words CEL reserves: no variable or global function may be named so (fields and methods
#: may).  Both parsers reject them; ``match_expression`` too.
RESERVED = frozenset(
    {
        "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let",
        "loop", "package", "namespace", "return", "var", "void", "while",
    }
)
#: Words that are tokens of their own wherever they stand.
KEYWORDS = frozenset({"in", "true", "false", "null"})
#: The macros ``target.m(x, predicate)``; ``map`` takes two or three arguments.
COMPREHENSIONS = frozenset({"all", "exists", "exists_one", "filter"})

#: Precedence levels, loosest first (the unparser parenthesizes by them; the compiled parser
#: reduces by them).
TERNARY, OR, AND, RELATION, ADD, MULTIPLY, UNARY, MEMBER = range(1, 9)
#: The binary operators: (name, symbol, level), in the compiled parser's token order.
BINARY_OPERATORS: tuple[tuple[str, str, int], ...] = (
    ("_||_", "||", OR), ("_&&_", "&&", AND),
    ("_==_", "==", RELATION), ("_!=_", "!=", RELATION), ("_<_", "<", RELATION),
    ("_<=_", "<=", RELATION), ("_>_", ">", RELATION), ("_>=_", ">=", RELATION),
    ("@in", "in", RELATION),
    ("_+_", "+", ADD), ("_-_", "-", ADD),
    ("_*_", "*", MULTIPLY), ("_/_", "/", MULTIPLY), ("_%_", "%", MULTIPLY),
)
#: name -> (symbol, level)
BINARY = {name: (symbol, level) for name, symbol, level in BINARY_OPERATORS}

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
        if level > deepest:
            deepest = level
        level += 1
        kind = item[0]
        if kind == "select" or kind == "has":
            stack.append((item[1], level))
        elif kind == "call":
            stack.extend([(child, level) for child in item[2]])
        elif kind == "list":
            stack.extend([(child, level) for child in item[1]])
        elif kind == "method":
            stack.append((item[2], level))
            stack.extend([(child, level) for child in item[3]])
        elif kind == "map":
            for key, value in item[1]:
                stack.append((key, level))
                stack.append((value, level))
        elif kind == "struct":
            stack.extend([(value, level) for _, value in item[2]])
        elif kind == "comprehension":
            stack.append((item[2], level))
            stack.extend([(child, level) for child in item[4]])
    return deepest


def select_path(node: Node) -> tuple[str, list[Any]] | None:
    """``("event", ["data", "id"])`` for ``event.data.id`` or ``event["data"].id``.

    >>> select_path(("select", ("ident", "event"), "id"))
    ('event', ['id'])
    """
    path: list[Any] = []
    while True:
        kind = node[0]
        if kind == "select":
            path.append(node[2])
            node = node[1]
        elif kind == "call" and node[1] == "_[_]" and node[2][1][0] == "const" and \
                node[2][1][1] in ("string", "int", "uint", "bool"):
            path.append(node[2][1][2])
            node = node[2][0]
        elif kind == "ident":
            path.reverse()
            return node[1], path
        else:
            return None


def free_names(node: Node, types: Any = ()) -> tuple[frozenset[str], tuple[str, ...]]:
    """The free variable names of a tree (without a leading dot; the names in ``types`` are
    type names, not variables) and, sorted, the dotted names its select chains could mean
    when an activation names a variable with dots (``a.b`` for ``a.b.c``).  No recursion.

    >>> free_names(("select", ("select", ("ident", "a"), "b"), "c"))
    (frozenset({'a'}), ('a.b', 'a.b.c'))
    """
    free: set[str] = set()
    dotted: set[str] = set()
    stack: list[tuple[Any, frozenset[str]]] = [(node, frozenset())]
    while stack:
        item, bound = stack.pop()
        kind = item[0]
        if kind == "ident":
            name = item[1].lstrip(".")
            if item[1] not in bound and name not in types:
                free.add(name)
        elif kind == "select":
            fields = []
            operand = item
            while operand[0] == "select":
                fields.append(operand[2])
                operand = operand[1]
            if operand[0] == "ident" and operand[1] not in bound:
                fields.reverse()
                root = operand[1].lstrip(".")
                for i in range(1, len(fields) + 1):
                    dotted.add(".".join([root] + fields[:i]))
            stack.append((operand, bound))
        elif kind == "has":
            stack.append((item[1], bound))
        elif kind == "call":
            stack.extend([(arg, bound) for arg in item[2]])
        elif kind == "method":
            stack.append((item[2], bound))
            stack.extend([(arg, bound) for arg in item[3]])
        elif kind == "list":
            stack.extend([(element, bound) for element in item[1]])
        elif kind == "map":
            for key, value in item[1]:
                stack.append((key, bound))
                stack.append((value, bound))
        elif kind == "struct":
            stack.extend([(value, bound) for _, value in item[2]])
        elif kind == "comprehension":
            stack.append((item[2], bound))
            inner = bound | {item[3]}
            stack.extend([(arg, inner) for arg in item[4]])
    return frozenset(free), tuple(sorted([n for n in dotted if "." in n]))


def has_comprehension(node: Node) -> bool:
    """Does the tree hold a macro (whose variables need scopes when evaluated)?"""
    stack: list[Any] = [node]
    while stack:
        item = stack.pop()
        if type(item) is tuple:
            if item and item[0] == "comprehension":
                return True
            stack.extend(child for child in item if type(child) is tuple)
    return False
