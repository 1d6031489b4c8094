"""Wait matching: Inngest's ``match``/``if`` semantics and the index of stored waits.

``match_expression`` writes the seed's ``match:`` shorthand as CEL; :class:`ExpressionIndex`
(the live twin's) finds which stored waits an incoming event resumes without evaluating them
all; ``ExpressionIndex(dialect="inngest")`` stores and matches in Inngest's dialect.  ``Program.matches`` and ``Program.substitute`` (see :mod:`inngest_core.expr`) are the
other half: a failed ``if`` never resumes a wait, and the triggering ``event`` is substituted
into an expression before it is stored.

>>> match_expression("data.user.id")
'event.data.user.id == async.data.user.id'
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import _compat
from ._expr_ast import KEYWORDS, RESERVED
from .errors import syntax_error

__all__ = ["ExpressionIndex", "match_expression"]

if TYPE_CHECKING:
    from ._wait_py import ExpressionIndex
else:
    ExpressionIndex = _compat.load("wait").ExpressionIndex

_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESERVED = RESERVED | KEYWORDS


def match_expression(field: str, dialect: str = "cel") -> str:
    """The ``if`` expression for a ``match`` field: ``event.<field> == async.<field>``.
    The text is the same in both dialects (``dialect`` is checked); compile it in the
    dialect it will be evaluated in.

    The field is used exactly as given (no ``data.`` prefix is added) and must be a dotted
    path of identifiers; anything else is an :class:`~inngest_core.ExpressionSyntaxError`
    pointing at the offending character.

    >>> match_expression("data.id")
    'event.data.id == async.data.id'
    >>> match_expression("data.user-id")
    Traceback (most recent call last):
    ...
    inngest_core.errors.ExpressionSyntaxError: expected a dotted path of identifiers in a match field at line 1, column 10
      data.user-id
               ^
    """
    if not isinstance(field, str):
        raise TypeError(f"match field must be str, not {type(field).__name__}")
    if dialect not in ("cel", "inngest"):
        raise ValueError(f"unknown dialect {dialect!r}; the dialects are cel, inngest")
    position = 0
    while True:
        segment = _SEGMENT.match(field, position)
        if segment is None:
            raise syntax_error("expected an identifier in a match field", field, position)
        if segment.group() in _RESERVED:
            raise syntax_error(
                f"reserved word \"{segment.group()}\" in a match field", field, position)
        position = segment.end()
        if position == len(field):
            return f"event.{field} == async.{field}"
        if field[position] != ".":
            raise syntax_error(
                "expected a dotted path of identifiers in a match field", field, position)
        position += 1
