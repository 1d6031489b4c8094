"""The registry of comparative benchmark cases behind ``inngest-core bench`` and ``bench/``.

A :class:`Group` is one job (``parse "1h30m" to nanoseconds``) with the value our twins
produce; its :class:`Contender` rows are our compiled twin, our Python twin, the libraries a
user would otherwise pick and plain-Python baselines.  Each contender's ``make`` returns a
zero-argument callable to time; a peer that is not installed raises ``ImportError`` there and
is listed as skipped.  Before a contender is timed its result is checked against the group's
``expected`` value (through ``normalize``, which maps a peer's answer into ours).

Each part of the core adds its groups in a module of this package, named in ``PARTS``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["Contender", "Group", "PARTS", "groups", "ours"]

#: Modules of this package that contribute groups, in table order.
PARTS: tuple[str, ...] = ("duration",)


@dataclass(frozen=True)
class Contender:
    """One row: ``kind`` is ``"compiled"``, ``"python"`` (our twins), ``"peer"`` or
    ``"baseline"`` (plain Python doing part of the job, for a target such as "no slower than
    int()")."""

    label: str
    kind: str
    make: Callable[[], Callable[[], Any]]
    normalize: Callable[[Any], Any] | None = None
    #: Baselines compute something else on purpose (int("5400") is not a duration): unchecked.
    checked: bool = True


@dataclass(frozen=True)
class Group:
    part: str
    name: str
    expected: Any
    contenders: list[Contender] = field(default_factory=list)


def ours(part: str, attr: str, *args: Any, **kwargs: Any) -> list[Contender]:
    """The two rows for our twins calling ``inngest_core._<part>_{c,py}.<attr>(*args)``."""

    def maker(suffix: str) -> Callable[[], Callable[[], Any]]:
        def make() -> Callable[[], Any]:
            module = importlib.import_module(f"inngest_core._{part}_{suffix}")
            fn = getattr(module, attr)
            if kwargs:
                return lambda: fn(*args, **kwargs)
            if len(args) == 1:
                (arg,) = args
                return lambda: fn(arg)
            return lambda: fn(*args)

        return make

    return [
        Contender("inngest_core (compiled)", "compiled", maker("c")),
        Contender("inngest_core (python)", "python", maker("py")),
    ]


def groups(parts: tuple[str, ...] | None = None) -> list[Group]:
    """Every registered group, optionally only those of the named parts."""
    found: list[Group] = []
    for part in parts or PARTS:
        module = importlib.import_module(f"inngest_core.bench.{part}")
        found.extend(module.groups())
    return found
