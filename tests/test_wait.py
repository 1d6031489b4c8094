"""Wait matching: match_expression, Program.matches / substitute, and the ExpressionIndex
(exactly the linear evaluation, for both twins)."""

from __future__ import annotations

import random
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inngest_core import ExpressionSyntaxError, match_expression
from twins import TWINS


def _index(impl):
    return impl.wait.ExpressionIndex()


def _compile(impl, source: str):
    return impl.expr.compile_program(source)


# ------------------------------------------------------------------ match_expression

@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("data.user.id", "event.data.user.id == async.data.user.id"),
        ("id", "event.id == async.id"),
        ("data._x9", "event.data._x9 == async.data._x9"),
    ],
)
def test_match_expression(field: str, expected: str) -> None:
    assert match_expression(field) == expected


@pytest.mark.parametrize(
    ("field", "message", "column"),
    [
        ("", "expected an identifier in a match field", 1),
        ("data.", "expected an identifier in a match field", 6),
        (".data", "expected an identifier in a match field", 1),
        ("data..id", "expected an identifier in a match field", 6),
        ("data.user-id", "expected a dotted path of identifiers in a match field", 10),
        ("data id", "expected a dotted path of identifiers in a match field", 5),
        ("data.1x", "expected an identifier in a match field", 6),
        ("data.in", 'reserved word "in" in a match field', 6),
        ("data[0]", "expected a dotted path of identifiers in a match field", 5),
    ],
)
def test_match_expression_rejects(field: str, message: str, column: int) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        match_expression(field)
    assert info.value.line == 1
    assert info.value.column == column
    assert str(info.value) == (
        f"{message} at line 1, column {column}\n  {field}\n  {' ' * (column - 1)}^")


def test_match_expression_type_error() -> None:
    with pytest.raises(TypeError, match="^match field must be str, not int$"):
        match_expression(1)  # type: ignore[arg-type]


# ------------------------------------------------------------------ Program.matches / substitute

@pytest.mark.parametrize(
    ("source", "activation", "expected"),
    [
        ("a == 1", {"a": 1}, True),
        ("a == 1", {"a": 2}, False),
        ("a", {"a": 1}, False),          # not a bool
        ("a", {"a": True}, True),
        ("a.b == 1", {"a": {}}, False),  # error: no such key
        ("a / 0 == 1", {"a": 1}, False),  # error: division by zero
        ("a || true", {}, True),          # the error is absorbed
        ("nope == 1", {}, False),         # unbound variable
    ],
)
def test_matches(impl, source: str, activation: dict, expected: bool) -> None:
    assert _compile(impl, source).matches(activation) is expected


ISSUE_SOURCE = "event.data.id == async.data.id && async.data.val <= event.data.value"


@pytest.mark.parametrize(
    ("source", "event", "expected"),
    [
        (ISSUE_SOURCE, {"data": {"id": "ab_1", "value": 1295}},
         '"ab_1" == async.data.id && async.data.val <= 1295'),
        (ISSUE_SOURCE, {"data": {}}, "null == async.data.id && async.data.val <= null"),
        ("event.data.plan == \"pro\" && async.data.ok == true", {"data": {"plan": "pro"}},
         "async.data.ok == true"),
        ("event.data.plan == \"pro\" && async.data.ok == true", {"data": {"plan": "free"}},
         "false"),
        ("event.data.n > 1 || async.x == 1", {"data": {"n": 5}}, "true"),
        ("async.x in event.data.tags", {"data": {"tags": ["a", "b"]}},
         'async.x in ["a", "b"]'),
        ("async.x == event.data.f", {"data": {"f": 1.5}}, "async.x == 1.5"),
        ("async.x == event.data.m", {"data": {"m": {"k": [1, None, True]}}},
         'async.x == {"k": [1, null, true]}'),
        ("has(event.data.a) && async.x == 1", {"data": {"b": 1}}, "false"),
        ("event.data.xs.all(x, x > async.min)", {"data": {"xs": [1, 2]}},
         "[1, 2].all(x, x > async.min)"),
        ("event.data.s == async.s", {"data": {"s": 'q"\n'}}, '"q\\"\\n" == async.s'),
    ],
)
def test_substitute(impl, source: str, event: dict, expected: str) -> None:
    program = _compile(impl, source).substitute({"event": event})
    assert str(program) == expected
    assert program.source == expected
    again = _compile(impl, expected)
    assert again == program
    assert again.ast == program.ast


# ------------------------------------------------------------------ the index

def test_issue_example(impl) -> None:
    index = _index(impl)
    index.add("w", ISSUE_SOURCE, event={"data": {"id": "ab_1", "value": 1295}})
    assert index.match({"data": {"id": "ab_1", "val": 1000}}) == ["w"]
    assert index.match({"data": {"id": "ab_1", "val": 2000}}) == []
    assert index.match({"data": {"id": "ab_2", "val": 1000}}) == []


def test_insertion_order_remove_and_replace(impl) -> None:
    index = _index(impl)
    index.add(3, 'async.id == "x"')
    index.add("b", "async.n >= 2")
    index.add(("t", 1), 'async.id in ["x", "y"]')
    index.add(None, "size(async.id) == 1")
    event = {"id": "x", "n": 2}
    assert index.match(event) == [3, "b", ("t", 1), None]
    assert len(index) == 4 and ("t", 1) in index and "zz" not in index
    index.remove("b")
    assert index.match(event) == [3, ("t", 1), None]
    assert "b" not in index and len(index) == 3
    with pytest.raises(KeyError):
        index.remove("b")
    index.add(3, 'async.id == "y"')  # replaced: moves to the end, old filing gone
    assert index.match(event) == [("t", 1), None]
    assert index.match({"id": "y"}) == [("t", 1), None, 3]
    for key in [("t", 1), None, 3]:
        index.remove(key)
    assert len(index) == 0 and index.match(event) == []
    assert index.candidates(event) == []


def test_add_accepts_programs(impl) -> None:
    index = _index(impl)
    index.add("p", _compile(impl, "async.a == event.a"), event={"a": 7})
    assert index.match({"a": 7}) == ["p"]
    assert index.match({"a": 7.0}) == ["p"]  # CEL numeric equality
    assert index.match({"a": True}) == []


@pytest.mark.parametrize(
    ("source", "event", "hit"),
    [
        ("async.v == 1", {"v": 1.0}, True),
        ("async.v == 1u", {"v": 1}, True),
        ("async.v == true", {"v": 1}, False),
        ("async.v == 1", {"v": True}, False),
        ("async.v == null", {"v": None}, True),
        ("async.v == null", {}, False),
        ("async.v == \"a\"", {"v": b"a"}, False),
        ("async.v == b\"a\"", {"v": b"a"}, True),
        ("async.v > 1.5", {"v": 2}, True),
        ("async.v > 2", {"v": 2}, False),
        ("async.v >= 2", {"v": 2.0}, True),
        ("2 > async.v", {"v": 1}, True),
        ("async.v < 2", {"v": float("nan")}, False),
        ("async.v <= -1", {"v": -1}, True),
        ("async.v > 1", {"v": "9"}, False),
        ("async['v'] == 3", {"v": 3}, True),
        ("async.v.w == 3", {"v": [3]}, False),
        ("async.v == async.w", {"v": 1, "w": 1}, True),
        ("!(async.v == 1)", {"v": 2}, True),
        ("async.v != 1", {"v": 2}, True),
        ("async.v.startsWith(\"a\") || async.n in [1, 2]", {"v": "b", "n": 2.0}, True),
    ],
)
def test_index_semantics_match_evaluation(impl, source: str, event: dict, hit: bool) -> None:
    index = _index(impl)
    index.add("k", source)
    assert _compile(impl, source).matches({"async": event}) is hit
    assert index.match(event) == (["k"] if hit else [])


def test_unindexable_group_is_always_a_candidate(impl) -> None:
    index = _index(impl)
    index.add("eq", 'async.id == "x"')
    index.add("fn", 'async.id.endsWith("x")')
    assert index.candidates({"id": "nope"}) == ["fn"]
    assert index.candidates({"id": "x"}) == ["eq", "fn"]


def test_remove_of_two_filings_of_one_value(impl) -> None:
    # Both groups are filed under async.a and both hold "x": removing the first filing may
    # empty the "x" bucket (or the whole path) before the second one is removed.
    for others, on in (([], None), (['async.a == "y"'], "y"), (['async.a == "x"'], "x")):
        for source in ('async.a in ["x", "y"] || async.a == "x"',
                       'async.a == "x" || async.a in ["x", "y"] && async.b == 1'):
            index = _index(impl)
            for i, other in enumerate(others):
                index.add(f"o{i}", other)
            index.add("k", source)
            index.remove("k")
            assert "k" not in index and len(index) == len(others)
            assert index.match({"a": "x", "b": 1}) == (["o0"] if on == "x" else [])
            assert index.match({"a": "y", "b": 1}) == (["o0"] if on == "y" else [])
            index.add("k", source)
            assert index.match({"a": "y", "b": 1})[-1] == "k"


# ------------------------------------------------------------------ random workloads

FIELDS = ["a", "b", "c"]
VALUES = ["x", "y", "z", 1, 2, 2.5, True, False, None]


def _literal(rng: random.Random) -> str:
    value = rng.choice(VALUES)
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _atom(rng: random.Random) -> str:
    field = f"async.{rng.choice(FIELDS)}"
    kind = rng.randrange(9)
    if kind <= 2:
        return f"{field} == {_literal(rng)}"
    if kind == 3:
        return f"{field} in [{', '.join(_literal(rng) for _ in range(rng.randint(1, 3)))}]"
    if kind == 4:
        return f"{field} {rng.choice(['<', '<=', '>', '>='])} {rng.choice(['1', '2', '2.5', '0u'])}"
    if kind == 5:
        return f"{rng.choice(['1', '2.5'])} {rng.choice(['<', '>='])} {field}"
    if kind == 6:
        return f"!({field} == {_literal(rng)})"
    if kind == 7:
        return f'string({field}).startsWith("x")'
    return f"{field} == async.{rng.choice(FIELDS)}"


def _expression(rng: random.Random, depth: int = 0) -> str:
    if depth > 2 or rng.random() < 0.4:
        return _atom(rng)
    op = rng.choice(["&&", "||"])
    return f"({_expression(rng, depth + 1)}) {op} ({_expression(rng, depth + 1)})"


def _event(rng: random.Random) -> dict:
    return {f: rng.choice(VALUES) for f in FIELDS if rng.random() < 0.85}


def _linear(programs: dict, event: dict) -> list:
    return [k for k, p in programs.items() if p.matches({"async": event})]


@pytest.mark.parametrize("seed", range(6))
def test_random_workload_equals_linear_evaluation(impl, seed: int) -> None:
    rng = random.Random(seed)
    index = _index(impl)
    programs = {}
    for key in range(300):
        source = _expression(rng)
        programs[key] = _compile(impl, source)
        index.add(key, source)
    for key in rng.sample(range(300), 60):
        index.remove(key)
        del programs[key]
    for _ in range(150):
        event = _event(rng)
        assert index.match(event) == _linear(programs, event), event


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False))
def test_hypothesis_workload_both_twins(rng: random.Random) -> None:
    sources = [_expression(rng) for _ in range(25)]
    events = [_event(rng) for _ in range(10)]
    results = []
    for twin in TWINS:
        index = twin.wait.ExpressionIndex()
        programs = {}
        for key, source in enumerate(sources):
            index.add(key, source)
            programs[key] = twin.expr.compile_program(source)
        got = [index.match(event) for event in events]
        assert got == [_linear(programs, event) for event in events]
        results.append(got)
    assert all(r == results[0] for r in results)


def test_threads_interleave_adds_removes_and_matches(impl) -> None:
    index = _index(impl)
    stable = {f"s{i}": f'async.id == "{i % 10}"' for i in range(200)}
    for key, source in stable.items():
        index.add(key, source)
    errors: list[BaseException] = []

    def churn(worker: int) -> None:
        try:
            for i in range(300):
                key = f"t{worker}-{i}"
                index.add(key, f'async.id == "{i % 10}" || async.n > {i}')
                if i % 2:
                    index.remove(key)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def read() -> None:
        try:
            for i in range(300):
                got = index.match({"id": "3", "n": -1})
                stable_hits = [k for k in got if k.startswith("s")]
                assert stable_hits == [f"s{j}" for j in range(3, 200, 10)]
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=churn, args=(w,)) for w in range(3)]
    threads += [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(index) == 200 + 3 * 150
    assert index.match({"id": "3", "n": -1})[:20] == [f"s{j}" for j in range(3, 200, 10)]


@pytest.mark.parametrize(
    "source",
    [
        "async.v == 9007199254740992.0",
        "async.v == 9007199254740993",
        "async.v >= 9007199254740996.0",
        "async.v < -9007199254740993",
        "async.v in [9007199254740992.0, 1]",
    ],
)
@pytest.mark.parametrize(
    "value", [9007199254740993, 9007199254740992.0, 9007199254740995, -9007199254740995, 1])
def test_numbers_past_two_to_the_53_match_as_evaluation_does(impl, source: str,
                                                            value: object) -> None:
    # CEL compares an int with a double as doubles: 2**53 + 1 == 2.0**53 is true.
    index = _index(impl)
    index.add("k", source)
    expected = ["k"] if _compile(impl, source).matches({"async": {"v": value}}) else []
    assert index.match({"v": value}) == expected


# ------------------------------------------------------------------ one program, many waits

def test_filing_is_chosen_per_add_for_a_program_added_again(impl) -> None:
    # The plan of a program added again is kept (_wait_plan.plan), its filing is not: each
    # add files under the equality whose bucket is emptiest right then (ties: source order).
    index = _index(impl)
    for i in range(3):
        index.add(f"plan{i}", 'async.plan == "pro"')
    program = _compile(impl, 'async.plan == "pro" && async.id == "u1"')
    for key in range(5):
        index.add(key, program)
    assert index.candidates({"plan": "pro", "id": "zz"}) == ["plan0", "plan1", "plan2", 3]
    assert index.candidates({"id": "u1"}) == [0, 1, 2, 4]
    assert index.match({"plan": "pro", "id": "u1"}) == ["plan0", "plan1", "plan2", 0, 1, 2, 3, 4]
    index.remove(3)
    index.add(3, program)  # plan: 3 keys, id: 4 keys
    assert index.candidates({"plan": "pro", "id": "zz"}) == ["plan0", "plan1", "plan2", 3]


def test_a_program_of_another_tree_after_the_same_one(impl) -> None:
    index = _index(impl)
    first = _compile(impl, 'async.id == "a"')
    second = _compile(impl, 'async.id == "b" || async.n > 2')
    for key, program in enumerate([first, first, second, second, first]):
        index.add(key, program)
    assert index.match({"id": "a"}) == [0, 1, 4]
    assert index.match({"id": "b"}) == [2, 3]
    assert index.match({"n": 3}) == [2, 3]
    index.add(1, second)  # replaced by the other program: refiled under its groups
    assert index.match({"id": "a"}) == [0, 4]
    assert index.match({"n": 3}) == [2, 3, 1]


@pytest.fixture(scope="module")
def dialect_expression():
    """test_dialect's random expressions of the dialect (imported here, not at the top:
    test_dialect imports this module)."""
    from test_dialect import _dialect_expression

    return _dialect_expression


@settings(max_examples=40, deadline=None)
@given(rng=st.randoms(use_true_random=False), which=st.sampled_from(["cel", "inngest"]))
def test_hypothesis_few_programs_added_for_many_waits(dialect_expression, rng: random.Random,
                                                      which: str) -> None:
    # Adds (runs of the same program object among them), replacements and removes drawn from
    # a pool of four programs answer as evaluating every stored program, in both twins.
    from inngest_core import _expr_dialect

    sources = [(dialect_expression if which == "inngest" else _expression)(rng)
               for _ in range(4)]
    steps = []
    for _ in range(60):
        pick = steps[-1][1] if steps and rng.random() < 0.5 else rng.randrange(len(sources))
        steps.append((rng.randrange(15), pick, rng.random() < 0.2))
    events = [_event(rng) for _ in range(6)]
    results = []
    for twin in TWINS:
        pool = [_expr_dialect.compile_dialect(source, twin=twin.expr) if which == "inngest"
                else twin.expr.compile_program(source) for source in sources]
        index = twin.wait.ExpressionIndex(dialect=which)
        stored: dict = {}  # key -> program, in the index's order (a replacement moves last)
        got = []
        for step, (key, pick, remove) in enumerate(steps):
            if remove and key in stored:
                index.remove(key)
                del stored[key]
            else:
                index.add(key, pool[pick])
                stored.pop(key, None)
                stored[key] = pool[pick]
            if step % 15 == 14:
                for event in events:
                    got.append(index.match(event))
                    assert got[-1] == _linear(stored, event), (step, event)
        results.append(got)
    assert all(r == results[0] for r in results)
