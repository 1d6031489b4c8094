"""The core's expression API as the SDK uses it, looked up when first needed.

The expression compiler and the wait index are separate parts of the core; reaching them
through this module keeps ``inngest_core.sdk`` importable (and its duration-only features
usable) on a tree where one of them is missing, with a clear error at the first use.

>>> callable(compile_expression)
True
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["Program", "compile_expression", "match_expression", "new_expression_index"]


class Program(Protocol):
    """What the SDK needs of a compiled expression."""

    @property
    def source(self) -> str: ...

    def matches(self, activation: Mapping[str, Any]) -> bool: ...


def _core(name: str) -> Any:
    core = importlib.import_module("inngest_core")
    try:
        return getattr(core, name)
    except AttributeError:
        raise ImportError(f"inngest_core.{name} is not available in this build of "
                          "inngest_core") from None


def compile_expression(source: str) -> Program:
    """:func:`inngest_core.compile_expression` (a CEL ``Program``).

    >>> compile_expression("event.data.total > 100").source
    'event.data.total > 100'
    """
    program: Program = _core("compile_expression")(source)
    return program


def match_expression(field: str) -> str:
    """:func:`inngest_core.match_expression`: ``"data.id"`` -> ``event.data.id == async.data.id``.

    >>> match_expression("data.id")  # doctest: +SKIP
    'event.data.id == async.data.id'
    """
    text: str = _core("match_expression")(field)
    return text


def new_expression_index() -> Any:
    """A new, empty :class:`inngest_core.ExpressionIndex`.

    >>> len(new_expression_index())  # doctest: +SKIP
    0
    """
    return _core("ExpressionIndex")()
