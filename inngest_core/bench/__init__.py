"""The registry of comparative benchmark cases behind ``inngest-core bench`` and ``bench/``.

A :class:`Group` is one job (``parse "1h30m" to nanoseconds``) with the value our twins
produce; its :class:`Contender` rows are our compiled twin, our Python twin, the libraries a
user would otherwise pick and plain-Python baselines.  Each contender's ``make`` returns a
zero-argument callable to time, or a :class:`Call` (a function and its arguments, timed as a
direct call so no wrapper's cost is counted); a peer that is not installed raises
``ImportError`` there and is listed as skipped.  Before a contender is timed its result is checked against the group's
``expected`` value (through ``normalize``, which maps a peer's answer into ours).

Each part of the core adds its groups in a module of this package, named in ``PARTS``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple, Union

__all__ = ["Call", "Contender", "Group", "PARTS", "cases", "groups", "ours", "prepare"]

#: Modules of this package that contribute groups, in table order.
PARTS: tuple[str, ...] = ("duration", "datetime", "expr", "wait", "serve", "async_serve", "flow",
                          "adversarial", "imports")


class Call(NamedTuple):
    """``fn(*args, **dict(kwargs))``, timed without a wrapper around it."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...] = ()

    def __call__(self) -> Any:
        return self.fn(*self.args, **dict(self.kwargs))


Timed = Union[Callable[[], Any], Call]


@dataclass(frozen=True)
class Contender:
    """One row: ``kind`` is ``"compiled"``, ``"python"`` (our twins), ``"peer"`` or
    ``"baseline"`` (plain Python doing part of the job, for a target such as "no slower than
    int()")."""

    label: str
    kind: str
    make: Callable[[], Timed]
    normalize: Callable[[Any], Any] | None = None
    #: Baselines compute something else on purpose (int("5400") is not a duration): unchecked.
    checked: bool = True


@dataclass(frozen=True)
class Group:
    part: str
    name: str
    expected: Any
    contenders: list[Contender] = field(default_factory=list)
    #: For a case that takes seconds (a whole workload): time exactly this many calls, the
    #: first of which is also the check, instead of loops sized to a target time.
    rounds: int | None = None


def ours(part: str, attr: str, *args: Any, **kwargs: Any) -> list[Contender]:
    """The two rows for our twins calling ``inngest_core._<part>_{c,py}.<attr>(*args)``."""

    def maker(suffix: str) -> Callable[[], Timed]:
        def make() -> Timed:
            module = importlib.import_module(f"inngest_core._{part}_{suffix}")
            fn = getattr(module, attr)
            return Call(fn, args, tuple(kwargs.items()))

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


def cases(part: str) -> list[tuple[str, Group, Contender]]:
    """``(id, group, contender)`` for every row of ``part``: what the pytest-benchmark suites
    in ``bench/`` parametrize over, so they time exactly the CLI's cases."""
    return [
        (f"{group.name} | {contender.label}", group, contender)
        for group in groups((part,))
        for contender in group.contenders
    ]


def prepare(group: Group, contender: Contender) -> Timed:
    """Make a contender's callable and check its answer against the group (raises
    ``ImportError`` for an absent peer, ``AssertionError`` for a wrong answer)."""
    fn = contender.make()
    if contender.checked:
        got = fn()
        if contender.normalize is not None:
            got = contender.normalize(got)
        assert got == group.expected, f"{contender.label} gave {got!r}, expected {group.expected!r}"
    return fn
