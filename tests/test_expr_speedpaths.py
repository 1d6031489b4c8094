"""The compiled CEL twin's fast paths answer as its general paths and the Python twin do.

* ``Path`` walks exact dicts of str keys without references, and hands any other value (a
  dict with other keys, a dict subclass, a list, a missing key) to the general selection;
* ``binds_dotted`` finds a dot in ASCII keys with ``memchr`` and in any other key as before;
* ``==`` on two strs compares length, kind and code units;
* the parser finds identifiers in a direct-mapped cache keyed by a hash of their code units
  (a slot may hold another name: collisions), and the names it makes are interned strs.
"""

from __future__ import annotations

import importlib
import random
import sys
from collections import OrderedDict
from types import ModuleType
from typing import Any

import pytest

from inngest_core._expr_ast import RESERVED
from twins import SKIP_COMPILED

if SKIP_COMPILED:
    pytest.skip(SKIP_COMPILED, allow_module_level=True)

c: ModuleType = importlib.import_module("inngest_core._expr_c")
py: ModuleType = importlib.import_module("inngest_core._expr_py")
parse_c = importlib.import_module("inngest_core._expr_parse_c").parse


def outcome(twin: ModuleType, source: str, activation: Any) -> tuple[str, Any]:
    try:
        return ("value", twin.compile_program(source).evaluate(activation))
    except Exception as exc:  # noqa: BLE001 - the type and message are what we compare
        return ("error", (type(exc), str(exc)))


def agree(source: str, activation: Any) -> Any:
    got = outcome(c, source, activation)
    assert got == outcome(py, source, activation), source
    return got


# A path whose every step is some kind of value: the fast walk stops at each in turn.
STEPS: list[Any] = [
    {"b": {"c": 1}},                 # the fast walk all the way
    {"b": {"c": 1, 2: "x"}},         # a dict with an int key: checked, then selected
    {"b": {1.5: 1}},                 # no str key at all: no such key
    {"b": OrderedDict(c=1)},         # a dict subclass read from its own storage
    {"b": [1]},                      # a list: no field selection
    {"b": {}},                       # the field is missing
    {"b": None},
    {1: {"c": 1}, "b": {"c": 2}},    # the first dict has an int key
    {"b": {"c": {"d": "e"}}},        # the value is a dict, returned as a map
    {"b": {"c": 2 ** 70}},           # an int out of range at the end
    {"b": {"c": object()}},          # an unsupported value at the end
]


@pytest.mark.parametrize("value", STEPS, ids=range(len(STEPS)))
@pytest.mark.parametrize("source", ["a.b.c", "a.b.c == 1", "a.b.c.d", "has(a.b.c)"])
def test_path_steps(source: str, value: Any) -> None:
    agree(source, {"a": value})


def test_path_unbound_and_typed() -> None:
    for source in ["a.b.c", "int.b", "x.y == 1"]:
        agree(source, {})
        agree(source, {"a": 1, "int": {"b": 2}})


@pytest.mark.parametrize("key", ["a.b", "é.b", "a\u0101.b", "a\U0001f600.b", "ab", "é"])
def test_dotted_keys(key: str) -> None:
    agree("a.b == 1", {key: 1, "a": {"b": 2}})
    agree("é.b == 1", {key: 1, "é": {"b": 2}})


@pytest.mark.parametrize(("left", "right"), [
    ("abc", "abc"), ("abc", "abd"), ("abc", "ab"), ("é", "e"), ("é", "é"),
    ("\u0101x", "\u0101x"), ("\U0001f600", "\U0001f600"), ("\U0001f600", "\u0101"), ("", ""),
])
def test_str_equality(left: str, right: str) -> None:
    # Made at run time, so equal strs are distinct objects.
    left, right = "".join(list(left)), "".join(list(right))
    for source in ["x == y", "x != y", f"x == {right!r}", f"x != {right!r}"]:
        assert agree(source, {"x": left, "y": right}) == ("value", (left == right) != ("!=" in source))


def test_identifier_cache_collisions() -> None:
    # Far more names than cache slots, so slots are shared and replaced; every parse is
    # the Python twin's, and repeated parses give the same (shared, interned) strs.
    rng = random.Random(17)
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789"
    names = {rng.choice(letters[:53]) + "".join(rng.choices(letters, k=rng.randrange(0, 12)))
             for _ in range(5000)}
    names -= {"in", "true", "false", "null"}
    ordered = sorted(names)
    for _ in range(2):
        for i in range(0, len(ordered) - 2, 3):
            if RESERVED & {ordered[i], ordered[i + 1], ordered[i + 2]}:
                continue
            source = f"{ordered[i]}.{ordered[i + 1]} + {ordered[i + 2]}"
            assert parse_c(source) == py.parse(source), source


def test_identifiers_are_interned() -> None:
    tree = parse_c("event_speedpath.data_speedpath")
    assert tree[2] is sys.intern("data_speedpath")
    assert tree[1][1] is sys.intern("event_speedpath")
    # A long name is shared between parses but not interned.
    long = "n" * 100
    assert parse_c(long)[1] is parse_c(f"{long} + 1")[2][0][1]
