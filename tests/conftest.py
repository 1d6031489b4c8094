"""Shared fixtures: ``impl`` runs a test once per twin (ids ``c`` and ``py``)."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

NO_EXTENSIONS = bool(os.environ.get("INNGEST_CORE_NO_EXTENSIONS"))


class Twin:
    """One implementation of every part: ``impl.duration``, ``impl.datetime``, ``impl.expr``
    are the ``_<part>_c`` or ``_<part>_py`` modules."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        self.name = "compiled" if suffix == "c" else "python"

    def __getattr__(self, part: str) -> ModuleType:
        if part.startswith("__"):
            raise AttributeError(part)
        module = importlib.import_module(f"inngest_core._{part}_{self.suffix}")
        setattr(self, part, module)
        return module

    def __repr__(self) -> str:
        return f"<Twin {self.name}>"


@pytest.fixture(scope="session", params=["c", "py"])
def impl(request: pytest.FixtureRequest) -> Twin:
    if request.param == "c" and NO_EXTENSIONS:
        pytest.skip("INNGEST_CORE_NO_EXTENSIONS is set: the compiled twins are not under test")
    return Twin(request.param)


TWINS = [Twin("py")] if NO_EXTENSIONS else [Twin("c"), Twin("py")]
