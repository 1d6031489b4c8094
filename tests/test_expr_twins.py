"""The two CEL evaluators agree: same value, or the same error type and message.

Random expressions are built as ``_expr_ast`` trees over the operators and functions the
compiled twin answers natively (and the fallbacks around them), rendered with ``unparse``,
and evaluated by both twins over random activations.  Then exact tests of the compiled
``Program``'s own API: ``matches``, ``substitute``, ``str``, ``==``/``hash``, ``repr``.
"""

from __future__ import annotations

import importlib
import math
import threading
from collections import OrderedDict, defaultdict
from datetime import datetime, timedelta, timezone
from types import MappingProxyType, ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inngest_core._expr_lib import UInt
from inngest_core._expr_subst import unparse
from inngest_core.errors import EvaluationError, ExpressionLimitError

from twins import SKIP_COMPILED

if SKIP_COMPILED:
    pytest.skip(SKIP_COMPILED, allow_module_level=True)

c: ModuleType = importlib.import_module("inngest_core._expr_c")
py: ModuleType = importlib.import_module("inngest_core._expr_py")

Node = tuple[Any, ...]

# ----------------------------------------------------------------------------- comparing


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types, NaN equal to NaN, containers deeply."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def outcome(twin: ModuleType, source: str, activation: dict[str, Any]) -> tuple[str, Any]:
    try:
        program = twin.compile_program(source)
    except Exception as exc:  # noqa: BLE001 - the type and message are what we compare
        return ("compile error", (type(exc), str(exc)))
    try:
        return ("value", program.evaluate(activation))
    except Exception as exc:  # noqa: BLE001
        return ("error", (type(exc), str(exc)))


def match_outcome(twin: ModuleType, source: str, activation: dict[str, Any]) -> Any:
    try:
        return twin.compile_program(source).matches(activation)
    except Exception as exc:  # noqa: BLE001
        return (type(exc), str(exc))


def assert_agree(source: str, activation: dict[str, Any]) -> None:
    got_c = outcome(c, source, activation)
    got_py = outcome(py, source, activation)
    assert got_c[0] == got_py[0], (source, got_c, got_py)
    if got_c[0] == "value":
        assert same(got_c[1], got_py[1]), (source, got_c, got_py)
    else:
        assert got_c[1] == got_py[1], (source, got_c, got_py)
    assert match_outcome(c, source, activation) == match_outcome(py, source, activation)


# ----------------------------------------------------------------------------- random trees

INTS = st.sampled_from([0, 1, -1, 2, 7, 100, -100, 2**31, 2**62, 2**63 - 1, -(2**63)])
FLOATS = st.sampled_from([0.0, -0.0, 1.0, 1.5, -2.5, 100.0, 1e300, math.inf, -math.inf, math.nan])
TEXTS = st.sampled_from(["", "a", "ab", "abc", "pro", "enterprise", "x@example.com", "é", "A"])


def const(kind: str, value: Any) -> Node:
    return ("const", kind, value)


def _literal_float(value: float) -> Node:
    if math.isnan(value) or math.isinf(value):
        text = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return ("call", "double", (const("string", text),))
    return const("double", value)


LITERALS = st.one_of(
    INTS.map(lambda v: const("int", v)),
    st.integers(0, 2**64 - 1).map(lambda v: const("uint", v)),
    FLOATS.map(_literal_float),
    TEXTS.map(lambda v: const("string", v)),
    st.sampled_from([b"", b"ab"]).map(lambda v: const("bytes", v)),
    st.booleans().map(lambda v: const("bool", v)),
    st.just(const("null", None)),
    st.sampled_from(["2024-02-29T23:59:59.5Z", "0001-01-01T00:00:00Z", "bad"]).map(
        lambda v: ("call", "timestamp", (const("string", v),))),
    st.sampled_from(["90s", "-1.5h", "0", "x"]).map(
        lambda v: ("call", "duration", (const("string", v),))),
)

#: Variables of the random activation and select chains into it.
VARIABLES = st.sampled_from([
    ("ident", "a"), ("ident", "b"), ("ident", "s"), ("ident", "xs"), ("ident", "m"),
    ("ident", "nope"), ("ident", "int"),
    ("select", ("ident", "m"), "k"), ("select", ("ident", "m"), "n"),
    ("select", ("select", ("ident", "m"), "n"), "k"), ("select", ("ident", "m"), "missing"),
    ("select", ("ident", "a"), "k"),
])

BINARY = ["_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_", "_+_", "_-_", "_*_", "_/_", "_%_",
          "_&&_", "_||_", "@in", "_[_]"]
METHODS = ["startsWith", "endsWith", "contains", "matches"]
PATTERNS = st.sampled_from(["a", "^a", "b$", ".*", "[", "é"]).map(lambda v: const("string", v))


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.tuples(st.sampled_from(BINARY), children, children).map(
            lambda t: ("call", t[0], (t[1], t[2]))),
        st.tuples(children, children, children).map(lambda t: ("call", "_?_:_", t)),
        children.map(lambda x: ("call", "!_", (x,))),
        children.map(lambda x: ("call", "-_", (x,))),
        children.map(lambda x: ("call", "size", (x,))),
        children.map(lambda x: ("method", "size", x, ())),
        st.sampled_from(["int", "uint", "double", "string", "bool", "type", "dyn"]).flatmap(
            lambda f: children.map(lambda x: ("call", f, (x,)))),
        st.tuples(st.sampled_from(METHODS), children, st.one_of(children, PATTERNS)).map(
            lambda t: ("method", t[0], t[1], (t[2],))),
        st.tuples(children, st.lists(LITERALS, max_size=4)).map(
            lambda t: ("call", "@in", (t[0], ("list", tuple(t[1]))))),
        st.lists(children, max_size=3).map(lambda xs: ("list", tuple(xs))),
        st.lists(st.tuples(LITERALS, children), max_size=2).map(lambda ps: ("map", tuple(ps))),
        st.tuples(children, st.sampled_from(["k", "n", "zz"])).map(
            lambda t: ("select", t[0], t[1])),
        st.sampled_from(["k", "n", "missing"]).map(lambda f: ("has", ("ident", "m"), f)),
        st.tuples(st.sampled_from(["getHours", "getFullYear", "getDayOfWeek", "getSeconds",
                                   "getMilliseconds"]), children).map(
            lambda t: ("method", t[0], t[1], ())),
        st.tuples(st.sampled_from(["all", "exists", "exists_one", "filter", "map"]),
                  st.sampled_from([("ident", "xs"), ("ident", "m"), ("ident", "a")]),
                  children).map(lambda t: ("comprehension", t[0], t[1], "x", (t[2],))),
    )


LOOP_LEAVES = st.one_of(LITERALS, VARIABLES, st.just(("ident", "x")))
TREES = st.recursive(LOOP_LEAVES, _extend, max_leaves=12)

SCALARS = st.one_of(
    st.none(), st.booleans(), INTS, FLOATS, TEXTS, st.sampled_from([b"ab", UInt(3), UInt(0)]),
    st.sampled_from([2**64, datetime(2024, 1, 2, tzinfo=timezone.utc), timedelta(seconds=90)]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["k", "n", "zz"]), inner, max_size=3),
    ),
    max_leaves=6,
)
ACTIVATIONS = st.fixed_dictionaries(
    {"a": VALUES, "b": VALUES, "s": TEXTS, "xs": st.lists(SCALARS, max_size=4),
     "m": st.dictionaries(st.sampled_from(["k", "n", "zz"]), VALUES, max_size=3)}
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=TREES, activation=ACTIVATIONS)
def test_twins_agree_on_random_expressions(tree: Node, activation: dict[str, Any]) -> None:
    assert_agree(unparse(tree), activation)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=TREES, bindings=ACTIVATIONS, activation=ACTIVATIONS,
       names=st.sets(st.sampled_from(["a", "b", "s", "xs", "m"])))
def test_twins_agree_on_substitution(
    tree: Node, bindings: dict[str, Any], activation: dict[str, Any], names: set[str]
) -> None:
    source = unparse(tree)
    bound = {name: bindings[name] for name in names}
    results: list[tuple[Any, ...]] = []
    for twin in (c, py):
        try:
            program = twin.compile_program(source).substitute(bound)
        except Exception as exc:  # noqa: BLE001
            results.append(("error", type(exc), str(exc)))
            continue
        results.append(("program", program.source, program.ast, program.variables))
    assert results[0] == results[1]
    if results[0][0] == "program":
        assert_agree(results[0][1], activation)


HOT = st.sampled_from([
    "a == b", "a != b", "a < b", "a >= b", "a + b", "a - b", "a * b", "-a", "!a",
    "a && b", "a || b", "a ? b : s", "size(a)", "a.size()", "s.startsWith(a)",
    "s.endsWith(a)", "s.contains(a)", "a in [1, 2, 3]", 'a in ["pro", "enterprise"]',
    "a in m", "m.k == a", "m.n.k", "a[0]", 'a["k"]', "m[a]", "has(m.k)", "xs[1]",
    "a == 1", 'a == "pro"', "a != 1", "xs.all(x, x > a)", "xs.exists(x, x == a)",
    "xs.exists_one(x, x == a)", "xs.map(x, x + a)", "xs.filter(x, x < a)",
    "xs.map(x, x > 0, x * 2)", "a.all(x, x)", "m.map(k, k)", "[a, b]", "{a: b}",
    "1 / 0 > a || a", "a || 1 / 0 > 0", "a && 1 / 0 > 0", "1 / 0 > 0 && a",
])


@settings(max_examples=1500, deadline=None)
@given(source=HOT, activation=ACTIVATIONS)
def test_twins_agree_on_hot_paths(source: str, activation: dict[str, Any]) -> None:
    assert_agree(source, activation)


@pytest.mark.parametrize("source, activation", [
    ("a.b.c", {"a.b": {"c": 1}}),
    ("a.b.c", {"a.b.c": 2, "a": {"b": {"c": 1}}}),
    ("a.b", {"a": {"b": 3}, "x.y": 1}),
    (".a", {"a": 4}),
    ("x", {"x": 2**63}),
    ("x", {"x": object()}),
    ("true || x.y", {"x": {"y": object()}}),
    ("x", {"x": (1, [2], {"k": datetime(2020, 1, 1)})}),
    ("[1, 2].map(x, [3, 4].map(x, x * 2))", {}),
    ("[1, 2].all(x, [x].all(y, y > 0) && x > 0)", {}),
    ("[1, 2, 3].map(x, x).size()", {}),
    ("int", {}),
    ("google.protobuf.Timestamp", {}),
    ("T{a: 1}", {}),
    ("![(0).getHours()]", {}),
    ("{1: (0).getHours()} == {}", {}),
    ('timestamp("2024-01-01T00:00:00Z") < t', {"t": datetime(2025, 1, 1)}),
])
def test_twins_agree_on_edge_cases(source: str, activation: dict[str, Any]) -> None:
    assert_agree(source, activation)


@pytest.mark.parametrize("source, activation", [
    ("x + 1", defaultdict(lambda: 5)),
    ("int", defaultdict(int)),
    ("[1].all(x, x == y)", defaultdict(lambda: 1)),
    ("a.b.c", OrderedDict({"a.b": {"c": 1}})),
    ("a.b.c", MappingProxyType({"a": {"b": {"c": 7}}})),
    ("a.b", MappingProxyType({})),
])
def test_twins_read_any_mapping_alike(source: str, activation: Any) -> None:
    got = [outcome(twin, source, activation) for twin in (c, py)]
    assert got[0] == got[1]


def test_comprehension_steps_limit_is_the_same() -> None:
    source = "xs.all(x, xs.all(y, true))"
    activation = {"xs": list(range(40))}
    for twin in (c, py):
        program = twin.compile_program(source, max_comprehension_steps=1000)
        with pytest.raises(ExpressionLimitError) as info:
            program.evaluate(activation)
        assert str(info.value) == "evaluation took more than the limit of 1000 comprehension steps"
        assert twin.compile_program(source, max_comprehension_steps=1640).evaluate(activation)


def test_non_mapping_activation() -> None:
    for twin in (c, py):
        with pytest.raises(TypeError, match="activation must be a mapping, not list"):
            twin.compile_program("a").evaluate([1])


def test_compiled_exports_what_the_python_twin_exports() -> None:
    assert set(py.__all__) <= set(c.__all__)


# ----------------------------------------------------------------------------- Program API


S1 = "event.data.user.id == async.data.user.id"


def _activation(event_id: Any, async_id: Any) -> dict[str, Any]:
    return {"event": {"data": {"user": {"id": event_id}}},
            "async": {"data": {"user": {"id": async_id}}}}


def test_matches_is_true_only_for_exactly_true() -> None:
    program = c.compile_program(S1)
    assert program.matches(_activation("u1", "u1")) is True
    assert program.matches(_activation("u1", "u2")) is False
    assert program.matches({"event": {}}) is False  # an evaluation error is no match
    with pytest.raises(TypeError):
        program.matches([1])  # a bad activation is the caller's mistake
    assert c.compile_program("a").matches({"a": 1}) is False  # not a bool
    assert c.compile_program("a").matches({"a": True}) is True
    limited = c.compile_program("xs.all(x, true)", max_comprehension_steps=2)
    with pytest.raises(ExpressionLimitError):
        limited.matches({"xs": [1, 2, 3]})  # a limit still raises, as in the Python twin


def test_substitute_binds_and_folds() -> None:
    program = c.compile_program(S1)
    bound = program.substitute({"event": {"data": {"user": {"id": "u1"}}}})
    assert isinstance(bound, c.Program)
    assert str(bound) == bound.source == '"u1" == async.data.user.id'
    assert bound.variables == frozenset({"async"})
    assert bound.matches(_activation(None, "u1")) is True
    assert bound.evaluate({"async": {"data": {"user": {"id": "u2"}}}}) is False
    assert program.substitute({}) == program
    assert c.compile_program("a > 1 && b").substitute({"a": 0}).source == "false"


def test_str_repr_eq_hash() -> None:
    one = c.compile_program("a  ==  b")
    two = c.compile_program("(a == b)")
    assert str(one) == "a  ==  b"
    assert repr(one) == "Program('a  ==  b')"
    assert one == two and hash(one) == hash(two)
    assert one != c.compile_program("a != b")
    assert one != "a == b"
    assert len({one, two, c.compile_program("b == a")}) == 2


def test_program_is_immutable_and_thread_safe() -> None:
    program = c.compile_program("xs.filter(x, x % 2 == 0).size() == n")
    with pytest.raises(AttributeError):
        program.source = "x"
    with pytest.raises(TypeError):
        c.Program()
    failures: list[Any] = []

    def work(n: int) -> None:
        for _ in range(200):
            got = program.evaluate({"xs": list(range(2 * n)), "n": n})
            if got is not True:
                failures.append((n, got))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures


@pytest.mark.parametrize("twin", [c, py], ids=["c", "py"])
def test_program_from_a_parsed_tree(twin: ModuleType) -> None:
    tree = twin.parse("a.b == 1")
    program = twin.Program("a.b == 1", tree)
    assert program.ast == tree and program.variables == frozenset({"a"})
    assert program.evaluate({"a": {"b": 1}}) is True
    assert program == twin.compile_program("a.b==1")
    limited = twin.Program("xs.all(x, true)", twin.parse("xs.all(x, true)"), 2)
    with pytest.raises(ExpressionLimitError):
        limited.evaluate({"xs": [1, 2, 3]})


def test_evaluation_errors_raise_evaluation_error() -> None:
    with pytest.raises(EvaluationError, match="^no such key: nope$"):
        c.compile_program("m.nope").evaluate({"m": {}})
    with pytest.raises(EvaluationError, match="^division by zero$"):
        c.compile_program("1 / x").evaluate({"x": 0})
    with pytest.raises(EvaluationError, match=r"^no matching overload for '_\+_' applied to \(int, string\)$"):
        c.compile_program("1 + x").evaluate({"x": "a"})


def test_long_chains_and_deep_nesting_are_clean() -> None:
    chain = "+".join(["1"] * 250_000)
    with pytest.raises(ExpressionLimitError):
        c.compile_program(chain)
    with pytest.raises(ExpressionLimitError):
        c.compile_program(chain, max_source_length=10**6)
    nested = "(" * 100_000 + "1" + ")" * 100_000
    with pytest.raises(ExpressionLimitError):
        c.compile_program(nested, max_source_length=10**6)


@pytest.mark.parametrize("source, value", [
    ("+".join(["1"] * 1000), 1000),
    ("-" * 999 + "1", -1),
    ("[" * 999 + "]" * 999 + " == " + "[" * 998 + "]" * 998, False),
    ("!" * 998 + "true", True),
])
def test_raised_depth_evaluates_up_to_max_nesting(source: str, value: Any) -> None:
    for twin in (c, py):
        program = twin.compile_program(source, max_source_length=10**6, max_depth=10**6)
        assert program.evaluate({}) == value
        assert program.matches({}) is (value is True)


@pytest.mark.parametrize("source", [
    "+".join(["1"] * 5000),
    "-" * 5001 + "1",
    "[" * 3000 + "]" * 3000,
    "!" * 4000 + "true",
    "(" * 100_000 + "1" + ")" * 100_000,
])
def test_past_max_nesting_is_a_clean_limit_error(source: str) -> None:
    """However high ``max_depth`` is raised, trees past MAX_NESTING levels are refused:
    compiling and evaluating recurse once per level, and the C stack is finite."""
    for twin in (c, py):
        with pytest.raises(ExpressionLimitError,
                           match="^expression nests deeper than the limit of 1000$"):
            twin.compile_program(source, max_source_length=10**6, max_depth=10**9)


def test_deeply_nested_substituted_data_is_a_clean_limit_error() -> None:
    deep: Any = 1
    for _ in range(5000):
        deep = [deep]
    for twin in (c, py):
        program = twin.compile_program("async.x == event.x")
        with pytest.raises(ExpressionLimitError,
                           match="^expression nests deeper than the limit of 1000$"):
            program.substitute({"event": {"x": deep}})


@pytest.mark.parametrize("source", ["0 && nope", "0 || nope", '"a" && (1 / 0 == 1)'])
def test_non_bool_beside_an_error_reports_the_error(source: str) -> None:
    for twin in (c, py):
        with pytest.raises(EvaluationError) as info:
            twin.compile_program(source).evaluate({})
        assert "CelError" not in str(info.value)
        assert str(info.value) in ("undeclared reference to 'nope'", "division by zero")


@pytest.mark.parametrize("source", ["x", "x == x", "[x]"])
def test_deeply_nested_data_is_an_evaluation_error(source: str) -> None:
    deep: Any = 1
    for _ in range(100_000):
        deep = [deep]
    for twin in (c, py):
        program = twin.compile_program(source)
        with pytest.raises(EvaluationError, match="^a value nests too deeply to evaluate"):
            program.evaluate({"x": deep})
        assert program.matches({"x": deep}) is False
        assert program.evaluate({"x": [[1]]}) is not None  # the interpreter is fine after
