"""The two evaluators of the ``"inngest"`` dialect (``_dialect_c.Kernel``, compiled, and
``_dialect_py.Kernel``) give the same value, error and match on random expressions over random
data: missing and registered paths, dotted variable names, lifted literals, macros, mappings
that are not dicts, values the runtime refuses."""

from __future__ import annotations

import random
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from inngest_core import _expr_dialect as dialect
from inngest_core.errors import EvaluationError, ExpressionLimitError, ExpressionSyntaxError
from twins import SKIP_COMPILED, TWINS

pytestmark = pytest.mark.skipif(bool(SKIP_COMPILED), reason=SKIP_COMPILED or "")

OURS = (EvaluationError, ExpressionLimitError, ExpressionSyntaxError)
FIELDS = ["a", "b", "data", "x"]
LITERALS = ['"x"', '""', "'y'", "1", "0", "-1", "2.5", "true", "false", "null", "1u",
            '[1, "x"]', '{"a": 1}', 'b"x"']


def _path(rng: random.Random, root: str | None = None) -> str:
    root = root or rng.choice(["event", "async", "async", "vars", "event.data"])
    return ".".join([root] + [rng.choice(FIELDS) for _ in range(rng.randint(1, 3))])


def _expr(rng: random.Random, depth: int = 0, local: str | None = None) -> str:
    if depth > 3 or rng.random() < 0.3:
        choice = rng.random()
        if local and choice < 0.3:
            return rng.choice([local, f"{local}.{rng.choice(FIELDS)}"])
        return _path(rng) if choice < 0.7 else rng.choice(LITERALS)

    def sub() -> str:
        return _expr(rng, depth + 1, local)

    kind = rng.randrange(16)
    if kind < 4:
        op = rng.choice(["==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "in"])
        return f"{sub()} {op} {sub()}"
    if kind < 6:
        return f"({sub()}) {rng.choice(['&&', '||'])} ({sub()})"
    if kind == 6:
        return f"!({sub()})"
    if kind == 7:
        return f"({sub()}) ? ({sub()}) : ({sub()})"
    if kind == 8:
        return f"has({_path(rng)})"
    if kind == 9:
        fn = rng.choice(["size", "lowercase", "uppercase", "int", "string", "double",
                         "json_parse", "b64decode", "date", "type"])
        return f"{fn}({sub()})"
    if kind == 10:
        method = rng.choice(["startsWith", "endsWith", "contains", "matches"])
        return f"{_path(rng)}.{method}({rng.choice(LITERALS[:3] + [_path(rng)])})"
    if kind == 11:
        key = rng.choice(["0", "1", '"a"', _path(rng)])
        return f"{_path(rng)}[{key}]"
    if kind == 12:
        macro = rng.choice(["exists", "all", "exists_one", "filter", "map"])
        var = rng.choice(["t", "async"])  # a loop variable may shadow a root
        body = _expr(rng, depth + 2, var)
        return f"{_path(rng)}.{macro}({var}, {body})"
    if kind == 13:
        return f"[{sub()}, {sub()}]"
    if kind == 14:
        return f'{{"k": {sub()}}}'
    return f"{sub()} {rng.choice(['in', '=='])} [{rng.choice(LITERALS[:3])}, {rng.choice(LITERALS[:3])}]"


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(14 if depth < 3 else 9)
    if kind < 9:
        return [1, 0, -1, 2.5, "x", "", True, False, None][kind]
    if kind < 12:
        return {rng.choice(FIELDS): _value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    if kind == 12:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return rng.choice([MappingProxyType({"a": 1}), {1: "x", "a": 2}, 2 ** 70, [{"a": 1}]])


def _activation(rng: random.Random) -> dict[str, Any]:
    act: dict[str, Any] = {}
    for root in ("event", "async"):
        if rng.random() < 0.9:
            act[root] = {f: _value(rng) for f in FIELDS if rng.random() < 0.6}
    if rng.random() < 0.15:
        act["event.data"] = {f: _value(rng) for f in FIELDS if rng.random() < 0.6}
    if rng.random() < 0.1:
        act["vars"] = {"a": 1}
    return act


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return ("value", call())
    except OURS as exc:
        return (type(exc).__name__, str(exc))
    except TypeError as exc:
        return ("TypeError", str(exc))


def _answers(source: str, activation: dict[str, Any]) -> list[tuple[Any, ...]]:
    found = []
    for twin in TWINS:
        try:
            program = dialect.compile_dialect(source, twin=twin.expr)
        except OURS as exc:
            found.append(("compile", type(exc).__name__, str(exc)))
            continue
        found.append((_outcome(lambda: program.raw(activation)),
                      _outcome(lambda: program.evaluate(activation)),
                      _outcome(lambda: program.matches(activation))))
    return found


@settings(max_examples=400, deadline=None)
@given(st.randoms(use_true_random=False))
@example(random.Random(7))
def test_kernels_agree(rng: random.Random) -> None:
    source = _expr(rng)
    activation = _activation(rng)
    answers = _answers(source, activation)
    assert answers[0] == answers[1], (source, activation)


@pytest.mark.parametrize("source, activation, expected", [
    # a registered path missing at any depth is unknown; unregistered reads are errors
    ("async.a.b == null", {"async": {}}, True),
    ("async.a.b == null", {"async": {"a": 1}}, True),
    ("async.a.startsWith('x')", {"async": {}}, False),  # the decorator's fixed answer
    ("[async.a][0]", {"async": {}},  # a list element is never registered
     "invalid type comparison: no such key: a: expression errored"),
    ("size(async.a) == 0 && async.a.b.startsWith('x')", {"async": {}}, False),
    ("has(async.a.b)", {"async": {"a": {}}}, False),
    ("has(async.a.b)", {"async": {"a": {"b": 1}}}, True),
    # dotted variable names: the longest name the activation binds wins
    ("event.data.a == 1", {"event.data": {"a": 1}}, True),
    ("event.data.a == 1", {"event.data": {"a": 2}, "event": {"data": {"a": 1}}}, False),
    # lifted literals replace the user's vars
    ('vars.a == "x"', {"vars": {"a": "y"}}, False),
    ('async.s == "x"', {"vars": {"a": "y"}, "async": {"s": "x"}}, True),
    # macros with the dialect's truthy logic, a loop variable shadowing a root
    ("async.xs.exists(async, async == 2)", {"async": {"xs": [1, 2]}}, True),
    ("async.xs.map(t, t + 1)", {"async": {"xs": [1, 2]}}, [2, 3]),
    ("async.xs.filter(t, t)", {"async": {"xs": [0, 1, "", "a"]}}, [1, "a"]),
    ('async.p in ["pro", "enterprise"]', {"async": {"p": "pro"}}, True),
    ('async.p in ["pro", "enterprise"]', {"async": {"p": 1}}, False),
    ("async.a || async.b", {"async": {"a": "", "b": "x"}}, "x"),
    ("async.a ? 1 : 2", {"async": {"a": "x"}}, 1),
])
def test_kernel_examples(source: str, activation: dict[str, Any], expected: Any) -> None:
    for twin in TWINS:
        program = dialect.compile_dialect(source, twin=twin.expr)
        outcome = _outcome(lambda: program.evaluate(activation))
        want = ("EvaluationError", expected) if isinstance(expected, str) and " " in expected \
            else ("value", expected)
        assert outcome == want, (twin, source)


def test_the_compiled_twin_has_its_own_kernel() -> None:
    compiled, python = TWINS
    program = dialect.compile_dialect("async.a == 1", twin=compiled.expr)
    assert type(program._kernel).__module__ == "inngest_core._dialect_c"
    assert program._kernel.__class__.__module__ != "inngest_core._dialect_py"
    program = dialect.compile_dialect("async.a == 1", twin=python.expr)
    assert type(program._kernel).__module__ == "inngest_core._dialect_py"
