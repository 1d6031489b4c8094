"""The Python twin of the ``"inngest"`` dialect's evaluator (the compiled twin is
``src_pyx/_dialect_c.pyx``): the per-call tree walk, and nothing else.  Everything the twins
share -- lifting, registered paths, the unknown decorator (``dialect_call``), the custom
functions, truthiness, result mapping -- is plain Python in :mod:`inngest_core._expr_dialect`;
each rule there cites the Go file it reproduces.

>>> from inngest_core._expr_dialect import compile_dialect
>>> from inngest_core import _expr_py
>>> compile_dialect("event.data.missing == null", twin=_expr_py).evaluate({"event": {"data": {}}})
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable

from . import _expr_lib as lib
from ._expr_ast import Node
from ._expr_dialect import (NIL, UNKNOWN, _NO_OVERLOAD, _chain, _err, _standard, _start,
                            _walk, dialect_call, iterable, result_value, truthy)
from ._expr_lib import CelError, UInt
from .errors import EvaluationError

__all__ = ["Kernel"]


class _Env:
    __slots__ = ("activation", "scope", "missing", "budget", "dotted")

    def __init__(self, activation: Mapping[str, Any], missing: frozenset[tuple[str, ...]],
                 budget: int) -> None:
        self.activation = activation
        self.dotted = any(type(key) is str and "." in key for key in activation)
        self.scope: dict[str, Any] = {}
        self.missing = missing
        self.budget = budget


def _unknown_path(env: _Env, root: str, fields: tuple[str, ...]) -> bool:
    missing = env.missing
    if not missing:
        return False
    for end in range(1, len(fields) + 1):
        if (root,) + fields[:end] in missing:
            return True
    return False


def _read_chain(env: _Env, node: Node) -> Any:
    chain = _chain(node)
    if chain is not None and chain[0] not in env.scope:
        root, fields = chain
        if _unknown_path(env, root, fields):
            return UNKNOWN
        path = (root,) + fields
        start = _start(env.activation, path) if env.dotted else (
            1 if root in env.activation else 0)
        if not start:
            return _err("no such attribute(s): " + ".".join(path))
        value = lib.to_cel(env.activation[".".join(path[:start])])
        for field in path[start:]:
            value = _select(value, field)
            if type(value) is CelError or value is UNKNOWN:
                return value
        return value
    return _select(_eval(node[1], env), node[2])


def _select(operand: Any, field: str) -> Any:
    if operand is UNKNOWN or type(operand) is CelError:
        return operand
    if operand is NIL:
        return NIL
    if isinstance(operand, Mapping):
        return lib.select(operand, field)
    return _err(f"no such key: {field}")


def _eval(node: Node, env: _Env) -> Any:
    kind = node[0]
    if kind == "const":
        return node[2] if node[1] != "uint" else UInt(node[2])
    if kind == "ident":
        name = node[1]
        if name in env.scope:
            return env.scope[name]
        if name in env.activation:
            return lib.to_cel(env.activation[name])
        found = lib.TYPES.get(name)
        if found is not None:
            return found
        return _err(f"no such attribute(s): {name}")
    if kind == "select":
        return _read_chain(env, node)
    if kind == "has":
        chain = _chain(node[1])
        if chain is not None and chain[0] not in env.scope and _unknown_path(
                env, chain[0], chain[1] + (node[2],)):
            return UNKNOWN
        operand = _eval(node[1], env)
        if operand is UNKNOWN or type(operand) is CelError:
            return operand
        if isinstance(operand, Mapping):
            return lib.has_field(operand, node[2])
        return _err(_NO_OVERLOAD)
    if kind == "call":
        function = node[1]
        if function == "_&&_" or function == "_||_":
            left = _eval(node[2][0], env)
            right = _eval(node[2][1], env)  # both sides, always (R11)
            return _truthy_logic(function, left, right)
        if function == "_?_:_":
            condition = _eval(node[2][0], env)  # R12: any value is a condition
            return _eval(node[2][1] if truthy(condition) else node[2][2], env)
        if function == "_[_]" and node[2][1][0] == "const":
            operand = _eval(node[2][0], env)  # a constant index is an attribute qualifier
            if operand is UNKNOWN or type(operand) is CelError or operand is NIL:
                return operand
            return _standard("_[_]", (operand, node[2][1][2]), False)
        if function == "!_" and node[2][0][0] == "call" and node[2][0][1] == "!_":
            return _eval(node[2][0][2][0], env)  # cel-go's parser folds !!x into x
        args = tuple(_eval(arg, env) for arg in node[2])
        return dialect_call(function, args)
    if kind == "method":
        target = _eval(node[2], env)
        args = (target,) + tuple(_eval(arg, env) for arg in node[3])
        return dialect_call(node[1], args, True)
    if kind == "list":
        values = []
        for element in node[1]:
            value = _eval(element, env)
            if value is UNKNOWN or type(value) is CelError:
                return value
            values.append(value)
        return values
    if kind == "map":
        entries = []
        for key_node, value_node in node[1]:
            key = _eval(key_node, env)
            if key is UNKNOWN or type(key) is CelError:
                return key
            value = _eval(value_node, env)
            if value is UNKNOWN or type(value) is CelError:
                return value
            entries.append((key, value))
        return lib.make_map(entries)
    if kind == "comprehension":
        return _comprehension(node, env)
    if kind == "struct":
        return _err(_NO_OVERLOAD)
    raise AssertionError(kind)


def _truthy_logic(function: str, left: Any, right: Any) -> Any:
    if type(left) is bool and type(right) is bool:
        return (left and right) if function == "_&&_" else (left or right)
    want = function == "_||_"
    for value in (left, right):
        if truthy(value) is want:
            return value
    return right


def _comprehension(node: Node, env: _Env) -> Any:
    """A macro as cel-go expands it (``parser/macro.go``), its calls decorated and its
    ``&&``/``||``/``?:`` truthy (R14)."""
    _, macro, target, var, args = node
    source = _eval(target, env)
    if source is UNKNOWN or type(source) is CelError or source is NIL:
        return source
    items = iterable(source)
    if type(items) is CelError:
        return items
    saved = env.scope
    if macro == "exists":
        acc: Any = False
    elif macro == "all":
        acc = True
    elif macro == "exists_one":
        acc = 0
    else:
        acc = []
    try:
        for item in items:
            env.budget -= 1
            if env.budget < 0:
                raise EvaluationError("comprehension step limit exceeded")
            if macro == "exists":
                condition = dialect_call("@not_strictly_false", (dialect_call("!_", (acc,)),))
            elif macro == "all":
                condition = dialect_call("@not_strictly_false", (acc,))
            else:
                condition = True
            if condition is not True:
                break
            env.scope = {**saved, var: item}
            if macro == "exists":
                acc = _truthy_logic("_||_", acc, _eval(args[0], env))
            elif macro == "all":
                acc = _truthy_logic("_&&_", acc, _eval(args[0], env))
            elif macro == "exists_one":
                if truthy(_eval(args[0], env)):
                    acc = dialect_call("_+_", (acc, 1))
            elif macro == "filter":
                if truthy(_eval(args[0], env)):
                    acc = dialect_call("_+_", (acc, [item]))
            else:  # map
                if len(args) == 2 and not truthy(_eval(args[0], env)):
                    continue
                value = _eval(args[-1], env)
                element = value if (value is UNKNOWN or type(value) is CelError) else [value]
                acc = dialect_call("_+_", (acc, element))
    finally:
        env.scope = saved
    if macro == "exists_one":
        return dialect_call("_==_", (acc, 1))
    return acc


class Kernel:
    """One program's evaluator: ``raw`` gives the dialect value, ``evaluate`` maps it as the
    server does (``cel.go: eval``), ``matches`` says whether it is exactly ``true``.

    ``values`` are the lifted literals (``vars``), ``paths`` the registered paths, ``fast``
    standard CEL's evaluation where it gives the dialect's answer (see ``_fast_shape`` in
    :mod:`inngest_core._expr_dialect`): true, or any answer when ``fast_false``."""

    __slots__ = ("ast", "vars", "paths", "max_steps", "fast", "fast_false")

    def __init__(self, ast: Node, values: dict[str, Any] | None,
                 paths: frozenset[tuple[str, ...]], max_steps: int,
                 fast: Callable[[Mapping[str, object]], object] | None = None,
                 fast_false: bool = False) -> None:
        self.ast = ast
        self.vars = values
        self.paths = paths
        self.max_steps = max_steps
        self.fast = fast
        self.fast_false = fast_false

    def raw(self, activation: Mapping[str, object]) -> Any:
        """The dialect value before ``cel.go: eval`` maps it (may be UNKNOWN, NIL or an
        error value)."""
        if type(activation) is dict:
            lib.check_keys(activation)
        elif isinstance(activation, Mapping):
            activation = lib.plain_mapping(activation)
        else:
            raise TypeError(f"activation must be a mapping, not {type(activation).__name__}")
        if self.vars is not None:  # expressions.go: lifted values replace any user vars
            activation = {**activation, "vars": self.vars}
        env = _Env(activation, frozenset(), self.max_steps)
        env.missing = frozenset(p for p in self.paths if not _walk(activation, p, env.dotted))
        try:
            return _eval(self.ast, env)
        except RecursionError:
            raise lib.error("value_too_deep").exception() from None

    def evaluate(self, activation: Mapping[str, object]) -> object:
        """The value Inngest's ``expressions.Evaluate`` returns; its errors raise
        :class:`~inngest_core.errors.EvaluationError` with the server's text."""
        fast = self.fast
        if fast is not None:
            try:
                answer = fast(activation)
            except EvaluationError:
                pass
            else:
                if answer is True or self.fast_false:
                    return answer
        return result_value(self.raw(activation))

    def matches(self, activation: Mapping[str, object]) -> bool:
        """Is the dialect value exactly ``true``?  (Inngest's pause and trigger matching.)"""
        fast = self.fast
        if fast is not None:
            try:
                # CEL's false here is the dialect's false or an error: no match either way
                return fast(activation) is True
            except EvaluationError:
                pass
        try:
            return result_value(self.raw(activation)) is True
        except EvaluationError:
            return False
