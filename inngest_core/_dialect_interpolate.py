"""R17: how Inngest's server rewrites a pause expression with the triggering event's values
(``pkg/expressions/residual.go: Interpolate``), before it stores a ``waitForEvent`` (and a
cancellation) and matches incoming events against it.

Plain Python, shared by both twins (it runs once per stored wait).  Each step restates the
reading of the Go code (inngest/inngest ``253303cd``, cel-go v0.27.0 and ``inngest/expr`` as
vendored there); ``tests/inngest_dialect/rules.md`` (R17) lists the observed consequences,
which the tests replay against the recorded answers of the server's code:

1. a source without ``event.`` is returned as it is;
2. it is parsed without lifting;
3. it is evaluated as *standard* CEL (no unknown decorator), exhaustively (both sides of
   ``&&``/``||``, all three of ``?:``), over ``{"event": trigger}`` where every registered
   path the data lacks is *unknown* (``data.go: Partial``; an attribute is unknown when it
   agrees with such a path on their common length, ``cel-go interpreter/attribute_patterns.go``);
   an error result aborts (``Interpolate`` returns the error);
4. cel-go's ``ResidualAst`` replaces every known sub-expression by its literal and prunes
   ``&&``/``||``/``?:``/``!``/``in`` on known operands (``interpreter/prune.go``), writes the tree
   with cel-go's unparser (a double is Go's shortest ``%g`` with ``.0`` added when it has no
   dot, so ``1e+06.0`` -- which does not parse again, and the interpolation fails; strings
   are ``strconv.Quote``d) and parses the text again; a macro left in the residual cannot be
   written (``unsupported expression``);
5. when the text still names ``event.`` (a trigger field was missing) it is read by
   ``inngest/expr``'s lifting tree parser (``parser.go``) and written back from its predicates,
   each ``event.``-side replaced by ``null`` (``residual.go``): operands are reordered, clauses
   that are not simple predicates are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _expr_lib as lib
from ._expr_ast import Node
from ._expr_dialect import (UNKNOWN, _chain, _parse_source, _standard, _walk, go_quote,
                            lift, registered_paths)
from ._expr_lib import CelError, Duration, Timestamp, UInt
from .errors import EvaluationError

__all__ = ["interpolate"]


def interpolate(source: str, activation: Mapping[str, Any]) -> str:
    """The pause expression the server stores for ``source`` with ``activation`` (``{"event":
    trigger}``) known: ``residual.go: Interpolate``, steps 1-5 above.  Its errors raise
    :class:`~inngest_core.errors.EvaluationError` (an error result, a macro left unknown) or
    :class:`~inngest_core.errors.ExpressionSyntaxError` (the source, or the residual text
    cel-go writes, does not parse).

    >>> interpolate("event.data.id == async.data.id && 500 <= event.data.value",
    ...             {"event": {"data": {"id": "ab_1", "value": 1295}}})
    '"ab_1" == async.data.id'
    >>> interpolate("event.data.id == async.data.id && event.data.foo == async.data.foo",
    ...             {"event": {"data": {"id": "ab_1"}}})
    'async.data.id == "ab_1" && async.data.foo == null'
    """
    if "event." not in source:
        return source
    ast = _parse_source(source)
    if not isinstance(activation, Mapping):
        raise TypeError(f"activation must be a mapping, not {type(activation).__name__}")
    data = lib.check_keys(dict(activation))
    patterns = [path for path in registered_paths(ast) if not _walk(data, path)]
    partial = _Partial(data, patterns)
    value, residual = partial.run(ast, {})
    if type(value) is CelError:
        raise EvaluationError(value.message)
    if partial.panic is not None:
        raise EvaluationError(partial.panic)
    if _find(residual, "comprehension") is not None:
        raise EvaluationError("unsupported expression: a macro over unknown values")
    text = _go_unparse(residual)
    _parse_source(text)  # ResidualAst parses what it wrote
    if "event." not in text:
        return text
    return _reserialise(text)


# ---------------------------------------------------------------------------- steps 3 and 4


def _known(value: Any) -> bool:
    return value is not UNKNOWN and type(value) is not CelError


def _literal(value: Any) -> Node | None:
    """``prune.go: maybeCreateLiteral``: the literal for a known value, or None."""
    kind = type(value)
    if value is None:
        return ("const", "null", None)
    if kind is bool:
        return ("const", "bool", value)
    if kind is int:
        return ("const", "int", value)
    if kind is UInt:
        return ("const", "uint", int(value))
    if kind is float:
        return ("const", "double", value)
    if kind is str:
        return ("const", "string", value)
    if kind is bytes:
        return ("const", "bytes", value)
    if kind is Timestamp or kind is Duration:
        text = lib.call("string", (value,))
        name = "timestamp" if kind is Timestamp else "duration"
        return ("call", name, (("const", "string", text),))
    if kind is list or kind is tuple:
        elements = []
        for element in value:
            element = lib.to_cel(element)
            found = _literal(element) if _known(element) else None
            if found is None:
                return None
            elements.append(found)
        return ("list", tuple(elements))
    if isinstance(value, Mapping):
        entries = []
        for key, item in value.items():
            item = lib.to_cel(item)
            pair = (_literal(lib.to_cel(key)), _literal(item) if _known(item) else None)
            if pair[0] is None or pair[1] is None:
                return None
            entries.append(pair)
        return ("map", tuple(entries))
    return None


def _exhaustive_logic(is_or: bool, values: list[Any]) -> Any:
    """``interpretable.go: evalExhaustiveOr`` / ``evalExhaustiveAnd``."""
    absorbing = is_or
    error: Any = None
    unknown = False
    decided = False
    for value in values:
        if value is absorbing:
            decided = True
        if type(value) is not bool and not decided:
            if value is UNKNOWN:
                unknown = True
            elif error is None:
                error = value if type(value) is CelError else CelError("no such overload")
    if decided:
        return absorbing
    if unknown:
        return UNKNOWN
    if error is not None:
        return error
    return not absorbing


@dataclass
class _Partial:
    """Evaluates and prunes in one bottom-up pass: ``run`` gives a node's value (UNKNOWN, an
    error, or a value) and its residual tree."""

    data: dict[str, Any]
    patterns: list[tuple[str, ...]]
    #: id of each residual tree -> (the tree, the value of its root): what ``prune.go`` reads
    #: for a pruned operand is the value of the node it was pruned to, not of its parent.
    values: dict[int, tuple[Node, Any]] = field(default_factory=dict)
    #: Go panics pruning ``?:`` on a known condition that is not a bool; ``prune.go`` prunes
    #: every operand before its parent, so it panics unless an ancestor became a literal.
    panic: str | None = None

    def unknown(self, path: tuple[Any, ...]) -> bool:
        """Does the attribute agree with a missing registered path on their common length?"""
        for pattern in self.patterns:
            if pattern[0] == path[0] and all(
                    a == b for a, b in zip(path[1:], pattern[1:])):
                return True
        return False

    def run(self, node: Node, scope: dict[str, Any]) -> tuple[Any, Node]:
        pending, self.panic = self.panic, None
        value, tree = self._run(node, scope)
        if _known(value):
            found = _literal(value)
            if found is not None:
                tree = found
                self.panic = None  # its operands are never pruned
        self.panic = pending or self.panic
        self.values.setdefault(id(tree), (tree, value))  # the deepest node's value wins
        return value, tree

    def value_of(self, tree: Node) -> Any:
        return self.values[id(tree)][1]

    def _read(self, node: Node, root: str, fields: tuple[str, ...],
              checked: bool = True) -> tuple[Any, Node]:
        """A variable's select chain, one attribute in cel-go: unknown (unless ``checked`` is
        off: a presence test checks its whole path), or read; when a field is missing, the
        part read so far is a known value (cel-go records each qualifier's value), so the
        residual holds it as a literal."""
        path = (root,) + fields
        if checked and self.unknown(path):
            return UNKNOWN, node
        if root not in self.data:
            found = lib.TYPES.get(root) if not fields else None
            return (found if found is not None else CelError(
                "no such attribute(s): " + ".".join(path))), node
        value = lib.to_cel(self.data[root])
        for index, name in enumerate(fields):
            known = value
            value = lib.select(value, name)
            if type(value) is CelError:
                tree = _literal(known) if index else None
                if tree is None:
                    return value, node
                self.values.setdefault(id(tree), (tree, known))
                for rest in fields[index:]:
                    tree = ("select", tree, rest)
                return value, tree
        return value, node

    def _run(self, node: Node, scope: dict[str, Any]) -> tuple[Any, Node]:
        kind = node[0]
        if kind == "const":
            return (UInt(node[2]) if node[1] == "uint" else node[2]), node
        if kind == "ident":
            if node[1] in scope:
                return scope[node[1]], node
            return self._read(node, node[1], ())
        if kind == "select":
            chain = _chain(node)
            if chain is not None and chain[0] not in scope:
                return self._read(node, chain[0], chain[1])
            operand, tree = self.run(node[1], scope)
            value = operand if not _known(operand) else lib.select(operand, node[2])
            return value, ("select", tree, node[2])
        if kind == "has":
            chain = _chain(node[1])
            if chain is not None and chain[0] not in scope:
                if self.unknown((chain[0],) + chain[1] + (node[2],)):
                    return UNKNOWN, node
                operand, tree = self._read(node[1], chain[0], chain[1], checked=False)
            else:
                operand, tree = self.run(node[1], scope)
            value = operand if not _known(operand) else lib.has_field(operand, node[2])
            return value, ("has", tree, node[2])
        if kind == "call":
            return self._call(node, scope)
        if kind == "method":
            return self._calls(node[1], (node[2],) + tuple(node[3]), scope, True, node)
        if kind == "list":
            values, elements = self._strict(node[1], scope)
            if len(values) < len(node[1]) or not all(_known(v) for v in values):
                return values[-1], ("list", elements)
            return list(values), ("list", elements)
        if kind == "map":
            entries = []
            trees: list[tuple[Node, Node]] = []
            stop: Any = None
            for key_node, value_node in node[1]:
                if stop is not None:
                    trees.append((key_node, value_node))
                    continue
                key, key_tree = self.run(key_node, scope)
                if not _known(key):
                    stop = key
                    trees.append((key_tree, value_node))
                    continue
                value, value_tree = self.run(value_node, scope)
                trees.append((key_tree, value_tree))
                if not _known(value):
                    stop = value
                    continue
                entries.append((key, value))
            if stop is not None:
                return stop, ("map", tuple(trees))
            return lib.make_map(entries), ("map", tuple(trees))
        if kind == "comprehension":
            return self._comprehension(node, scope)
        return CelError("no such overload"), node

    def _strict(self, nodes: Any, scope: dict[str, Any]) -> tuple[list[Any], tuple[Node, ...]]:
        """Left to right until the first unknown or error (``evalList``, ``evalVarArgs``):
        what follows is not evaluated, so it keeps its tree."""
        values: list[Any] = []
        trees: list[Node] = []
        for index, child in enumerate(nodes):
            value, tree = self.run(child, scope)
            values.append(value)
            trees.append(tree)
            if not _known(value):
                trees.extend(nodes[index + 1:])
                break
        return values, tuple(trees)

    def _call(self, node: Node, scope: dict[str, Any]) -> tuple[Any, Node]:
        function, args = node[1], node[2]
        if function == "!_" and args[0][0] == "call" and args[0][1] == "!_":
            return self.run(args[0][2][0], scope)  # cel-go's parser folds !!x into x
        if function in ("_&&_", "_||_"):
            is_or = function == "_||_"
            left, left_tree = self.run(args[0], scope)
            right, right_tree = self.run(args[1], scope)
            value = _exhaustive_logic(is_or, [left, right])
            for operand, other in ((left_tree, right_tree), (right_tree, left_tree)):
                known = self.value_of(operand)
                if _known(known):  # prune.go: maybePruneOr / maybePruneAnd
                    return value, (("const", "bool", is_or) if known is is_or else other)
            return value, ("call", function, (left_tree, right_tree))
        if function == "_?_:_":
            condition, condition_tree = self.run(args[0], scope)
            then, then_tree = self.run(args[1], scope)
            other, other_tree = self.run(args[2], scope)
            if type(condition) is bool:
                value = then if condition else other
            elif _known(condition):
                value = CelError("no such overload")
            else:
                value = condition
            decided = self.value_of(condition_tree)
            if type(decided) is bool:  # prune.go: maybePruneConditional
                return value, (then_tree if decided else other_tree)
            if _known(decided):  # ... asserts a bool
                self.panic = (f"interface conversion: interface {{}} is "
                              f"{_GO_TYPES.get(type(decided), 'ref.Val')}, not bool")
            return value, ("call", function, (condition_tree, then_tree, other_tree))
        value, tree = self._calls(function, tuple(args), scope, False, node)
        if function == "!_" and type(tree[2][0]) is tuple and tree[2][0][0] == "const" \
                and tree[2][0][1] == "bool":
            return value, ("const", "bool", not tree[2][0][2])
        if function == "@in":
            container = tree[2][1]
            if container[0] in ("list", "map") and not container[1]:  # maybePruneIn
                return value, ("const", "bool", False)
        return value, tree

    def _calls(self, function: str, args: tuple[Node, ...], scope: dict[str, Any],
               receiver: bool, node: Node) -> tuple[Any, Node]:
        if len(args) > 2:  # evalVarArgs stops at the first unknown or error
            values, trees = self._strict(args, scope)
        else:  # evalUnary / evalBinary evaluate every operand
            pairs = [self.run(arg, scope) for arg in args]
            values = [v for v, _ in pairs]
            trees = tuple(t for _, t in pairs)
        value: Any
        if len(values) < len(args) or not all(_known(v) for v in values):
            value = next(v for v in values if not _known(v))
        else:  # the standard call, the custom functions included, in cel-go's words
            value = _standard(function, tuple(values), receiver)
        if receiver:
            return value, ("method", function, trees[0], trees[1:])
        return value, ("call", function, trees)

    def _comprehension(self, node: Node, scope: dict[str, Any]) -> tuple[Any, Node]:
        _, macro, target, var, args = node
        source, source_tree = self.run(target, scope)
        tree = ("comprehension", macro, source_tree, var, args)
        if not _known(source):
            return source, tree
        items = lib.iterate(source)
        if isinstance(items, CelError):
            return items, tree
        # The macro's loop as cel-go expands it (parser/macro.go), every iteration run (the
        # exhaustive evaluation ignores the loop condition).
        acc: Any = {"exists": False, "all": True, "exists_one": 0}.get(macro, [])
        for item in items:
            inner = {**scope, var: item}
            if macro in ("exists", "all"):
                acc = _exhaustive_logic(macro == "exists", [acc, self.run(args[0], inner)[0]])
                continue
            if macro == "map" and len(args) == 1:
                acc = _plus(acc, self.run(args[0], inner)[0], True)
                continue
            condition = self.run(args[0], inner)[0]
            if type(condition) is not bool:  # evalExhaustiveConditional
                acc = condition if not _known(condition) else CelError("no such overload")
            elif condition and macro == "exists_one":
                acc = _plus(acc, 1, False)
            elif condition and macro == "filter":
                acc = _plus(acc, item, True)
            elif condition:
                acc = _plus(acc, self.run(args[1], inner)[0], True)
        if macro == "exists_one" and _known(acc):
            acc = acc == 1
        return acc, tree


def _plus(acc: Any, value: Any, as_list: bool) -> Any:
    """``acc + value`` (``acc + [value]`` for a list step), strict like ``evalBinary``."""
    if not _known(acc):
        return acc
    if not _known(value):
        return value
    return lib.call("_+_", (acc, [value] if as_list else value))


_GO_TYPES = {str: "string", float: "float64", int: "int64", UInt: "uint64", bytes: "[]uint8",
             list: "[]ref.Val", dict: "map[ref.Val]ref.Val"}


def _find(node: Any, kind: str) -> Any:
    """The first node of ``kind`` in a tree (or a tuple of trees: arguments, entries)."""
    if type(node) is not tuple:
        return None
    if node and node[0] == kind:
        return node
    for child in node:
        found = _find(child, kind)
        if found is not None:
            return found
    return None


# ---------------------------------------------------------------------------- cel-go's text


# operators.go: precedence (a larger number binds more loosely; 0 for any other function)
_PRECEDENCE = {"_?_:_": 8, "_||_": 7, "_&&_": 6, "_==_": 5, "_>_": 5, "_>=_": 5, "@in": 5,
               "_<_": 5, "_<=_": 5, "_!=_": 5, "_+_": 4, "_-_": 4, "_/_": 3, "_%_": 3,
               "_*_": 3, "!_": 2, "-_": 2, "_[_]": 1}
_BINARY = {"_||_": "||", "_&&_": "&&", "_==_": "==", "_>_": ">", "_>=_": ">=", "@in": "in",
           "_<_": "<", "_<=_": "<=", "_!=_": "!=", "_+_": "+", "_-_": "-", "_/_": "/",
           "_%_": "%", "_*_": "*"}


def _arguments(node: Node) -> tuple[Node, ...]:
    if node[0] == "call":
        return tuple(node[2])
    if node[0] == "method":
        return tuple(node[3])
    return ()


def _complex(node: Node) -> bool:
    return len(_arguments(node)) >= 2


def _looser(op: str, node: Node) -> bool:
    """``isComplexOperatorWithRespectTo``: a call of two or more operands binding more
    loosely than ``op``."""
    return _complex(node) and _PRECEDENCE[op] < _PRECEDENCE.get(node[1], 0)


def _same(op: str, node: Node) -> bool:
    return node[0] in ("call", "method") and _PRECEDENCE[op] == _PRECEDENCE.get(node[1], 0)


def _operator(node: Node) -> bool:
    """``isBinaryOrTernaryOperator``."""
    return _complex(node) and (node[1] in _BINARY or _same("_?_:_", node))


def _nested(node: Node, paren: bool) -> str:
    text = _go_unparse(node)
    return f"({text})" if paren else text


def _go_unparse(node: Node) -> str:
    """CEL text as cel-go's unparser writes it (``parser/unparser.go``): its parentheses
    (none around a chain of ``&&`` or of ``||``), Go's shortest ``%g`` for a double with
    ``.0`` added when there is no dot, ``strconv.Quote`` for a string, octal bytes."""
    kind = node[0]
    if kind == "const":
        what, value = node[1], node[2]
        if what == "double":
            text = lib.format_double(value)
            return text if "." in text else text + ".0"
        if what == "string":
            return go_quote(value)
        if what == "bytes":
            return 'b"' + "".join(f"\\{byte:03o}" for byte in value) + '"'
        if what == "uint":
            return f"{value}u"
        if what == "null":
            return "null"
        if what == "bool":
            return "true" if value else "false"
        return str(value)
    if kind == "ident":
        return str(node[1])
    if kind == "select":
        return f"{_nested(node[1], _operator(node[1]))}.{node[2]}"
    if kind == "has":
        return f"has({_go_unparse(node[1])}.{node[2]})"
    if kind == "list":
        return "[" + ", ".join(_go_unparse(element) for element in node[1]) + "]"
    if kind == "map":
        return "{" + ", ".join(f"{_go_unparse(k)}: {_go_unparse(v)}" for k, v in node[1]) + "}"
    if kind == "struct":
        fields = ", ".join(f"{name}: {_go_unparse(value)}" for name, value in node[2])
        return f"{node[1]}{{{fields}}}"
    if kind == "comprehension":
        args = ", ".join([node[3], *(_go_unparse(arg) for arg in node[4])])
        return f"{_nested(node[2], _operator(node[2]))}.{node[1]}({args})"
    if kind == "method":
        args = ", ".join(_go_unparse(arg) for arg in node[3])
        return f"{_nested(node[2], _operator(node[2]))}.{node[1]}({args})"
    function: str = node[1]
    args = node[2]
    if function in ("!_", "-_"):
        return function[0] + _nested(args[0], _complex(args[0]))
    if function == "_?_:_":
        parts = [_nested(arg, _same(function, arg) or _complex(arg)) for arg in args]
        return f"{parts[0]} ? {parts[1]} : {parts[2]}"
    if function == "_[_]":
        return f"{_nested(args[0], _operator(args[0]))}[{_go_unparse(args[1])}]"
    if function in _BINARY:
        left, right = args
        right_paren = _looser(function, right) or (
            function not in ("_&&_", "_||_") and _same(function, right))
        return (f"{_nested(left, _looser(function, left))} {_BINARY[function]} "
                f"{_nested(right, right_paren)}")
    return f"{function}(" + ", ".join(_go_unparse(arg) for arg in args) + ")"


# ---------------------------------------------------------------------------- step 5


@dataclass
class _Predicate:
    """``inngest/expr parser.go: Predicate``."""

    ident: str
    operator: str
    literal: Any = None
    literal_ident: str | None = None

    def text(self) -> str:
        op = self.operator.replace("_", "")
        if type(self.literal) is str:
            return f"{self.ident} {op} {go_quote(self.literal)}"
        if self.literal is None:
            return f"{self.ident} {op} {'null' if self.literal_ident is None else self.literal_ident}"
        return f"{self.ident} {op} {_go_v(self.literal)}"


def _go_v(value: Any) -> str:
    """Go's ``%v`` of a lifted or literal value."""
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is float:
        return lib.format_double(value)
    if type(value) is bytes:
        return "[" + " ".join(str(b) for b in value) + "]"
    if type(value) is UInt:
        return str(int(value))
    return str(value)


@dataclass
class _TreeNode:
    """``inngest/expr parser.go: Node``: all of ``ands``, one of ``ors``, and a predicate."""

    ands: list[_TreeNode] = field(default_factory=list)
    ors: list[_TreeNode] = field(default_factory=list)
    predicate: _Predicate | None = None

    def normalize(self) -> None:
        if self.predicate is not None:
            return
        if len(self.ands) == 1 and not self.ors:
            child = self.ands[0]
            if not child.ands and not child.ors and child.predicate is not None:
                self.predicate = child.predicate
                self.ands = []

    def text(self, depth: int = 0) -> str:
        ands, ors = self.ands, self.ors
        outer = (len(ands) >= 1 and len(ors) >= 1 and depth > 0) or (len(ands) > 1 and depth > 0)
        out = ["("] if outer else []
        out.append(" && ".join(child.text(depth + 1) for child in ands))
        if ands and ors:
            out.append(" && ")
        or_paren = (len(ors) > 1 and depth > 0) or (len(ors) > 1 and len(ands) >= 1)
        if or_paren:
            out.append("(")
        out.append(" || ".join(child.text(depth + 1) for child in ors))
        if or_paren:
            out.append(")")
        if self.predicate is not None:
            out.append(self.predicate.text())
        if outer:
            out.append(")")
        return "".join(out)


_INVERT = {"_==_": "_!=_", "_!=_": "_==_", "_>_": "_<=_", "_>=_": "_<_", "_<_": "_>=_",
           "_<=_": "_>_"}
_MIRROR = {"_>_": "_<_", "_>=_": "_<=_", "_<_": "_>_", "_<=_": "_>=_"}
_ORDERINGS = frozenset(_MIRROR)


def _reserialise(text: str) -> str:
    """Step 5: the residual read by the lifting tree parser, every ``event.`` side made null,
    written back (``residual.go``; ``inngest/expr parser.go: navigateAST``, ``String``)."""
    lifted, values = lift(text)
    try:
        ast = _parse_source(lifted)
    except ValueError:
        return text  # the server keeps the residual when its tree parser fails
    root = _TreeNode()
    _navigate(_balanced(ast), False, root, values or {})
    root.normalize()
    queue = [root]
    while queue:
        node = queue.pop(0)
        queue.extend(node.ands)
        queue.extend(node.ors)
        predicate = node.predicate
        if predicate is None or not predicate.ident.startswith("event."):
            continue
        if predicate.literal_ident is not None and predicate.literal is None:
            predicate.ident, predicate.literal_ident = predicate.literal_ident, None
        elif predicate.literal_ident is None:
            predicate.ident = "null"
    return root.text()


def _balanced(node: Any) -> Any:
    """The tree as cel-go's parser builds it from cel-go's text: a chain of ``&&`` (or
    ``||``) is balanced (``parser/helper.go: balancer``) where ours nests to the left, and
    ``!!x`` is ``x``."""
    if type(node) is not tuple or not node:
        return node
    if node[0] == "call" and node[1] == "!_" and node[2][0][0] == "call" \
            and node[2][0][1] == "!_":
        return _balanced(node[2][0][2][0])
    if node[0] == "call" and node[1] in ("_&&_", "_||_"):
        terms = []
        spine = node
        while spine[0] == "call" and spine[1] == node[1]:
            terms.append(spine[2][1])
            spine = spine[2][0]
        terms.append(spine)
        terms = [_balanced(term) for term in reversed(terms)]

        def tree(lo: int, hi: int) -> Node:  # over the operators between the terms
            mid = (lo + hi + 1) // 2
            left = terms[mid] if mid == lo else tree(lo, mid - 1)
            right = terms[mid + 1] if mid == hi else tree(mid + 1, hi)
            return ("call", node[1], (left, right))

        return tree(0, len(terms) - 2)
    return tuple(_balanced(child) if type(child) is tuple else child for child in node)


def _peek(node: Node, function: str, negated: bool) -> list[tuple[Node, bool]]:
    """A chain of one logical operator flattened breadth first, as ``parser.go: peek``."""
    queue = [node]
    found = []
    while queue:
        item = queue.pop(0)
        if item[0] == "call" and item[1] == function:
            queue.extend(item[2])
            continue
        found.append((item, negated))
    return found


def _navigate(node: Node, negated: bool, parent: _TreeNode, values: dict[str, Any]) -> None:
    found: list[_TreeNode] = []
    queue = [(node, negated)]
    while queue:
        item, neg = queue.pop(0)
        kind = item[0]
        if kind in ("select", "has"):
            found.append(_TreeNode(predicate=_Predicate(item[2], "select")))
        elif kind == "comprehension":
            found.append(_TreeNode(predicate=_Predicate(item[3], "comprehension")))
        elif kind == "call" and item[1] == "!_":
            queue.append((item[2][0], not neg))
        elif kind == "call" and item[1] == "_||_":
            for branch, branch_negated in _peek(item, "_||_", neg):
                child = _TreeNode()
                _navigate(branch, branch_negated, child, values)
                child.normalize()
                parent.ors.append(child)
        elif kind == "call" and item[1] == "_&&_":
            queue.extend(_peek(item, "_&&_", neg))
        elif kind in ("call", "method"):
            predicate = _to_predicate(item, neg, values)
            if predicate is not None:
                found.append(_TreeNode(predicate=predicate))
    parent.ands = found


def _walk_select(node: Node) -> str:
    """``parser.go: walkSelect``, trailing dot included: a bare name is ``"a."``."""
    walked = ""
    while node[0] == "select":
        walked = node[2] if not walked else node[2] + "." + walked
        node = node[1]
        if node[0] == "call":
            walked = _array_access(node) + "." + walked
    root = node[1] if node[0] == "ident" else ""
    return (root + "." + walked).removeprefix(".")


def _array_access(node: Node) -> str:
    if node[0] != "call" or node[1] != "_[_]" or node[2][1][0] != "const":
        return ""
    return f"{_walk_select(node[2][0])}[{_go_v(node[2][1][2])}]"


def _to_predicate(node: Node, negated: bool, values: dict[str, Any]) -> _Predicate | None:
    """``parser.go: callToPredicate``."""
    function = node[1]
    if negated:
        function = _INVERT.get(function, function)
    args = node[2] if node[0] == "call" else node[3]
    if len(args) != 2:
        return None
    idents: list[str] = []
    literal: Any = None
    for arg in args:
        ident = ""
        if arg[0] in ("call", "method"):
            ident = _array_access(arg)
            if not ident:
                return None
        elif arg[0] == "ident":
            ident = arg[1]
        elif arg[0] == "const":
            literal = UInt(arg[2]) if arg[1] == "uint" else arg[2]
        elif arg[0] == "select":
            ident = _walk_select(arg)
        elif arg[0] == "has":  # cel-go's has() is a select
            ident = _walk_select(("select", arg[1], arg[2]))
        if ident:
            if len(idents) < 2:
                idents.append(ident)
            else:
                idents[1] = ident
    if len(idents) == 2:
        first, second = idents
        first_var, second_var = first.startswith("vars"), second.startswith("vars")
        if first_var and second_var:
            return _Predicate(first, function, literal_ident=second)
        if first_var and first[5:] in values:
            literal, first, second = values[first[5:]], second, ""
        if second_var and second and second[5:] in values:
            literal, second = values[second[5:]], ""
        if first and second:
            return _Predicate(first, function, literal_ident=second)
        idents = [first]
    ident = idents[0] if idents else ""
    if function in _ORDERINGS:
        if type(literal) not in (int, float, str):
            return None
        if args[0][0] == "const":
            function = _MIRROR[function]
    elif function == "@in":
        if type(literal) not in (int, float, str):
            return None
    elif function not in ("_==_", "_!=_"):
        return None
    return _Predicate(ident, function, literal=literal)
