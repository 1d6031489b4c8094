"""The twins under test: ``Twin("c")`` and ``Twin("py")`` (importable from tests)."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

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


TWINS = [Twin("py")] if NO_EXTENSIONS else [Twin("c"), Twin("py")]
