"""The CEL specification's own conformance tests (cel-spec ``tests/simple/testdata``, as JSON).

Every in-scope test must pass, except those listed with their reason in
``cel_known_failures.json`` ({"file/section/test": "reason"}); a listed test that passes fails
the run too, so the list stays exact.  ``test_pass_counts`` prints in scope / passed / known
failures per file.

The data is the repository's own copy, ``tests/cel-spec/`` (its README names the cel-spec
commit it was converted from; upstream's license beside it).  Scope (the data's README): the files below; no ``container``, no ``check_only``, no
protobuf messages in the expression, bindings or expected value.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from inngest_core import _expr_lib as lib
from inngest_core.errors import EvaluationError
from twins import Twin

IN_SCOPE_FILES = (
    "basic", "comparisons", "conversions", "fields", "fp_math", "integer_math", "lists",
    "logic", "macros", "parse", "plumbing", "string", "timestamps",
)
OUT_OF_SCOPE_NAMES = ("google.protobuf.", "TestAllTypes", "NestedMessage", "cel.expr.")
#: The least number of in-scope tests that must pass (the issue's target).
TARGET = 1040

TESTS_DIR = Path(__file__).parent
KNOWN_FAILURES_FILE = TESTS_DIR / "cel_known_failures.json"
KNOWN_FAILURES: dict[str, str] = json.loads(KNOWN_FAILURES_FILE.read_text(encoding="utf-8"))

DATA_DIR = TESTS_DIR / "cel-spec"


@dataclass(frozen=True)
class Case:
    id: str
    file: str
    expr: str
    bindings: dict[str, Any]
    expected: Any  # a Python value, or ERROR
    raw: dict[str, Any]


ERROR = object()


def _object_value(value: dict[str, Any]) -> Any:
    kind = value["@type"]
    if kind.endswith("google.protobuf.Timestamp"):
        return lib.parse_timestamp(value["value"])
    if kind.endswith("google.protobuf.Duration"):
        return lib.parse_duration(value["value"])
    raise ValueError(f"protobuf message {kind}")


def cel_value(value: dict[str, Any]) -> Any:
    """A conformance VALUE as a CEL value of ``_expr_lib``."""
    ((kind, body),) = value.items()
    if kind == "null_value":
        return None
    if kind == "bool_value":
        return bool(body)
    if kind == "int64_value":
        return int(body)
    if kind == "uint64_value":
        return lib.UInt(int(body))
    if kind == "double_value":
        return float(body) if isinstance(body, str) else float(body)
    if kind == "string_value":
        return body
    if kind == "bytes_value":
        return base64.b64decode(body)
    if kind == "list_value":
        return [cel_value(v) for v in body.get("values", [])]
    if kind == "map_value":
        return {cel_value(e["key"]): cel_value(e["value"]) for e in body.get("entries", [])}
    if kind == "type_value":
        return lib.TYPES.get(body, lib.CelType(body))
    if kind == "object_value":
        return _object_value(body)
    raise ValueError(f"unknown value kind {kind}")


def _mentions_message(value: Any) -> bool:
    if isinstance(value, dict):
        if "object_value" in value:
            kind = value["object_value"].get("@type", "")
            if not kind.endswith(("google.protobuf.Timestamp", "google.protobuf.Duration")):
                return True
        return any(_mentions_message(v) for v in value.values())
    if isinstance(value, list):
        return any(_mentions_message(v) for v in value)
    return False


def in_scope(test: dict[str, Any]) -> bool:
    if test.get("container") or test.get("check_only"):
        return False
    if any(name in test["expr"] for name in OUT_OF_SCOPE_NAMES):
        return False
    return not any(
        _mentions_message(test.get(key)) for key in ("bindings", "value", "typed_result")
    )


def load_cases() -> list[Case]:
    cases = []
    for file in IN_SCOPE_FILES:
        data = json.loads((DATA_DIR / f"{file}.json").read_text(encoding="utf-8"))
        for section in data.get("section", []):
            for test in section.get("test", []):
                if not in_scope(test):
                    continue
                bindings = {
                    name: cel_value(binding["value"])
                    for name, binding in test.get("bindings", {}).items()
                }
                if "eval_error" in test or "any_eval_errors" in test:
                    expected: Any = ERROR
                elif "value" in test:
                    expected = cel_value(test["value"])
                elif "typed_result" in test:
                    expected = cel_value(test["typed_result"]["result"])
                else:
                    expected = True
                cases.append(
                    Case(f"{file}/{section['name']}/{test['name']}", file, test["expr"],
                         bindings, expected, test)
                )
    return cases


CASES = load_cases()


def same(actual: Any, expected: Any) -> bool:
    """Equal values of the same CEL types (``1`` is not ``1u`` nor ``1.0``; NaN is NaN)."""
    if type(expected) is float:
        if type(actual) is not float:
            return False
        if math.isnan(expected):
            return math.isnan(actual)
        return actual == expected and math.copysign(1, actual) == math.copysign(1, expected)
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(
            same(a, e) for a, e in zip(actual, expected)
        )
    if isinstance(expected, dict):
        if not isinstance(actual, Mapping) or len(actual) != len(expected):
            return False
        for key, value in expected.items():
            matches = [k for k in actual if same(k, key)]
            if len(matches) != 1 or not same(actual[matches[0]], value):
                return False
        return True
    if type(expected) is lib.Timestamp:
        return type(actual) is datetime and actual == lib.to_python(expected)
    if type(expected) is lib.Duration:
        return type(actual) is timedelta and actual == lib.to_python(expected)
    return type(actual) is type(expected) and actual == expected


def run_case(twin: ModuleType, case: Case) -> str | None:
    """None if the twin passes the case, else what went wrong."""
    try:
        program = twin.compile_program(case.expr)
    except Exception as exc:  # noqa: BLE001 - any failure to compile is a failed case
        return f"does not compile: {type(exc).__name__}: {exc}"
    try:
        result = program.evaluate(case.bindings)
    except EvaluationError as exc:
        if case.expected is ERROR:
            return None
        return f"evaluation error {exc}; expected {case.expected!r}"
    except Exception as exc:  # noqa: BLE001
        return f"raised {type(exc).__name__}: {exc}"
    if case.expected is ERROR:
        return f"expected an evaluation error, got {result!r}"
    if not same(result, case.expected):
        return f"got {result!r}, expected {case.expected!r}"
    return None


@pytest.fixture
def twin(impl: Twin) -> ModuleType:
    return impl.expr


def test_conformance_data_is_there() -> None:
    assert (DATA_DIR / "LICENSE").is_file()
    assert "508bd98efda47d85bcf1b9930dd5f35fa37e9a18" in (DATA_DIR / "README.md").read_text("utf-8")
    assert len(CASES) >= TARGET


def test_known_failures_are_in_scope_tests() -> None:
    ids = {case.id for case in CASES}
    assert sorted(set(KNOWN_FAILURES) - ids) == []
    assert all(reason.strip() for reason in KNOWN_FAILURES.values())


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_conformance(twin: ModuleType, case: Case) -> None:
    problem = run_case(twin, case)
    if case.id in KNOWN_FAILURES:
        assert problem is not None, (
            f"{case.id} passes but is listed in {KNOWN_FAILURES_FILE.name}: remove it"
        )
        pytest.xfail(KNOWN_FAILURES[case.id])
    assert problem is None, f"{case.id}: {case.expr!r}: {problem}"


def test_pass_counts(twin: ModuleType, request: pytest.FixtureRequest) -> None:
    """Per file: in scope, passed, known failures; at least TARGET pass in all."""
    counts: dict[str, list[int]] = {file: [0, 0, 0] for file in IN_SCOPE_FILES}
    for case in CASES:
        row = counts[case.file]
        row[0] += 1
        if run_case(twin, case) is None:
            row[1] += 1
        if case.id in KNOWN_FAILURES:
            row[2] += 1
    lines = [f"CEL conformance ({twin.__name__}): file, in scope, passed, known failures"]
    lines += [f"  {file:<14} {n:>5} {p:>6} {k:>5}" for file, (n, p, k) in counts.items()]
    total = [sum(row[i] for row in counts.values()) for i in range(3)]
    lines.append(f"  {'total':<14} {total[0]:>5} {total[1]:>6} {total[2]:>5}")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        for line in lines:
            reporter.write_line(line)
    print("\n".join(lines))
    assert total[1] >= TARGET
    assert total[1] + total[2] == total[0]
