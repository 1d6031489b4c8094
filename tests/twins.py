"""The twins under test: ``Twin("c")`` and ``Twin("py")`` (importable from tests).

Tests pick a twin with the ``impl`` fixture (tests/conftest.py); ``TWINS`` is for the tests that
compare the twins with each other.  The compiled twins are under test unless
``INNGEST_CORE_NO_EXTENSIONS`` is set or the package was installed without them (a pure install:
``INNGEST_CORE_NO_EXTENSIONS=1 pip install .``); ``SKIP_COMPILED`` says why not, for skips.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from types import ModuleType

NO_EXTENSIONS = bool(os.environ.get("INNGEST_CORE_NO_EXTENSIONS"))
COMPILED_INSTALLED = importlib.util.find_spec("inngest_core._duration_c") is not None

SKIP_COMPILED: str | None = (
    "INNGEST_CORE_NO_EXTENSIONS is set: the compiled twins are not under test" if NO_EXTENSIONS
    else None if COMPILED_INSTALLED
    else "the compiled twins are not installed (a pure install): only the Python twins are under test"
)


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


TWINS = [Twin("py")] if SKIP_COMPILED else [Twin("c"), Twin("py")]
