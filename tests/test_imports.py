"""The compiled import path loads no Python twin and no Lark: a compiled twin never imports a
Python twin (what both need lives in shared modules), and Lark is imported only when the
Python twin parses."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from twins import SKIP_COMPILED

compiled_only = pytest.mark.skipif(SKIP_COMPILED is not None, reason=SKIP_COMPILED or "")

_CODE = """
import json, sys
import inngest_core
from inngest_core import compile_expression, ExpressionIndex
index = ExpressionIndex()
index.add("w", 'async.data.id == "x" && event.data.n > 1', event={"data": {"n": 2}})
assert index.match({"data": {"id": "x"}}) == ["w"]
assert compile_expression("[1, 2].exists(x, x > 1)").evaluate({}) is True
print(json.dumps([inngest_core.IMPLEMENTATION, sorted(sys.modules)]))
"""


def _modules_after(code: str) -> tuple[str, list[str]]:
    env = {k: v for k, v in os.environ.items() if k != "INNGEST_CORE_NO_EXTENSIONS"}
    # cwd=/ so the installed package is imported, not a source tree in the working directory.
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd="/", check=True)
    implementation, modules = json.loads(out.stdout)
    return implementation, modules


@compiled_only
def test_compiled_import_path_loads_no_python_twin_and_no_lark() -> None:
    implementation, modules = _modules_after(_CODE)
    assert implementation == "compiled"
    twins = [m for m in modules if m.startswith("inngest_core._") and m.endswith("_py")]
    assert twins == []
    assert [m for m in modules if m == "lark" or m.startswith("lark.")] == []
    assert "inngest_core._expr_c" in modules and "inngest_core._wait_c" in modules


def test_python_twin_still_imports_lark_when_it_parses() -> None:
    _, modules = _modules_after(
        "import json, sys\nfrom inngest_core import _expr_py\n_expr_py.parse('a + 1')\n"
        "print(json.dumps(['compiled', sorted(sys.modules)]))")
    assert "lark" in modules


def test_python_twins_import_lark_only_to_parse() -> None:
    env = {**os.environ, "INNGEST_CORE_NO_EXTENSIONS": "1"}
    code = ("import json, sys\nimport inngest_core\nbefore = 'lark' in sys.modules\n"
            "inngest_core.compile_expression('a + 1')\n"
            "print(json.dumps([inngest_core.IMPLEMENTATION, before, 'lark' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd="/", check=True)
    assert json.loads(out.stdout) == ["python", False, True]
