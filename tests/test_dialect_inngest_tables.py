"""Inngest's own test tables for ``pkg/expressions`` (and the generated tables), run on both
twins in the ``"inngest"`` dialect: every case gives the Go server's answer (``go_result``)
or is listed, with its reason, in ``tests/inngest_dialect/known_differences.json``."""

from __future__ import annotations

from typing import Any

import pytest

from _dialect_cases import FILES, decode, known_differences, load, same
from inngest_core import _expr_dialect as dialect
from inngest_core._expr_subst import unparse
from inngest_core.errors import EvaluationError, ExpressionLimitError, ExpressionSyntaxError

_ERRORS = (EvaluationError, ExpressionSyntaxError, ExpressionLimitError, ValueError)


def _evaluate(case: dict[str, Any], exp: dict[str, Any], impl: Any) -> str | None:
    try:
        program = dialect.compile_dialect(case["expr"], twin=impl.expr)
        activation = decode(case.get("activation") or {})
        if case["op"] == "evaluate":
            got = program.evaluate(activation)
        else:
            got = program.evaluate_bool(activation)
        error, failure = None, None
    except _ERRORS as exc:
        got, error, failure = None, str(exc), exc
    if exp["error"]:
        if error is None:
            return f"wanted the error {exp['error']!r}, got {got!r}"
        if exp["error"].startswith("error compiling expression"):
            return None if isinstance(failure, ExpressionSyntaxError) else f"not a syntax error: {error}"
        return None if error == exp["error"] else f"error {error!r} != {exp['error']!r}"
    if error is not None:
        return f"error {error!r}, wanted {exp['value']!r}"
    if "now()" in case.get("note", "") or "now" in case["expr"] and "now" in str(case.get("note", "")):
        return None  # clock-dependent: only the kind of result is compared
    want = decode(exp["value"])
    return None if same(want, got) else f"got {got!r}, wanted {want!r}"


def _validate(case: dict[str, Any]) -> str | None:
    want = case["go_result"]["error"]
    try:
        dialect.validate(case["expr"], case.get("policy"))
        got = None
    except dialect.ValidationError as exc:
        got = str(exc)
    if bool(want) != bool(got):
        return f"validity: got {got!r}, wanted {want!r}"
    if not want or want == got:
        return None
    if want.startswith("error compiling expression") and got.startswith("error compiling expression"):
        return None  # cel-go's position and caret layout are not ours: the verdict is compared
    if "macros are disallowed (contains '" in want:
        # cel-go's prototext is unstable by design: compare up to the quote
        prefix = [line.split("(contains '")[0] for line in want.split("\n")]
        return None if prefix == [line.split("(contains '")[0] for line in got.split("\n")] \
            else f"{got!r} != {want!r}"
    return f"{got!r} != {want!r}"


def _lift(case: dict[str, Any], impl: Any) -> str | None:
    want = case["go_result"]["value"]
    lifted, values = dialect.lift(case["expr"])
    mine = unparse(impl.expr.parse(lifted)) if lifted else ""
    theirs = unparse(impl.expr.parse(want["lifted"])) if want["lifted"] else ""
    if mine != theirs or (values or {}) != want["vars"]:
        return f"lifted {lifted!r} {values!r}, wanted {want['lifted']!r} {want['vars']!r}"
    return None


def check(case: dict[str, Any], impl: Any) -> str | None:
    op = case["op"]
    if op in ("evaluate", "evaluate_bool"):
        return _evaluate(case, case["go_result"], impl)
    if op == "aggregate":  # we evaluate directly: the naive column (rules.md R10/§10)
        return _evaluate({**case, "op": "evaluate_bool"}, case["naive_go_result"], impl)
    if op == "validate":
        return _validate(case)
    if op == "lift":
        return _lift(case, impl)
    if op == "path_exists":
        path = tuple(case["expr"].split("."))
        got = dialect._walk(decode(case["activation"]), path)
        return None if got == case["go_result"]["value"] else f"got {got}"
    if op == "mapify":
        got = decode(case["activation"])
        return None if got == decode(case["go_result"]["value"]) else f"got {got!r}"
    if op == "interpolate":
        want = case["go_result"]
        try:
            got = dialect.interpolate(case["expr"], decode(case["activation"]))
        except _ERRORS as exc:
            return None if want["error"] else f"error {exc}"
        if want["error"]:
            return f"got {got!r}, wanted the error {want['error']!r}"
        return None if got == want["value"] else f"got {got!r}, wanted {want['value']!r}"
    return f"unknown op {op}"


@pytest.mark.parametrize("name", FILES)
def test_inngest_table(name: str, impl: Any) -> None:
    known = known_differences()
    failures = []
    passed = 0
    for case in load(name):
        problem = check(case, impl)
        listed = (name, case["name"]) in known
        if problem is None:
            passed += 1
            assert not listed, f"{case['name']} passes but is listed as a known difference"
        elif not listed:
            failures.append(f"{case['name']}: {case['expr'][:80]!r}: {problem[:300]}")
    assert not failures, f"{len(failures)} cases differ:\n" + "\n".join(failures[:40])


def test_known_differences_name_real_cases() -> None:
    names = {(name, case["name"]) for name in FILES for case in load(name)}
    assert set(known_differences()) <= names
