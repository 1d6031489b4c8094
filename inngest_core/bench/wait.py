"""Benchmark groups for the wait index: one incoming event against many stored waits.

The stored waits are what a server holds after substituting each triggering event: 90% are
``async.data.user_id == "<id>"``; the other 10% mix ranges, ``in``, ``||`` and equality, and
one wait calls a function no index can see into.  Indexes are built once per process and
shared by the rows that need them.
"""

from __future__ import annotations

import gc
import importlib
import itertools
from functools import cache
from typing import Any

from . import Call, Contender, Group

SIZES = (1_000, 10_000, 100_000, 1_000_000)
EVENT: dict[str, Any] = {
    "data": {"user_id": "u4242", "amount": 500, "plan": "pro", "email": "x@example.com",
             "tags": ["a"]},
}


def wait_template(i: int) -> tuple[str, dict[str, Any]]:
    """The ``i``-th stored wait of the workload: an ``if`` expression and the triggering event
    substituted into it before it is stored."""
    if i == 0:
        return ('async.data.email.endsWith("@example.com") && size(async.data.tags) > 3', {})
    event = {"id": f"u{i}", "n": i % 1000, "email": f"e{i}@example.com", "min": 1000 + i}
    if i % 10:
        return "async.data.user_id == event.id", event
    kind = (i // 10) % 4
    if kind == 0:
        return "async.data.user_id == event.id && async.data.amount > event.n", event
    if kind == 1:
        return ('async.data.plan in ["pro", "enterprise"] && async.data.user_id == event.id',
                event)
    if kind == 2:
        return "async.data.user_id == event.id || async.data.email == event.email", event
    return "async.data.amount >= event.min", event


def wait_source(i: int) -> str:
    """The ``i``-th stored wait as the index holds it, after substitution (written out
    directly: compiling this is three times cheaper than substituting, for big indexes)."""
    if i == 0:
        return wait_template(0)[0]
    if i % 10:
        return f'async.data.user_id == "u{i}"'
    kind = (i // 10) % 4
    if kind == 0:
        return f'async.data.user_id == "u{i}" && async.data.amount > {i % 1000}'
    if kind == 1:
        return f'async.data.plan in ["pro", "enterprise"] && async.data.user_id == "u{i}"'
    if kind == 2:
        return f'async.data.user_id == "u{i}" || async.data.email == "e{i}@example.com"'
    return f"async.data.amount >= {1000 + i}"


def _expr(suffix: str) -> Any:
    return importlib.import_module(f"inngest_core._expr_{suffix}")


@cache
def _compiled(suffix: str, template: str) -> Any:
    return _expr(suffix).compile_program(template)


def expected_keys(size: int) -> list[int]:
    """The waits EVENT resumes in a workload of ``size`` (worked out by hand from the rules
    above: u4242 is a plain equality wait; no range reaches 500)."""
    return [4242] if size > 4242 else []


@cache
def build(suffix: str, size: int) -> Any:
    """An index of the live twin ``suffix`` (``c`` or ``py``) holding ``size`` waits."""
    wait = importlib.import_module(f"inngest_core._wait_{suffix}")
    index = wait.ExpressionIndex()
    collecting = gc.isenabled()
    gc.disable()  # a million new objects, none of them garbage: skip the collector's passes
    try:
        if suffix == "c":
            compile_program = _expr("c").compile_program
            for i in range(size):
                index.add(i, compile_program(wait_source(i)))
        else:  # the Lark twin parses slowly: substitute into parsed templates instead
            for i in range(size):
                template, event = wait_template(i)
                index.add(i, _compiled(suffix, template), event=event)
    finally:
        gc.freeze()  # and keep the collector from rescanning them during the timings
        if collecting:
            gc.enable()
    return index


def _match(suffix: str, size: int) -> Call:
    return Call(build(suffix, size).match, (EVENT,))


@cache
def build_dialect(size: int) -> Any:
    """The compiled index in the "inngest" dialect holding the same ``size`` waits."""
    from .._expr_dialect import compile_dialect

    wait = importlib.import_module("inngest_core._wait_c")
    twin = _expr("c")
    index = wait.ExpressionIndex(dialect="inngest")
    collecting = gc.isenabled()
    gc.disable()
    try:
        for i in range(size):
            index.add(i, compile_dialect(wait_source(i), twin=twin))
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
    return index


def _match_dialect(size: int) -> Call:
    return Call(build_dialect(size).match, (EVENT,))


def _linear(size: int) -> Any:
    programs = [program for _, program in build("c", size).programs()]
    activation = {"async": EVENT}

    def every_program() -> list[int]:
        return [i for i, program in enumerate(programs) if program.matches(activation)]

    return every_program


def _add_remove(suffix: str) -> Any:
    index = build(suffix, 100_000)
    program = _expr(suffix).compile_program('async.data.user_id == "fresh"')
    counter = itertools.count(10_000_000)

    def add_then_remove() -> None:
        key = next(counter)
        index.add(key, program)
        index.remove(key)

    return add_then_remove


def _add(suffix: str) -> Any:
    index = build(suffix, 100_000)
    program = _expr(suffix).compile_program('async.data.user_id == "fresh"')
    counter = itertools.count(20_000_000)
    return lambda: index.add(next(counter), program)


def groups() -> list[Group]:
    found = [
        Group("wait", "match one event against 100,000 waits", expected_keys(100_000), [
            Contender("inngest_core (compiled)", "compiled", lambda: _match("c", 100_000)),
            Contender("inngest_core (python)", "python", lambda: _match("py", 100_000)),
            Contender("matches() on every stored program [baseline]", "baseline",
                      lambda: _linear(100_000)),
            Contender('inngest_core (compiled), dialect="inngest"', "compiled",
                      lambda: _match_dialect(100_000)),
        ]),
        Group("wait", "add a wait (100,000 stored)", None, [
            Contender("inngest_core (compiled)", "compiled", lambda: _add("c")),
            Contender("inngest_core (python)", "python", lambda: _add("py")),
        ]),
        Group("wait", "add + remove a wait (100,000 stored)", None, [
            Contender("inngest_core (compiled)", "compiled", lambda: _add_remove("c")),
            Contender("inngest_core (python)", "python", lambda: _add_remove("py")),
        ]),
    ]
    for size in SIZES:
        found.append(Group("wait", f"match, {size:,} waits stored (scaling)",
                           expected_keys(size), [
            Contender("inngest_core (compiled)", "compiled",
                      lambda size=size: _match("c", size)),  # type: ignore[misc]
        ]))
    return found
