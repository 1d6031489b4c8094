"""The switch between the twins: the compiled twin really loads, the variable really selects
the Python twin, and only a missing extension falls back."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import inngest_core
from inngest_core import _compat
from twins import SKIP_COMPILED

#: Set by .ci/run: the compiled twins must be live, whatever the environment says.
REQUIRE_COMPILED = bool(os.environ.get("INNGEST_CORE_REQUIRE_COMPILED"))


@pytest.mark.skipif(bool(SKIP_COMPILED) and not REQUIRE_COMPILED,
                    reason=SKIP_COMPILED or "")
def test_compiled_twin_is_loaded() -> None:
    # The guard CI relies on: a build that silently fell back to Python fails here.
    assert inngest_core.IMPLEMENTATION == "compiled"
    import inngest_core._duration_c as compiled

    assert inngest_core.parse_duration_ns is compiled.parse_duration_ns
    assert compiled.__file__.endswith((".so", ".pyd"))


@pytest.mark.skipif(not SKIP_COMPILED, reason="only when the Python twins are live")
def test_python_twin_is_loaded() -> None:
    assert inngest_core.IMPLEMENTATION == "python"
    import inngest_core._duration_py as python

    assert inngest_core.parse_duration_ns is python.parse_duration_ns


def _probe(env_value: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("INNGEST_CORE_NO_EXTENSIONS", None)
    if env_value is not None:
        env["INNGEST_CORE_NO_EXTENSIONS"] = env_value
    code = (
        "import json, inngest_core; "
        "from inngest_core import _duration_py; "
        "python = inngest_core.parse_duration_ns is _duration_py.parse_duration_ns; "
        "print(json.dumps({'impl': inngest_core.IMPLEMENTATION, "
        "'module': '_duration_py' if python else '_duration_c'}))"
    )
    # cwd=/ so the installed package is imported, not a source tree in the working directory.
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd="/", check=True)
    result: dict[str, str] = json.loads(out.stdout)
    return result


@pytest.mark.parametrize("value", ["1", "yes", "0"])
def test_switch_selects_python_twin(value: str) -> None:
    # Any non-empty value selects the Python twin, even "0" (documented: non-empty).
    assert _probe(value) == {"impl": "python", "module": "_duration_py"}


@pytest.mark.skipif(bool(SKIP_COMPILED), reason=SKIP_COMPILED or "")
@pytest.mark.parametrize("value", [None, ""])
def test_switch_unset_or_empty_selects_compiled(value: str | None) -> None:
    assert _probe(value) == {"impl": "compiled", "module": "_duration_c"}


def test_only_a_missing_extension_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    monkeypatch.setattr(_compat, "NO_EXTENSIONS", False)
    monkeypatch.setattr(_compat.importlib, "import_module", missing)
    assert _compat._compiled_available() is False


def test_a_broken_extension_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(name: str) -> None:
        raise ModuleNotFoundError("No module named 'libfoo'", name="libfoo")

    monkeypatch.setattr(_compat, "NO_EXTENSIONS", False)
    monkeypatch.setattr(_compat.importlib, "import_module", broken)
    with pytest.raises(ModuleNotFoundError, match="libfoo"):
        _compat._compiled_available()


def test_twins_export_the_same_names(impl) -> None:
    import inngest_core._duration_py as py

    assert sorted(impl.duration.__all__) == sorted(py.__all__)
    for name in py.__all__:
        assert callable(getattr(impl.duration, name))
