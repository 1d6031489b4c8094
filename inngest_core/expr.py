"""CEL expressions: compile once (cached), evaluate many times.

Inngest's ``wait_for_event(..., if_=...)`` expressions are the Common Expression Language.
:func:`compile_expression` parses and compiles a source into a :class:`Program` (LRU-cached by
source and limits); :meth:`Program.evaluate` runs it against an activation, a mapping from
variable names to Python values.  ``Program`` is the live twin's own class.

>>> program = compile_expression("event.data.user.id == async.data.user.id")
>>> program.evaluate({"event": {"data": {"user": {"id": "u1"}}},
...                   "async": {"data": {"user": {"id": "u1"}}}})
True
>>> evaluate("size(items.filter(i, i.price > 10u))", {"items": [{"price": UInt(5)}, {"price": UInt(20)}]})
1
>>> evaluate("type(1u) == uint", {})
True
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

from . import _compat
from ._expr_lib import CelType, UInt
from .errors import EvaluationError, ExpressionLimitError, ExpressionSyntaxError

__all__ = [
    "compile_expression",
    "evaluate",
    "Program",
    "UInt",
    "CelType",
    "LIMITS",
    "DIALECTS",
    "ExpressionSyntaxError",
    "EvaluationError",
    "ExpressionLimitError",
]

#: The limits :func:`compile_expression` takes as keywords, and their defaults.
LIMITS: dict[str, int] = {
    "max_source_length": 100_000,
    "max_depth": 250,
    "max_comprehension_steps": 1_000_000,
}

if TYPE_CHECKING:  # type checkers read the Python twin, the typed reference
    from ._expr_py import Program, compile_program
else:
    _impl = _compat.load("expr")
    Program = _impl.Program
    compile_program = _impl.compile_program


#: The dialects: ``"cel"`` (standard CEL, the default) and ``"inngest"`` (CEL as Inngest's
#: server evaluates it: lifted literals, missing fields as unknowns, truthy ``&&``/``||``, the
#: custom functions; see :mod:`inngest_core._expr_dialect`).
DIALECTS = ("cel", "inngest")


@lru_cache(maxsize=4096)
def _compile(source: str, limits: tuple[tuple[str, int], ...], dialect: str = "cel") -> Program:
    if dialect == "inngest":
        from ._expr_dialect import compile_dialect

        return compile_dialect(source, **dict(limits))  # type: ignore[return-value]
    return compile_program(source, **dict(limits))


def compile_expression(source: str, dialect: str = "cel", **limits: int) -> Program:
    """Compile CEL ``source`` into a :class:`Program`; the same source, dialect and limits give
    the same (cached) program.  Limits: ``max_source_length`` (characters, default 100,000),
    ``max_depth`` (nesting, 250) and ``max_comprehension_steps`` (per evaluation, 1,000,000).
    ``dialect="inngest"`` evaluates as Inngest's server does (its ``Program`` has the same
    ``evaluate``/``matches``/``substitute``):

    >>> compile_expression("event.data.missing == null", dialect="inngest").evaluate(
    ...     {"event": {"data": {}}})
    True
    >>> compile_expression("1 + 2.5", dialect="inngest").evaluate({})
    '12.5'

    >>> compile_expression("a + 1") is compile_expression("a + 1", max_depth=250)
    True
    >>> compile_expression("a +")
    Traceback (most recent call last):
    ...
    inngest_core.errors.ExpressionSyntaxError: unexpected end of expression at line 1, column 4
      a +
         ^
    >>> compile_expression("a", max_nodes=3)
    Traceback (most recent call last):
    ...
    TypeError: unknown limit 'max_nodes'; the limits are max_source_length, max_depth, max_comprehension_steps
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; the dialects are cel, inngest")
    for name, value in limits.items():
        if name not in LIMITS:
            raise TypeError(f"unknown limit {name!r}; the limits are {', '.join(LIMITS)}")
        if type(value) is not int or value < 0:
            raise ValueError(f"limit {name} must be a non-negative int, not {value!r}")
    if not isinstance(source, str):
        raise TypeError(f"expression source must be str, not {type(source).__name__}")
    return _compile(source, tuple(sorted({**LIMITS, **limits}.items())), dialect)


def evaluate(source: str, activation: Mapping[str, object], dialect: str = "cel") -> object:
    """Compile ``source`` (cached, in ``dialect``) and evaluate it with ``activation``.

    >>> evaluate('name.startsWith("in") && count < 3', {"name": "inngest", "count": 2})
    True
    >>> evaluate("m.nope", {"m": {}})
    Traceback (most recent call last):
    ...
    inngest_core.errors.EvaluationError: no such key: nope
    """
    return compile_expression(source, dialect).evaluate(activation)
