"""The ``dialect`` choice on the public API, the wait index's exactness under the
``"inngest"`` dialect, and the twins' agreement in it."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inngest_core import _expr_dialect as dialect
from inngest_core.errors import EvaluationError
from inngest_core.expr import compile_expression, evaluate
from inngest_core.wait import ExpressionIndex
from test_wait import FIELDS, _event, _expression
from twins import TWINS


def test_default_dialect_is_cel() -> None:
    with pytest.raises(EvaluationError):
        evaluate("event.data.missing == null", {"event": {"data": {}}})
    assert evaluate("event.data.missing == null", {"event": {"data": {}}}, "inngest") is True


def test_dialects_cache_apart_and_reject_unknown() -> None:
    cel = compile_expression("a || b")
    inngest = compile_expression("a || b", dialect="inngest")
    assert cel is compile_expression("a || b")
    assert inngest is compile_expression("a || b", dialect="inngest")
    assert cel is not inngest
    assert inngest.evaluate({"a": "", "b": "x"}) == "x"
    with pytest.raises(ValueError, match="unknown dialect"):
        compile_expression("a", dialect="go")


@pytest.mark.parametrize("source, activation, expected", [
    ("async.data.x == null", {"async": {"data": {}}}, True),
    ("async.data.n < 5", {"async": {"data": {}}}, True),
    ("async.data.n > 5", {"async": {"data": {}}}, False),
    ('async.data.a || async.data.b == "x"', {"async": {"data": {"b": "x"}}}, True),
    ("1 + 2.5", {}, "12.5"),
    ('"\\u0041" == "A"', {}, False),
    ("event.data.count + 1", {"event": {"data": {"count": 10.0}}}, "101"),
    ("size(event.data.missing)", {"event": {"data": {}}}, 0),
    ('lowercase("ABC") + uppercase("d")', {}, "abcD"),
    ("json_parse('{\"a\": 1}').a", {}, 1.0),
])
def test_dialect_rules(source: str, activation: dict, expected: Any) -> None:
    assert compile_expression(source, dialect="inngest").evaluate(activation) == expected


def test_matches_and_substitute_in_the_dialect() -> None:
    program = compile_expression("event.data.id == async.data.id", dialect="inngest")
    stored = program.substitute({"event": {"data": {"id": "u1"}}})
    assert stored.source == '"u1" == async.data.id'
    assert stored.dialect == "inngest"
    assert stored.matches({"async": {"data": {"id": "u1"}}})
    assert not stored.matches({"async": {"data": {}}})
    assert compile_expression("async.data.x == null", dialect="inngest").matches({"async": {}})


def test_errors_have_the_server_text() -> None:
    with pytest.raises(EvaluationError, match="^invalid type comparison: no such key: k: "
                                              "expression errored$"):
        evaluate('event.data["k"]', {"event": {"data": {}}}, "inngest")
    program = compile_expression('"x"', dialect="inngest")
    with pytest.raises(EvaluationError, match=r"returned type string \(x\)"):
        program.evaluate_bool({})


def test_validate() -> None:
    dialect.validate("event.data.a == 1 && async.data.b != 'x'", "restrictive")
    with pytest.raises(dialect.ValidationError, match="undeclared reference to 'steps'"):
        dialect.validate("steps.a == 1")
    with pytest.raises(dialect.ValidationError, match=r"uses 'lowercase'"):
        dialect.validate("lowercase(event.data.a) == 'x'", "restrictive")


# ---------------------------------------------------------------- the index in the dialect


def test_index_returns_what_plain_cel_would_drop() -> None:
    for twin in TWINS:
        index = twin.wait.ExpressionIndex(dialect="inngest")
        index.add("null", "async.data.x == null")
        index.add("lt", "async.data.n < 5")
        index.add("or", 'async.data.a || async.data.id == "i"')
        index.add("id", 'async.data.id == "i"')
        assert index.match({"data": {"id": "i"}}) == ["null", "lt", "or", "id"]
        assert index.match({"data": {"x": 1, "n": None}}) == ["lt"]
        assert twin.wait.ExpressionIndex().dialect == "cel"


def test_index_refuses_a_program_of_the_other_dialect() -> None:
    index = ExpressionIndex(dialect="inngest")
    with pytest.raises(ValueError, match="dialect"):
        index.add("k", compile_expression("async.a == 1"))
    index.add("k", compile_expression("async.a == 1", dialect="inngest"))


def _dialect_expression(rng: random.Random) -> str:
    """The wait workload's expressions plus the dialect's own shapes: missing fields against
    null and orderings, truthy operands, literals on the left."""
    field = f"async.{rng.choice(FIELDS)}"
    kind = rng.randrange(8)
    if kind == 0:
        return f"{field} == null"
    if kind == 1:
        return f"{field} {rng.choice(['<', '<=', '>', '>='])} {rng.choice(['-1', '0', '2', '2.5'])}"
    if kind == 2:
        return f"{field} || {_expression(rng)}"
    if kind == 3:
        return f"({_expression(rng)}) && {field}"
    if kind == 4:
        return f"{rng.choice(['1', '-1', '2.5'])} {rng.choice(['<', '>='])} {field}"
    return _expression(rng)


def _linear(programs: dict, event: dict) -> list:
    return [k for k, p in programs.items() if p.matches({"async": event})]


@pytest.mark.parametrize("seed", range(4))
def test_random_dialect_workload_equals_linear_evaluation(impl: Any, seed: int) -> None:
    rng = random.Random(seed)
    index = impl.wait.ExpressionIndex(dialect="inngest")
    programs = {}
    for key in range(200):
        source = _dialect_expression(rng)
        programs[key] = dialect.compile_dialect(source, twin=impl.expr)
        index.add(key, programs[key])
    for key in rng.sample(range(200), 40):
        index.remove(key)
        del programs[key]
    for _ in range(100):
        event = _event(rng)
        assert index.match(event) == _linear(programs, event), event


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False), st.sampled_from(["cel", "inngest"]))
def test_hypothesis_index_equals_evaluation_in_both_dialects(rng: random.Random,
                                                             which: str) -> None:
    sources = [(_dialect_expression if which == "inngest" else _expression)(rng)
               for _ in range(25)]
    events = [_event(rng) for _ in range(10)]
    results = []
    for twin in TWINS:
        index = twin.wait.ExpressionIndex(dialect=which)
        programs = {}
        for key, source in enumerate(sources):
            index.add(key, source)
            programs[key] = (dialect.compile_dialect(source, twin=twin.expr)
                             if which == "inngest" else twin.expr.compile_program(source))
        got = [index.match(event) for event in events]
        assert got == [_linear(programs, event) for event in events]
        results.append(got)
    assert all(r == results[0] for r in results)


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False))
def test_twins_agree_in_the_dialect(rng: random.Random) -> None:
    source = _dialect_expression(rng)
    event = {"async": _event(rng)}
    answers = []
    for twin in TWINS:
        program = dialect.compile_dialect(source, twin=twin.expr)
        try:
            answers.append(("value", program.evaluate(event)))
        except EvaluationError as exc:
            answers.append(("error", str(exc)))
    assert all(a == answers[0] for a in answers)


# ---------------------------------------------------------------- the CLI


def test_cli_dialect(capsys: pytest.CaptureFixture[str]) -> None:
    from inngest_core.cli import main

    assert main(["eval", "--dialect", "inngest", "1 + 2.5"]) == 0
    assert capsys.readouterr().out.strip() == '"12.5"'
    assert main(["eval", "1 + 2.5"]) == 1
    capsys.readouterr()
    assert main(["check", "--dialect", "inngest", "steps.a == 1"]) == 2
    assert "undeclared reference to 'steps'" in capsys.readouterr().err
    assert main(["check", "steps.a == 1"]) == 0
    capsys.readouterr()
    assert main(["match", "--dialect", "inngest", "--expr", "async.data.x == null",
                 "--event", "{}", "--async", '{"data": {}}']) == 0
    assert main(["match", "--expr", "async.data.x == null",
                 "--event", "{}", "--async", '{"data": {}}']) == 1


# ---------------------------------------------------------------- the SDK uses the dialect


def test_sdk_trigger_if_is_the_inngest_dialect() -> None:
    from inngest_core.sdk.function import Trigger

    trigger = Trigger("a/b", if_="event.data.plan == null || event.data.n < 5")
    assert trigger.matches({"name": "a/b", "data": {}})
    with pytest.raises(ValueError, match="undeclared reference to 'steps'"):
        Trigger("a/b", if_="steps.a == 1")


def test_sdk_option_expressions_are_checked_as_the_server_does() -> None:
    from inngest_core.sdk.options import Cancel, FunctionConfigError, compile_option_expression

    assert compile_option_expression("debounce.key", "event.data.id").dialect == "inngest"
    with pytest.raises(FunctionConfigError, match="function calls are disallowed"):
        Cancel(event="a/c", if_="lowercase(event.data.id) == async.data.id")
    with pytest.raises(FunctionConfigError, match=r"(?s)concurrency.key.*\^"):
        compile_option_expression("concurrency.key", "event.data +* 1")
    # only parsed at registration by the server: no type check
    compile_option_expression("concurrency.key", "steps.a")


# ---------------------------------------------------------------- the fast path


def _fast_atom(rng: random.Random) -> str:
    field = f"async.{rng.choice(FIELDS)}"
    literal = rng.choice(['"x"', "1", "2.5", "true", "null", "0u", '"y"'])
    kind = rng.randrange(6)
    if kind == 5:
        return f"{rng.choice(['size', 'int', 'string', 'double'])}({field}) " \
               f"{rng.choice(['==', '<', '>='])} {literal}"
    if kind == 0:
        return f"{field} {rng.choice(['==', '!=', '<', '<=', '>', '>='])} {literal}"
    if kind == 1:
        return f"{literal} {rng.choice(['==', '<', '>='])} {field}"
    if kind == 2:
        return f"{field} in [{literal}, \"y\"]"
    if kind == 3:
        return f'{field}.{rng.choice(["startsWith", "endsWith", "contains"])}("x")'
    return f"!({field} {rng.choice(['==', '<'])} {literal})"


def _fast_expression(rng: random.Random, depth: int = 0) -> str:
    if depth > 2 or rng.random() < 0.35:
        return _fast_atom(rng)
    op = rng.choice(["&&", "||"])
    return f"({_fast_expression(rng, depth + 1)}) {op} ({_fast_expression(rng, depth + 1)})"


@settings(max_examples=300, deadline=None)
@given(st.randoms(use_true_random=False))
def test_fast_path_gives_the_interpreters_answer(rng: random.Random) -> None:
    source = _fast_expression(rng)
    activation = {"async": {f: rng.choice(["x", "y", "xy", 1, 2.5, True, None, [1], {}])
                            for f in FIELDS if rng.random() < 0.8}}
    python = dialect.compile_dialect(source, twin=TWINS[-1].expr)
    assert python._fast is not None, source  # the Python twin's shortcut is taken

    def slow() -> tuple[str, object]:  # the Python twin's interpreter, no shortcut
        try:
            return ("value", dialect.result_value(python.raw(activation)))
        except EvaluationError as exc:
            return ("error", str(exc))

    for twin in TWINS:  # the compiled twin evaluates natively, with no shortcut
        program = dialect.compile_dialect(source, twin=twin.expr)

        try:
            fast: tuple[str, object] = ("value", program.evaluate(activation))
        except EvaluationError as exc:
            fast = ("error", str(exc))
        assert fast == slow(), source
        assert program.matches(activation) == (slow() == ("value", True)), source


def test_fast_path_is_taken_only_where_it_is_the_dialect() -> None:
    python = TWINS[-1].expr
    assert dialect.compile_dialect("async.a == 'x' && async.b < 2", twin=python)._fast
    assert dialect.compile_dialect("size(async.a) == 0", twin=python)._fast
    for source in ['async.a == "\\u0041"', "async.a || async.b", "size(async.a + 1) == 0",
                   'lowercase(async.a) == "x"', "!(async.a == 1 && async.b == 2)",
                   "vars.a == 1", 'async.a == r"x"']:
        assert dialect.compile_dialect(source, twin=python)._fast is None, source
    for twin in TWINS[:-1]:  # the compiled twin needs no shortcut
        assert dialect.compile_dialect("async.a == 'x'", twin=twin.expr)._fast is None
