"""AST utilities shared by both expression twins: CEL source from a tree, and substitution.

:func:`unparse` writes a :mod:`~inngest_core._expr_ast` tree back as CEL source that parses
to the same tree (parentheses only where precedence needs them).  :func:`substitute` replaces
every selection rooted at a bound variable with the literal it selects -- what Inngest does
with the triggering ``event`` before it stores a wait -- and folds what becomes constant.

>>> tree = ("call", "_==_", (("select", ("ident", "event"), "id"),
...                         ("select", ("ident", "async"), "id")))
>>> unparse(substitute(tree, {"event": {"id": "ab_1"}}))
'"ab_1" == async.id'
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from ._expr_ast import BINARY as _BINARY
from ._expr_ast import KEYWORDS, MAX_NESTING, Node, select_path
from ._expr_ast import RESERVED as _RESERVED
from ._expr_ast import MEMBER as _MEMBER, OR as _OR, TERNARY as _TERNARY, UNARY as _UNARY
from ._expr_lib import UInt, check_keys, foreign, owned, plain_mapping, show_int
from .errors import EvaluationError, depth_limit_error

__all__ = ["literal", "select_path", "substitute", "unparse"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
RESERVED = _RESERVED | KEYWORDS  # a field named so is written in backticks

# A child binding more loosely (a lower level of _expr_ast) than its slot needs is
# parenthesised.


# ----------------------------------------------------------------------------- literals


def _string(value: str) -> str:
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif 0xD800 <= code <= 0xDFFF:
            raise EvaluationError(f"unsupported value: a lone surrogate U+{code:04X} in a string")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _bytes(value: bytes) -> str:
    out = ['b"']
    for byte in value:
        if byte in (0x22, 0x5C):
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\x{byte:02x}")
    out.append('"')
    return "".join(out)


def _double(value: float) -> str:
    if math.isnan(value):
        return 'double("NaN")'
    if math.isinf(value):
        return 'double("Infinity")' if value > 0 else 'double("-Infinity")'
    text = repr(value)
    if "e" not in text and "." not in text:
        text += ".0"
    return text


def _rfc3339(value: datetime) -> str:
    if value.tzinfo is None:  # naive means UTC, as the evaluator reads it
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    text = (f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def literal(value: object) -> Node:
    """The AST literal for a Python value, converted as the evaluator converts activations.

    >>> literal("x"), literal(True), literal(None)
    (('const', 'string', 'x'), ('const', 'bool', True), ('const', 'null', None))
    >>> literal([1, 2.5])
    ('list', (('const', 'int', 1), ('const', 'double', 2.5)))
    """
    value = owned(value)  # exact builtin types only; a foreign object is an error
    kind = type(value)
    if value is None:
        return ("const", "null", None)
    if kind is bool:
        return ("const", "bool", value)
    if kind is UInt:
        if not 0 <= value < 1 << 64:  # type: ignore[operator]
            raise EvaluationError("unsupported value: uint out of range")
        return ("const", "uint", int(value))  # type: ignore[call-overload]
    if kind is int:
        if not -(1 << 63) <= value < 1 << 63:  # type: ignore[operator]
            raise EvaluationError(
                f"unsupported value: int {show_int(value)} out of the int64 range")  # type: ignore[arg-type]
        return ("const", "int", value)
    if kind is float:
        if math.isnan(value):  # type: ignore[arg-type]
            return ("call", "double", (("const", "string", "NaN"),))
        if math.isinf(value):  # type: ignore[arg-type]
            return ("call", "double", (("const", "string", "Infinity" if value > 0 else "-Infinity"),))  # type: ignore[operator]
        return ("const", "double", value)
    if kind is str:
        return ("const", "string", value)
    if kind is bytes:
        return ("const", "bytes", value)
    if kind is list or kind is tuple:
        return ("list", tuple(literal(item) for item in value))  # type: ignore[attr-defined]
    if kind is dict:
        entries = []
        for key, item in value.items():  # type: ignore[attr-defined]
            key_kind = type(key)
            if not (key_kind is str or key_kind is int or key_kind is bool or key_kind is UInt):
                raise EvaluationError(
                    f"unsupported value: map key of type {key_kind.__name__}")
            entries.append((literal(key), literal(item)))
        return ("map", tuple(entries))
    if kind is datetime:
        return ("call", "timestamp", (("const", "string", _rfc3339(value)),))  # type: ignore[arg-type]
    if kind is timedelta:
        micros = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds  # type: ignore[attr-defined]
        seconds = f"{'-' if micros < 0 else ''}{abs(micros) // 1_000_000}"
        fraction = abs(micros) % 1_000_000
        text = seconds + (f".{fraction:06d}".rstrip("0") if fraction else "") + "s"
        return ("call", "duration", (("const", "string", text),))
    raise foreign(kind)  # one of the package's own CEL values: not data


# ----------------------------------------------------------------------------- unparse


def _field(name: str) -> str:
    if _IDENTIFIER.match(name) and name not in RESERVED:
        return name
    return "`" + name + "`"


def _precedence(node: Node) -> int:
    kind = node[0]
    if kind == "call":
        name = node[1]
        if name == "_?_:_":
            return _TERNARY
        if name in _BINARY:
            return _BINARY[name][1]
        if name in ("!_", "-_"):
            return _UNARY
    if kind == "const" and node[1] in ("int", "double") and _is_negative(node[2]):
        return _UNARY  # "-1" reads as a folded literal, but "-1.x" would not
    return _MEMBER


def _is_negative(value: Any) -> bool:
    return value < 0 or (value == 0 and math.copysign(1.0, value) < 0)


def _wrap(node: Node, needed: int) -> str:
    text = unparse(node)
    return f"({text})" if _precedence(node) < needed else text


def _target(node: Node) -> str:
    """A node written before ``.`` or ``[``: literals are parenthesised (``(1).x``, not the
    double ``1.``)."""
    if node[0] == "const":
        return f"({unparse(node)})"
    return _wrap(node, _MEMBER)


def unparse(node: Node) -> str:
    """CEL source for ``node`` that parses back to an equal tree.

    >>> unparse(("call", "_*_", (("call", "_+_", (("ident", "a"), ("const", "int", 1))),
    ...                          ("const", "int", 2))))
    '(a + 1) * 2'
    """
    kind = node[0]
    if kind == "const":
        what, value = node[1], node[2]
        if what == "null":
            return "null"
        if what == "bool":
            return "true" if value else "false"
        if what == "int":
            return str(value)
        if what == "uint":
            return f"{value}u"
        if what == "double":
            return _double(value)
        if what == "string":
            return _string(value)
        return _bytes(value)
    if kind == "ident":
        return str(node[1])
    if kind == "select":
        return f"{_target(node[1])}.{_field(node[2])}"
    if kind == "has":
        return f"has({_target(node[1])}.{_field(node[2])})"
    if kind == "method":
        args = ", ".join(unparse(arg) for arg in node[3])
        return f"{_target(node[2])}.{node[1]}({args})"
    if kind == "list":
        return "[" + ", ".join(unparse(item) for item in node[1]) + "]"
    if kind == "map":
        return "{" + ", ".join(f"{unparse(k)}: {unparse(v)}" for k, v in node[1]) + "}"
    if kind == "struct":
        fields = ", ".join(f"{_field(name)}: {unparse(value)}" for name, value in node[2])
        return f"{node[1]}{{{fields}}}"
    if kind == "comprehension":
        args = ", ".join([node[3], *(unparse(arg) for arg in node[4])])
        return f"{_target(node[2])}.{node[1]}({args})"
    name, args = node[1], node[2]
    if name == "_?_:_":
        cond, yes, no = args
        return f"{_wrap(cond, _OR)} ? {_wrap(yes, _OR)} : {_wrap(no, _TERNARY)}"
    if name in _BINARY:
        symbol, level = _BINARY[name]
        left, right = args
        return f"{_wrap(left, level)} {symbol} {_wrap(right, level + 1)}"
    if name == "!_":
        return "!" + _wrap(args[0], _UNARY)
    if name == "-_":
        operand = args[0]
        if operand[0] == "const" and operand[1] in ("int", "double"):
            return f"-({unparse(operand)})"  # "-1" would fold into the literal
        return "-" + _wrap(operand, _UNARY)
    if name == "_[_]":
        return f"{_target(args[0])}[{unparse(args[1])}]"
    return f"{name}(" + ", ".join(unparse(arg) for arg in args) + ")"


# ----------------------------------------------------------------------------- substitute


class _Missing:
    """A selection of a field the bindings lack: it becomes ``null``."""


_MISSING = _Missing()


def _lookup(value: Any, path: list[Any]) -> Any:
    for key in path:
        value = owned(value)
        kind = type(value)
        if kind is dict:
            if key not in value:
                return _MISSING
            value = value[key]
        elif (kind is list or kind is tuple) and type(key) is int and 0 <= key < len(value):
            value = value[key]
        else:
            return _MISSING
    return value


def _bool(node: Node) -> bool | None:
    return bool(node[2]) if node[0] == "const" and node[1] == "bool" else None


def _numeric(node: Node) -> bool:
    return node[0] == "const" and node[1] in ("int", "uint", "double")


def _fold_compare(name: str, left: Node, right: Node) -> Node | None:
    """Fold a comparison of two primitive literals when CEL's answer is certain."""
    if left[0] != "const" or right[0] != "const":
        return None
    a, b = left[2], right[2]
    if _numeric(left) and _numeric(right):
        if (isinstance(a, float) and math.isnan(a)) or (isinstance(b, float) and math.isnan(b)):
            result = name == "_!=_"
        else:
            result = {"_==_": a == b, "_!=_": a != b, "_<_": a < b, "_<=_": a <= b,
                      "_>_": a > b, "_>=_": a >= b}[name]
        return ("const", "bool", result)
    if left[1] == right[1]:
        if name == "_==_":
            return ("const", "bool", a == b)
        if name == "_!=_":
            return ("const", "bool", a != b)
        if left[1] in ("string", "bytes", "bool"):
            return ("const", "bool", {"_<_": a < b, "_<=_": a <= b, "_>_": a > b,
                                      "_>=_": a >= b}[name])
        return None
    if name in ("_==_", "_!=_"):  # unlike primitive types are never equal
        return ("const", "bool", name == "_!=_")
    return None


_BOOLEAN_CALLS = frozenset(
    {"_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_", "@in", "!_", "_&&_", "_||_"})
_BOOLEAN_METHODS = frozenset({"contains", "startsWith", "endsWith", "matches"})


def _boolean(node: Node) -> bool:
    """Whether ``node`` evaluates to a bool or an error, never another value."""
    kind = node[0]
    if kind == "call":
        return node[1] in _BOOLEAN_CALLS or (node[1] == "matches" and len(node[2]) == 2)
    if kind == "method":
        return node[1] in _BOOLEAN_METHODS
    if kind == "comprehension":
        return bool(node[1] in ("all", "exists", "exists_one"))
    return bool(kind == "has" or (kind == "const" and node[1] == "bool"))


def _fold(node: Node) -> Node:
    if node[0] != "call":
        return node
    name: str = node[1]
    args: tuple[Node, ...] = node[2]
    if name in ("_&&_", "_||_"):
        absorbing = name == "_||_"  # false && x is false, true || x is true, errors or not
        left, right = _bool(args[0]), _bool(args[1])
        if left is absorbing or right is absorbing:
            return ("const", "bool", absorbing)
        if left is not None and right is not None:
            return ("const", "bool", not absorbing)
        # true && x is x, false || x is x -- when x can only be a bool or an error, so the
        # two evaluate alike.
        if left is not None and _boolean(args[1]):
            return args[1]
        if right is not None and _boolean(args[0]):
            return args[0]
        return node
    if name == "!_" and _bool(args[0]) is not None:
        return ("const", "bool", not args[0][2])
    if name == "_?_:_" and _bool(args[0]) is not None:
        return args[1] if args[0][2] else args[2]
    if name in ("_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_"):
        return _fold_compare(name, args[0], args[1]) or node
    return node


def substitute(node: Node, bindings: Mapping[str, Any]) -> Node:
    """Replace selections rooted at a bound variable with literals and fold constants.

    A selection of a field the bindings lack becomes ``null``; a bound variable used whole
    becomes its literal.  Comprehension variables shadow bindings of the same name.

    >>> tree = ("call", "_&&_", (
    ...     ("call", "_==_", (("select", ("ident", "event"), "a"), ("const", "int", 1))),
    ...     ("call", "_==_", (("select", ("ident", "async"), "b"), ("const", "int", 2)))))
    >>> unparse(substitute(tree, {"event": {"a": 1}}))
    'async.b == 2'
    >>> unparse(substitute(tree, {"event": {"a": 5}}))
    'false'
    """
    if type(bindings) is dict:
        check_keys(bindings)
    elif issubclass(type(bindings), Mapping):  # the class is asked, not the object
        bindings = plain_mapping(bindings)
    else:
        raise TypeError(f"bindings must be a mapping, not {type(bindings).__name__}")
    try:
        return _substitute(node, bindings, frozenset())
    except RecursionError:  # bound data nested past what any program may hold
        raise depth_limit_error(MAX_NESTING) from None


def _substitute(node: Node, bindings: Mapping[str, Any], shadowed: frozenset[str]) -> Node:
    kind = node[0]
    if kind == "const":
        return node
    if kind in ("ident", "select") or (kind == "call" and node[1] == "_[_]"):
        found = select_path(node)
        if found is not None and found[0] in bindings and found[0] not in shadowed:
            value = _lookup(bindings[found[0]], found[1])
            return literal(None if value is _MISSING else value)
        if kind == "ident":
            return node
    if kind == "select":
        return ("select", _substitute(node[1], bindings, shadowed), node[2])
    if kind == "has":
        found = select_path(node[1])
        if found is not None and found[0] in bindings and found[0] not in shadowed:
            owner = _lookup(bindings[found[0]], found[1])
            if owner is not _MISSING and type(owner := owned(owner)) is dict:
                return ("const", "bool", node[2] in owner)
        return ("has", _substitute(node[1], bindings, shadowed), node[2])
    if kind == "call":
        args = tuple(_substitute(arg, bindings, shadowed) for arg in node[2])
        return _fold(("call", node[1], args))
    if kind == "method":
        return ("method", node[1], _substitute(node[2], bindings, shadowed),
                tuple(_substitute(arg, bindings, shadowed) for arg in node[3]))
    if kind == "list":
        return ("list", tuple(_substitute(item, bindings, shadowed) for item in node[1]))
    if kind == "map":
        return ("map", tuple((_substitute(k, bindings, shadowed),
                              _substitute(v, bindings, shadowed)) for k, v in node[1]))
    if kind == "struct":
        return ("struct", node[1],
                tuple((name, _substitute(v, bindings, shadowed)) for name, v in node[2]))
    if kind == "comprehension":
        inner = shadowed | {node[3]}
        return ("comprehension", node[1], _substitute(node[2], bindings, shadowed), node[3],
                tuple(_substitute(arg, bindings, inner) for arg in node[4]))
    return node

