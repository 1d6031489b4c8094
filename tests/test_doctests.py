"""Every docstring example in the installed package runs and holds."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import inngest_core

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(inngest_core.__path__, "inngest_core.")
    if not name.endswith("__main__")
)


def test_modules_found() -> None:
    assert "inngest_core.duration" in MODULES
    assert "inngest_core._duration_py" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
