"""The evaluator, ``substitute`` and the wait index never call a method of an object they do
not own (see "owned values" in ``inngest_core/_expr_lib.py``): a foreign object anywhere it is
read is a clean ``EvaluationError`` naming its type, and no dunder of it ever runs -- not even
through a hash collision in a dict that holds it as a key."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

import pytest

from inngest_core.errors import EvaluationError
from twins import TWINS

CALLS: list[str] = []
ARMED = [False]


def _record(name: str) -> Any:
    def dunder(self: Any, *args: Any, **kwargs: Any) -> Any:
        if ARMED[0]:
            CALLS.append(f"{type(self).__name__}.{name}")
            raise AssertionError(f"{name} called on a foreign object")
        builtin = next((b for b in type(self).__mro__[1:] if b.__module__ == "builtins"))
        if builtin is object:
            if name == "__hash__":
                return object.__getattribute__(self, "_hash")
            if name == "__eq__":
                return self is args[0]
            if name == "__ne__":
                return self is not args[0]
            if name in ("__repr__", "__str__"):
                return f"<{type(self).__name__}>"
            raise TypeError(name)
        return getattr(builtin, name)(self, *args, **kwargs)  # set-up only: the builtin's

    dunder.__name__ = name
    return dunder


_DUNDERS = [
    "__repr__", "__str__", "__format__", "__bytes__", "__eq__", "__ne__", "__lt__", "__le__",
    "__gt__", "__ge__", "__hash__", "__bool__", "__len__", "__iter__", "__next__",
    "__contains__", "__getitem__", "__setitem__", "__delitem__", "__missing__", "__getattr__",
    "__index__", "__int__", "__float__", "__complex__", "__round__", "__trunc__", "__floor__",
    "__ceil__", "__abs__", "__neg__", "__pos__", "__invert__", "__add__", "__radd__",
    "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__", "__mod__",
    "__rmod__", "__and__", "__or__", "__call__", "__reduce__", "__reduce_ex__", "__sizeof__",
    "__dir__", "__copy__", "__deepcopy__", "__fspath__", "__length_hint__", "__reversed__",
    "__enter__", "__exit__", "keys", "items", "values", "get", "copy", "utcoffset",
    "tzname", "dst", "isoformat", "strftime",
]


def _probe_class(name: str, *bases: type) -> type:
    namespace: dict[str, Any] = {name_: _record(name_) for name_ in _DUNDERS}

    def getattribute(self: Any, attribute: str) -> Any:
        if ARMED[0]:
            CALLS.append(f"{type(self).__name__}.__getattribute__({attribute})")
            raise AssertionError("__getattribute__ called on a foreign object")
        return object.__getattribute__(self, attribute)

    def the_class(self: Any) -> Any:
        if ARMED[0]:
            CALLS.append(f"{type(self).__name__}.__class__")
        return type(self)

    namespace["__getattribute__"] = getattribute
    namespace["__class__"] = property(the_class)
    namespace["__init_subclass__"] = classmethod(lambda cls, **kw: None)
    return type(name, bases or (object,), namespace)


Probe = _probe_class("Probe")
ProbeMapping = _probe_class("ProbeMapping", Mapping)
ProbeZone = _probe_class("ProbeZone", tzinfo)
# Subclasses of builtins whose every override records: read through the builtin's own code.
ProbeStr = _probe_class("ProbeStr", str)
ProbeInt = _probe_class("ProbeInt", int)
ProbeFloat = _probe_class("ProbeFloat", float)
ProbeList = _probe_class("ProbeList", list)
ProbeDict = _probe_class("ProbeDict", dict)


def probe(colliding_with: object = "x") -> Any:
    """A foreign object whose hash equals ``hash(colliding_with)``: as a dict key, a lookup of
    that key would have to call its ``__eq__``."""
    made = object.__new__(Probe)
    object.__setattr__(made, "_hash", hash(colliding_with))
    return made


class armed:
    def __enter__(self) -> None:
        CALLS.clear()
        ARMED[0] = True

    def __exit__(self, *exc: object) -> None:
        ARMED[0] = False


def outcome(twin: Any, source: str, activation: Any) -> tuple[str, Any]:
    program = twin.expr.compile_program(source)
    with armed():
        try:
            result: tuple[str, Any] = ("value", program.evaluate(activation))
        except EvaluationError as error:
            result = ("error", str(error))
        matched = program.matches(activation)
    assert CALLS == [], f"{source!r}: {CALLS}"
    assert matched is (result[0] == "value" and result[1] is True)
    return result


FOREIGN = "unsupported value type Probe"

# (source, activation): each reads the foreign object, so each is that error.
READS: list[tuple[str, Any]] = []
for _source in ["x", "x == 1", "1 == x", "x != 1", "x.a", "has(x.a)", "x in [1, 2]",
                "x in {'a': 1}", "1 in x", "size(x)", "x + 1", "[x][0]", "x[0]", "x['a']",
                "x.exists(i, true)", "type(x)", "string(x)", "x < 1", "!x", "x || true",
                "x ? 1 : 2", "x.startsWith('a')"]:
    READS.append((_source, lambda: {"x": probe()}))
for _source in ["l[0]", "l[0] == 1", "1 in l", "l == [1, 1]", "l.all(i, true)", "l",
                "l.map(i, i)", "l.filter(i, true)"]:
    READS.append((_source, lambda: {"l": [probe(), 1]}))
for _source in ["m.a", "m['a']", "m == {'a': 1}", "m", "m.a == 1"]:
    READS.append((_source, lambda: {"m": {"a": probe()}}))
# A foreign key whose hash collides with the key looked up.
for _source in ["m.a", "m['a']", "'a' in m", "has(m.a)", "m == {'a': 1}", "m.all(k, true)",
                "size(m)", "m", "[m][0].a"]:
    READS.append((_source, lambda: {"m": {probe("a"): 1, "a": 2}}))
for _source in ["x", "y", "x.a"]:
    READS.append((_source, lambda: {probe("x"): 1, "x": {"a": 2}, "y": 3}))
READS.append(("x", lambda: {"x": datetime(2024, 1, 1, tzinfo=tzinfo.__new__(ProbeZone))}))
READS.append(("m.a", lambda: {"m": object.__new__(ProbeMapping)}))
READS.append(("a", lambda: object.__new__(ProbeMapping)))


@pytest.mark.parametrize("twin", TWINS, ids=[t.suffix for t in TWINS])
@pytest.mark.parametrize(("source", "make"), READS, ids=[s for s, _ in READS])
def test_foreign_objects_are_never_called(twin: Any, source: str, make: Any) -> None:
    kind, value = outcome(twin, source, make())
    assert kind == "error"
    assert value.startswith("unsupported value type Probe")


# Values never read: the answer, and no call.
UNREAD = [
    ("size(l)", lambda: {"l": [probe()]}, 1),
    ("has(m.a)", lambda: {"m": {"a": probe()}}, True),
    ("y", lambda: {"x": probe(), "y": 1}, 1),
    ("false && x", lambda: {"x": probe()}, False),
]


@pytest.mark.parametrize("twin", TWINS, ids=[t.suffix for t in TWINS])
@pytest.mark.parametrize(("source", "make", "expected"), UNREAD, ids=[s for s, _, _ in UNREAD])
def test_unread_foreign_objects(twin: Any, source: str, make: Any, expected: Any) -> None:
    assert outcome(twin, source, make()) == ("value", expected)


def _subclasses() -> dict[str, Any]:
    d = ProbeDict()
    dict.__setitem__(d, "a", 1)
    return {
        "s": ProbeStr("hi"), "i": ProbeInt(3), "f": ProbeFloat(2.5),
        "l": ProbeList([1, 2]), "d": d,
    }


BUILTIN_SUBCLASSES = [
    ("s == 'hi'", True), ("s + '!'", "hi!"), ("s", "hi"), ("i == 3", True), ("i + 1", 4),
    ("f > 2.0", True), ("l == [1, 2]", True), ("size(l)", 2), ("l[1]", 2), ("d.a", 1),
    ("has(d.b)", False), ("'a' in d", True), ("d", {"a": 1}), ("type(s) == string", True),
]


@pytest.mark.parametrize("twin", TWINS, ids=[t.suffix for t in TWINS])
@pytest.mark.parametrize(("source", "expected"), BUILTIN_SUBCLASSES,
                         ids=[s for s, _ in BUILTIN_SUBCLASSES])
def test_builtin_subclasses_are_read_through_the_builtin(twin: Any, source: str,
                                                         expected: Any) -> None:
    kind, value = outcome(twin, source, _subclasses())
    assert (kind, value) == ("value", expected)
    assert type(value) is type(expected)


def test_str_subclass_key_is_foreign() -> None:
    for twin in TWINS:
        assert outcome(twin, "m.a", {"m": {ProbeStr("a"): 1}}) == (
            "error", "unsupported value type ProbeStr")


# ------------------------------------------------------------------ substitute


SUBSTITUTIONS = [
    ("event.x == async.y", lambda: {"event": {"x": probe()}}),
    ("event.x == async.y", lambda: {"event": {probe("x"): 1, "x": 2}}),
    ("event == async.y", lambda: {"event": [probe()]}),
    ("has(event.x.a)", lambda: {"event": {"x": probe()}}),
    ("event.x.a == 1", lambda: {"event": {"x": {probe("a"): 1, "a": 1}}}),
    ("event.x == 1", lambda: {probe("event"): 1, "event": {"x": 1}}),
    ("event.x == 1", lambda: object.__new__(ProbeMapping)),
]


@pytest.mark.parametrize("twin", TWINS, ids=[t.suffix for t in TWINS])
@pytest.mark.parametrize(("source", "make"), SUBSTITUTIONS, ids=[s for s, _ in SUBSTITUTIONS])
def test_substitute_never_calls(twin: Any, source: str, make: Any) -> None:
    program = twin.expr.compile_program(source)
    bindings = make()
    with armed():
        with pytest.raises(EvaluationError) as info:
            program.substitute(bindings)
    assert CALLS == []
    assert str(info.value).startswith("unsupported value type Probe")


def test_substitute_reads_builtin_subclasses() -> None:
    for twin in TWINS:
        program = twin.expr.compile_program("event.s == async.s && event.i < async.i")
        bindings = {"event": {"s": ProbeStr("a"), "i": ProbeInt(3)}}
        with armed():
            stored = program.substitute(bindings)
        assert CALLS == []
        assert str(stored) == '"a" == async.s && 3 < async.i'


# ------------------------------------------------------------------ the wait index


@pytest.mark.parametrize("twin", TWINS, ids=[t.suffix for t in TWINS])
def test_index_add_never_calls(twin: Any) -> None:
    index = twin.wait.ExpressionIndex()
    for event in ({"x": probe()}, {probe("x"): 1, "x": 2}, {"x": [probe()]}):
        with armed():
            with pytest.raises(EvaluationError, match="^unsupported value type Probe$"):
                index.add("w", "event.x == async.x", event=event)
        assert CALLS == []
    assert len(index) == 0


@pytest.mark.parametrize("twin", TWINS, ids=[t.suffix for t in TWINS])
def test_index_match_never_calls(twin: Any) -> None:
    index = twin.wait.ExpressionIndex()
    index.add("eq", 'async.y == "u1"')
    index.add("range", "async.n > 1")
    index.add("always", "async.y.startsWith('u')")
    index.add("deep", 'async.m.y == "u1"')
    events = [
        {"y": probe(), "n": probe(), "m": probe()},
        {probe("y"): 1, "y": "u1", "n": 5},
        {"y": "u1", "n": 5, "m": {probe("y"): 1, "y": "u1"}},
        object.__new__(ProbeMapping),
        {"y": [probe()], "n": [probe()], "m": {"y": probe()}},
    ]
    expected = [[], [], ["eq", "range", "always"], [], []]
    for event, keys in zip(events, expected):
        with armed():
            got = index.match(event)
        assert CALLS == []
        assert got == keys


@pytest.mark.parametrize("twin", TWINS, ids=[t.suffix for t in TWINS])
def test_index_reads_builtin_subclasses(twin: Any) -> None:
    index = twin.wait.ExpressionIndex()
    index.add("eq", 'async.y == "u1"')
    index.add("range", "async.n > 1")
    with armed():
        got = index.match({"y": ProbeStr("u1"), "n": ProbeInt(5)})
    assert CALLS == []
    assert got == ["eq", "range"]


def test_probe_really_records() -> None:
    """The probe is armed as the tests think: any use of it records."""
    p = probe()
    with armed():
        with pytest.raises(AssertionError):
            repr(p)
        with pytest.raises(AssertionError):
            {p: 1}  # noqa: B018
        with pytest.raises(AssertionError):
            isinstance(p, int)  # a failed isinstance asks the object for its __class__
    assert CALLS == ["Probe.__repr__", "Probe.__hash__", "Probe.__getattribute__(__class__)"]


def test_probe_mapping_is_a_mapping() -> None:
    assert issubclass(ProbeMapping, Mapping)
    assert isinstance(timedelta(1), timedelta)



