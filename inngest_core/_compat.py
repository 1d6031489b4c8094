"""The one switch between the compiled twins and the pure-Python twins.

Every part of the core comes as a pair: ``inngest_core._<part>_c`` (compiled from
``src_pyx/_<part>_c.pyx``) and ``inngest_core._<part>_py``.  Both export the same names.
:func:`load` picks the compiled one unless ``INNGEST_CORE_NO_EXTENSIONS`` is set to any
non-empty value at import time, or the extension is not installed at all.  Only a
``ModuleNotFoundError`` for exactly that module's name falls back: any other import error
propagates, so a broken build is never silently slow.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

NO_EXTENSIONS: bool = bool(os.environ.get("INNGEST_CORE_NO_EXTENSIONS"))


def _compiled_available() -> bool:
    if NO_EXTENSIONS:
        return False
    try:
        importlib.import_module("inngest_core._duration_c")
    except ModuleNotFoundError as exc:
        if exc.name != "inngest_core._duration_c":
            raise
        return False
    return True


IMPLEMENTATION: str = "compiled" if _compiled_available() else "python"


def load(part: str) -> ModuleType:
    """Return the live twin of ``part`` (``"duration"``, ``"datetime"``, ``"expr"``)."""
    if IMPLEMENTATION == "compiled":
        return importlib.import_module(f"inngest_core._{part}_c")
    return importlib.import_module(f"inngest_core._{part}_py")
