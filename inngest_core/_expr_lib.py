"""The CEL runtime both expression evaluators share: values, conversions, and every function.

Values inside an evaluation are plain Python objects:

=================  =====================================================================
CEL                Python
=================  =====================================================================
null / bool        ``None`` / ``bool``
int / uint         ``int`` (in int64 range) / :class:`UInt`
double             ``float``
string / bytes     ``str`` / ``bytes``
list / map         any ``list`` or ``tuple`` / any ``Mapping``, as given: their elements
                   are *raw* Python values, normalised by :func:`to_cel` when read
type               :class:`CelType`
timestamp          :class:`Timestamp` (nanoseconds since the epoch, years 1 to 9999)
duration           :class:`Duration` (nanoseconds, a signed 64-bit count, as in Go)
an error           :class:`CelError` (errors are values until the end of the evaluation)
=================  =====================================================================

The function table
------------------
:data:`FUNCTIONS` maps ``(name, arity, receiver)`` to a callable: ``name`` is the CEL function
or operator name (``"_+_"``, ``"size"``, ``"endsWith"``), ``arity`` the number of arguments
*without* the receiver, ``receiver`` whether it is called as a method (``s.endsWith(x)`` is
``("endsWith", 1, True)`` called as ``f(s, x)``).  A callable takes evaluated CEL values, never
a :class:`CelError` (the caller returns the first error argument instead of calling: see
:func:`call`), and returns a CEL value or a :class:`CelError`; it never raises for bad input.
``&&``, ``||``, ``?:``, ``has`` and the comprehension macros are not functions: the evaluators
implement them.

>>> FUNCTIONS[("_+_", 2, False)](1, 2)
3
>>> FUNCTIONS[("_+_", 2, False)](1, "a")
CelError("no matching overload for '_+_' applied to (int, string)")
"""

from __future__ import annotations

import gc
import math
import re as _re
import sys
import threading
from collections.abc import Callable, Mapping
from abc import ABCMeta
from itertools import repeat
from operator import is_
from types import MappingProxyType
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import re2

from ._expr_ast import MAX_NESTING

from .duration import parse_duration_ns
from .datetimes import parse_datetime
from .errors import EVALUATION_MESSAGES, DatetimeError, DurationError, EvaluationError

__all__ = [
    "UInt",
    "CelType",
    "TYPES",
    "Timestamp",
    "Duration",
    "CelError",
    "error",
    "to_cel",
    "to_python",
    "type_of",
    "type_name",
    "equals",
    "select",
    "has_field",
    "index",
    "contains",
    "make_map",
    "iterate",
    "call",
    "FUNCTIONS",
]

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1
NANOS = 1_000_000_000
#: 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999999Z, in seconds since the epoch.
MIN_TIMESTAMP_SECONDS = -62135596800
MAX_TIMESTAMP_SECONDS = 253402300799
MIN_TIMESTAMP_NANOS = MIN_TIMESTAMP_SECONDS * NANOS
MAX_TIMESTAMP_NANOS = MAX_TIMESTAMP_SECONDS * NANOS + NANOS - 1


class UInt(int):
    """A CEL ``uint``: an ``int`` in 0 .. 2**64-1 that CEL keeps apart from ``int``.

    >>> UInt(3) + 4, type(UInt(3))
    (7, <class 'inngest_core._expr_lib.UInt'>)
    >>> UInt(-1)
    Traceback (most recent call last):
    ...
    ValueError: uint out of range: -1
    """

    __slots__ = ()

    def __new__(cls, value: Any = 0) -> UInt:
        self = super().__new__(cls, value)
        if not 0 <= self <= UINT64_MAX:
            raise ValueError(f"uint out of range: {show_int(int(self))}")
        return self

    def __repr__(self) -> str:
        return f"UInt({int(self)})"


class CelType:
    """A CEL type as a value: what ``type(x)`` returns and what ``int``, ``string``, ... name.

    >>> TYPES["int"], TYPES["int"].name
    (CelType('int'), 'int')
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"CelType({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CelType) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("CelType", self.name))

    def __reduce__(self) -> tuple[Any, ...]:
        return (CelType, (self.name,))


TIMESTAMP_TYPE_NAME = "google.protobuf.Timestamp"
DURATION_TYPE_NAME = "google.protobuf.Duration"
#: The type values, by name: also what the identifiers ``int``, ``string``, ... evaluate to.
TYPES: dict[str, CelType] = {
    name: CelType(name)
    for name in (
        "int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type",
        "type", TIMESTAMP_TYPE_NAME, DURATION_TYPE_NAME,
    )
}


class Timestamp:
    """A CEL timestamp: ``nanos`` since 1970-01-01T00:00:00Z, within years 1 to 9999."""

    __slots__ = ("nanos",)

    def __init__(self, nanos: int) -> None:
        self.nanos = nanos

    def __repr__(self) -> str:
        return f"Timestamp({format_timestamp(self)!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is Timestamp and other.nanos == self.nanos

    def __hash__(self) -> int:
        return hash(("Timestamp", self.nanos))


class Duration:
    """A CEL duration: a signed 64-bit count of nanoseconds."""

    __slots__ = ("nanos",)

    def __init__(self, nanos: int) -> None:
        self.nanos = nanos

    def __repr__(self) -> str:
        return f"Duration({format_duration(self)!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is Duration and other.nanos == self.nanos

    def __hash__(self) -> int:
        return hash(("Duration", self.nanos))


class CelError:
    """An error as a value: evaluation goes on (``&&``, ``||`` and the macros may absorb it)
    and the evaluator raises :class:`~inngest_core.errors.EvaluationError` with ``message``
    if it is the result."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

    def __repr__(self) -> str:
        return f"CelError({self.message!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is CelError and other.message == self.message

    def __hash__(self) -> int:
        return hash(("CelError", self.message))

    def exception(self) -> EvaluationError:
        return EvaluationError(self.message)


def error(code: str, **fields: Any) -> CelError:
    """The :class:`CelError` for message ``code`` of :data:`EVALUATION_MESSAGES`."""
    return CelError(EVALUATION_MESSAGES[code].format(**fields))


Value = Any
_NoneType = type(None)

# ----------------------------------------------------------------------------- values in


#: Types :func:`to_cel` passes through unchanged (a ``dict`` passes once its keys are checked).
PLAIN = frozenset(
    {str, bool, float, _NoneType, bytes, UInt, list, tuple, Timestamp, Duration, CelType,
     CelError}
)

# ----------------------------------------------------------------------------- owned values
#
# The evaluator, ``substitute`` and the wait index never call a method of an object they do
# not own: not ``__repr__``, ``__eq__``, ``__hash__``, ``__len__``, ``__iter__``,
# ``__getattr__``, ``__index__``, ``__class__``, a ``__missing__`` or a ``__getitem__``.  An
# object is looked at only through ``type(obj)`` compared with builtin classes (the class's
# metaclass is trusted, as Python itself trusts it).  What is read:
#
# * exact ``bool``, ``int``, ``float``, ``str``, ``bytes``, ``None``, ``list``, ``tuple``,
#   ``dict``, and this package's own types;
# * subclasses of ``int``, ``float``, ``str``, ``bytes``, ``list``, ``tuple``, ``datetime`` and
#   ``timedelta`` through the builtin's own C methods (``str.__str__(s)``, ``list.copy(l)``),
#   never the subclass's overrides: an ``IntEnum`` reads as its int;
# * ``bytearray`` and ``memoryview`` (exact) as bytes;
# * subclasses of ``dict`` (``OrderedDict``, ``defaultdict``) from the dict's own storage: no
#   ``__missing__`` default is made, no override runs; a ``MappingProxyType`` through the
#   mapping it wraps (found with ``gc.get_referents``, which calls no Python code);
# * a datetime whose ``tzinfo`` is ``None``, a ``datetime.timezone`` or a ``ZoneInfo``.
#
# Anything else, a ``Mapping`` that is not a dict included, is "unsupported value type T".
# A map key must be of an exact type whose hashing and equality are builtin (``str``,
# ``int``, ``bool``, ``float``, ``bytes``, ``None``, ``UInt``): a dict is checked before it is
# first looked into, since a lookup may call the ``__eq__`` of a key whose hash collides.

_type_label = type.__dict__["__name__"].__get__
_TD_DAYS = timedelta.days.__get__
_TD_SECONDS = timedelta.seconds.__get__
_TD_MICROSECONDS = timedelta.microseconds.__get__


def foreign(kind: type) -> EvaluationError:
    """The error for a value of a type the evaluator does not read (named, never shown).

    >>> foreign(object)
    EvaluationError('unsupported value type object')
    """
    return EvaluationError(EVALUATION_MESSAGES["unsupported_value"].format(type=_type_label(kind)))


def str_keyed(mapping: dict[Any, Any]) -> bool:
    """Are all keys of a dict exact ``str``?  (Compares classes by identity only.)  A
    small dict -- an event, its data -- is walked by a plain loop, three times cheaper
    than building the iterators a large one is worth."""
    if len(mapping) > 16:
        return all(map(is_, map(type, mapping), repeat(str)))
    for key in mapping:  # an exact dict iterates its own table
        if type(key) is not str:
            return False
    return True


def check_keys(mapping: dict[Any, Any]) -> dict[Any, Any]:
    """``mapping`` (an exact dict) when every key has an owned key type, else the error.

    >>> check_keys({"a": 1, 2: 3})
    {'a': 1, 2: 3}
    >>> check_keys({object(): 1})
    Traceback (most recent call last):
    ...
    inngest_core.errors.EvaluationError: unsupported value type object
    """
    if str_keyed(mapping):
        return mapping
    for key in mapping:  # an exact dict iterates its own table
        kind = type(key)
        if not (kind is str or kind is int or kind is bool or kind is float or kind is UInt
                or kind is bytes or key is None):
            raise foreign(kind)
    return mapping


def plain_mapping(value: Any) -> dict[Any, Any]:
    """A dict, a dict subclass or a mapping proxy of one, as an exact dict with owned keys,
    read from the dict's own storage; any other mapping is an unsupported value.

    >>> from collections import defaultdict
    >>> plain_mapping(defaultdict(int, a=1)), plain_mapping(MappingProxyType({"b": 2}))
    ({'a': 1}, {'b': 2})
    """
    kind = type(value)
    while kind is MappingProxyType:
        value = gc.get_referents(value)[0]  # the wrapped mapping, without calling it
        kind = type(value)
    if kind is dict:
        return check_keys(value)
    if issubclass(kind, dict):
        items: list[tuple[Any, Any]] = list(dict.items(value))
        for key, _ in items:
            key_kind = type(key)
            if not (key_kind is str or key_kind is int or key_kind is bool
                    or key_kind is float or key_kind is UInt or key_kind is bytes
                    or key is None):
                raise foreign(key_kind)
        return dict(items)
    raise foreign(kind)


def owned(value: Any) -> Any:
    """``value`` as an object of an exact builtin type (or one of ours): subclasses through
    the builtin's own methods, mappings as exact dicts; datetimes and timedeltas as exact ones.
    Ints are not range-checked here.  Anything else raises "unsupported value type T"."""
    kind = type(value)
    if kind is dict:
        return check_keys(value)
    if kind in PLAIN or kind is int:
        return value
    if kind is datetime:
        return _owned_zone(value)
    if kind is timedelta:
        return value
    if kind is bytearray or kind is memoryview:
        return bytes(value)
    if issubclass(kind, int):  # bool is final; UInt is in PLAIN
        return int.__index__(value)
    if issubclass(kind, str):
        return str.__str__(value)
    if issubclass(kind, float):
        return float.__float__(value)
    if issubclass(kind, bytes):
        return bytes.__bytes__(value)
    if issubclass(kind, list):
        return list.copy(value)
    if issubclass(kind, tuple):
        return tuple.__getitem__(value, slice(None))
    if issubclass(kind, datetime):
        return _owned_zone(
            datetime.combine(datetime.date(value), datetime.timetz(value)))
    if issubclass(kind, timedelta):
        return timedelta(_TD_DAYS(value), _TD_SECONDS(value), _TD_MICROSECONDS(value))
    return plain_mapping(value)


def _owned_zone(value: datetime) -> datetime:
    """A datetime whose offset can be asked without running foreign code."""
    zone = value.tzinfo
    if zone is None or type(zone) is timezone or type(zone) is ZoneInfo:
        return value
    raise foreign(type(zone))


def to_cel(value: Any) -> Value:
    """A Python value as a CEL value (containers stay as they are; their elements are
    converted when read).  Anything else raises :class:`EvaluationError`.

    >>> to_cel(True), to_cel(3), to_cel(UInt(3)), to_cel(None)
    (True, 3, UInt(3), None)
    >>> to_cel(datetime(2024, 1, 2))
    Timestamp('2024-01-02T00:00:00Z')
    >>> to_cel(2 ** 63)
    Traceback (most recent call last):
    ...
    inngest_core.errors.EvaluationError: int value 9223372036854775808 is outside the signed 64-bit range
    >>> to_cel(object())
    Traceback (most recent call last):
    ...
    inngest_core.errors.EvaluationError: unsupported value type object
    """
    kind = type(value)
    if kind in PLAIN:
        return value
    if kind is dict:
        return check_keys(value)
    if kind is not int:
        value = owned(value)
        kind = type(value)
        if kind is not int:
            if kind is datetime:
                return _timestamp_from_datetime(value)
            if kind is timedelta:
                nanos = ((value.days * 86400 + value.seconds) * NANOS
                         + value.microseconds * 1000)
                if not INT64_MIN <= nanos <= INT64_MAX:
                    raise EvaluationError(EVALUATION_MESSAGES["duration_range"])
                return Duration(nanos)
            return value
    if INT64_MIN <= value <= INT64_MAX:
        return value
    raise EvaluationError(EVALUATION_MESSAGES["int_value_range"].format(value=show_int(value)))


def show_int(value: int) -> str:
    """An int for a message: its digits, or its size when it has too many to write (Python
    refuses to write more than 4,300 digits, and nobody reads them).

    >>> show_int(-12), show_int(1 << 1000)
    ('-12', '<a 1001-bit int>')
    """
    if value.bit_length() <= 256:
        return str(value)
    return f"<a {'negative ' if value < 0 else ''}{value.bit_length()}-bit int>"


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _timestamp_from_datetime(value: datetime) -> Timestamp:
    if value.tzinfo is None or value.utcoffset() is None:  # zones are owned (see owned())
        value = value.replace(tzinfo=timezone.utc)
    delta = value - _EPOCH
    nanos = (delta.days * 86400 + delta.seconds) * NANOS + delta.microseconds * 1000
    if not MIN_TIMESTAMP_NANOS <= nanos <= MAX_TIMESTAMP_NANOS:
        raise EvaluationError(EVALUATION_MESSAGES["timestamp_range"])
    return Timestamp(nanos)


# ----------------------------------------------------------------------------- values out


def to_python(value: Value) -> object:
    """A CEL result as a Python value: timestamps become aware UTC ``datetime`` (cut to
    microseconds), durations ``timedelta``, lists ``list``, maps ``dict``.

    >>> to_python(Timestamp(1_500)), to_python(Duration(-1_500))
    (datetime.datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=datetime.timezone.utc), datetime.timedelta(days=-1, seconds=86399, microseconds=999999))
    >>> to_python((1, [UInt(2)], {"k": None}))
    [1, [UInt(2)], {'k': None}]
    """
    kind = type(value)
    if kind is CelError:
        raise value.exception()
    if kind in _SCALARS:
        return value
    if kind is Timestamp:
        return _EPOCH + timedelta(microseconds=value.nanos // 1000)
    if kind is Duration:
        nanos = value.nanos
        micros = -((-nanos) // 1000) if nanos < 0 else nanos // 1000
        return timedelta(microseconds=micros)
    value = to_cel(value)
    if isinstance(value, (list, tuple)):
        return [to_python(to_cel(item)) for item in value]
    if isinstance(value, Mapping):
        return {to_python(to_cel(k)): to_python(to_cel(v)) for k, v in value.items()}
    return to_python(value)


_SCALARS = frozenset({str, bool, int, float, _NoneType, bytes, UInt, CelType})


# ----------------------------------------------------------------------------- types


def type_name(value: Value) -> str:
    """The CEL type name of a value (for messages and ``type()``); classes are compared, the
    value itself is never asked anything."""
    kind = type(value)
    name = _TYPE_NAMES.get(kind)
    if name is not None:
        return name
    if issubclass(kind, int):
        return "uint" if issubclass(kind, UInt) else "int"
    if issubclass(kind, str):
        return "string"
    if issubclass(kind, float):
        return "double"
    if issubclass(kind, (bytes, bytearray)):
        return "bytes"
    if issubclass(kind, (list, tuple)):
        return "list"
    if issubclass(kind, dict) or kind is MappingProxyType:
        return "map"
    if issubclass(kind, datetime):
        return TIMESTAMP_TYPE_NAME
    if issubclass(kind, timedelta):
        return DURATION_TYPE_NAME
    return str(_type_label(kind))


_TYPE_NAMES: dict[type, str] = {
    bool: "bool", int: "int", UInt: "uint", float: "double", str: "string", bytes: "bytes",
    _NoneType: "null_type", list: "list", tuple: "list", dict: "map", CelType: "type",
    Timestamp: TIMESTAMP_TYPE_NAME, Duration: DURATION_TYPE_NAME,
}


def type_of(value: Value) -> CelType:
    return TYPES[type_name(value)]


def no_overload(function: str, *args: Value) -> CelError:
    return error("no_overload", function=function, types=", ".join(type_name(a) for a in args))


def _first_error(args: tuple[Value, ...]) -> CelError | None:
    for arg in args:
        if type(arg) is CelError:
            return arg
    return None


# ----------------------------------------------------------------------------- equality


_NUMBERS = frozenset({int, UInt, float})
_SIMPLE = frozenset({str, bool, bytes, _NoneType, int, UInt, float})


def equals(a: Value, b: Value) -> Value:
    """CEL ``==``: numbers compare across int, uint and double; other unlike types are
    unequal; lists and maps compare deeply.  An error operand is the result.

    >>> equals(1, 1.0), equals(UInt(1), 1), equals(True, 1), equals([1, "a"], (1.0, "a"))
    (True, True, False, True)

    An integer meets a double as a double (as in cel-go):

    >>> equals(2 ** 63 - 1, 2.0 ** 63)
    True
    """
    ta = type(a)
    tb = type(b)
    if ta is tb and ta in _SIMPLE:
        return a == b
    if ta is CelError:
        return a
    if tb is CelError:
        return b
    if ta in _NUMBERS and tb in _NUMBERS:
        if ta is float or tb is float:
            return float(a) == float(b)
        return a == b
    if ta in _SIMPLE and tb in _SIMPLE:
        return False
    a = to_cel(a)
    b = to_cel(b)
    ta = type(a)
    tb = type(b)
    if ta in _SIMPLE or tb in _SIMPLE:
        return equals(a, b) if (ta in _SIMPLE and tb in _SIMPLE) else False
    if isinstance(a, (list, tuple)):
        if not isinstance(b, (list, tuple)) or len(a) != len(b):
            return False
        for x, y in zip(a, b):
            same = equals(to_cel(x), to_cel(y))
            if same is not True:
                return same
        return True
    if isinstance(a, Mapping):
        if not isinstance(b, Mapping) or len(a) != len(b):
            return False
        for key, x in a.items():
            found = _lookup(b, to_cel(key))
            if found is _MISSING:
                return False
            same = equals(to_cel(x), to_cel(found))
            if same is not True:
                return same
        return True
    return a == b


def not_equals(a: Value, b: Value) -> Value:
    same = equals(a, b)
    return same if type(same) is CelError else not same


# ----------------------------------------------------------------------------- maps


class _Missing:
    __slots__ = ()


_MISSING: Any = _Missing()
_KEY_TYPES = frozenset({str, int, UInt, bool})


def _lookup(mapping: Mapping[Any, Any], key: Value) -> Value:
    """``mapping[key]`` with CEL's key equality (``1``, ``1u`` and ``1.0`` are one key;
    ``true`` is not ``1``), or ``_MISSING``."""
    kind = type(key)
    if kind is str:
        if type(mapping) is dict:
            return mapping.get(key, _MISSING)
        # Ask first: a mapping like defaultdict makes an entry when merely indexed.
        return mapping[key] if key in mapping else _MISSING
    if kind is float:
        if not key.is_integer():
            return _MISSING
    elif kind is not int and kind is not UInt and kind is not bool:
        return _MISSING
    if kind is bool or key == 0 or key == 1:
        # Python's True == 1: find the entry whose key has the right kind.
        want_bool = kind is bool
        for stored, value in mapping.items():
            if (type(stored) is bool) == want_bool and stored == key and type(stored) is not str:
                return value
        return _MISSING
    try:
        return mapping[key] if key in mapping else _MISSING
    except TypeError:
        return _MISSING


def make_map(entries: list[tuple[Value, Value]]) -> Value:
    """A map literal's value from evaluated ``(key, value)`` pairs."""
    result: dict[Any, Any] = {}
    for key, value in entries:
        if type(key) is CelError:
            return key
        if type(value) is CelError:
            return value
        if type(key) not in _KEY_TYPES:
            return error("unsupported_key", type=type_name(key))
        if _lookup(result, key) is not _MISSING or (
            type(key) is not bool and type(key) is not str and key in result
        ):
            return error("repeated_key", key=_show(key))
        result[key] = value
    return result


def _show(value: Value) -> str:
    if type(value) is str:
        return value
    return format_value(value)


def select(operand: Value, field: str) -> Value:
    """``operand.field``: a map's entry (``no such key`` if absent)."""
    kind = type(operand)
    if kind is dict:
        try:
            return to_cel(operand[field])
        except KeyError:
            return error("no_such_key", key=field)
    if kind is CelError:
        return operand
    if isinstance(operand, Mapping):
        found = _lookup(operand, field)
        if found is _MISSING:
            return error("no_such_key", key=field)
        return to_cel(found)
    return error("no_field_selection", type=type_name(operand))


def has_field(operand: Value, field: str) -> Value:
    """``has(operand.field)``: is the key present in the map?"""
    if type(operand) is dict:
        return field in operand
    if type(operand) is CelError:
        return operand
    if isinstance(operand, Mapping):
        return _lookup(operand, field) is not _MISSING
    return error("no_field_selection", type=type_name(operand))


def index(operand: Value, key: Value) -> Value:
    """``operand[key]`` for lists (an int, uint or integral double index) and maps."""
    if type(operand) is CelError:
        return operand
    if type(key) is CelError:
        return key
    if isinstance(operand, (list, tuple)):
        kind = type(key)
        if kind is float:
            if not key.is_integer():
                return error("invalid_index", index=format_value(key))
            key = int(key)
        elif kind is not int and kind is not UInt:
            return no_overload("_[_]", operand, key)
        if not 0 <= key < len(operand):
            return error("index_out_of_range", index=int(key), size=len(operand))
        return to_cel(operand[key])
    if isinstance(operand, Mapping):
        found = _lookup(operand, key)
        if found is _MISSING:
            return error("no_such_key", key=_show(key))
        return to_cel(found)
    return no_overload("_[_]", operand, key)


def contains(item: Value, container: Value) -> Value:
    """``item in container``: an element of a list, a key of a map."""
    if type(item) is CelError:
        return item
    if type(container) is CelError:
        return container
    if isinstance(container, (list, tuple)):
        problem: Value = None
        for element in container:
            same = equals(item, to_cel(element))
            if same is True:
                return True
            if type(same) is CelError and problem is None:
                problem = same
        return False if problem is None else problem
    if isinstance(container, Mapping):
        return _lookup(container, item) is not _MISSING
    return no_overload("@in", item, container)


def iterate(value: Value) -> list[Value] | CelError:
    """What a comprehension ranges over: a list's elements or a map's keys."""
    if isinstance(value, (list, tuple)):
        return [to_cel(v) for v in value]
    if isinstance(value, Mapping):
        return [to_cel(k) for k in value]
    if type(value) is CelError:
        return value
    return error("no_overload", function="comprehension", types=type_name(value))


# ----------------------------------------------------------------------------- arithmetic


def _int_result(value: int) -> Value:
    if INT64_MIN <= value <= INT64_MAX:
        return value
    return error("int_overflow")


def _uint_result(value: int) -> Value:
    if 0 <= value <= UINT64_MAX:
        return UInt(value)
    return error("uint_overflow")


def _duration(nanos: int) -> Value:
    if INT64_MIN <= nanos <= INT64_MAX:
        return Duration(nanos)
    return error("duration_range")


def _timestamp(nanos: int) -> Value:
    if MIN_TIMESTAMP_NANOS <= nanos <= MAX_TIMESTAMP_NANOS:
        return Timestamp(nanos)
    return error("timestamp_range")


def add(a: Value, b: Value) -> Value:
    ta = type(a)
    tb = type(b)
    if ta is tb:
        if ta is int:
            return _int_result(a + b)
        if ta is float or ta is str or ta is bytes:
            return a + b
        if ta is UInt:
            return _uint_result(a + b)
        if ta is Duration:
            return _duration(a.nanos + b.nanos)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return list(a) + list(b)
    if ta is Timestamp and tb is Duration:
        return _timestamp(a.nanos + b.nanos)
    if ta is Duration and tb is Timestamp:
        return _timestamp(a.nanos + b.nanos)
    return no_overload("_+_", a, b)


def subtract(a: Value, b: Value) -> Value:
    ta = type(a)
    tb = type(b)
    if ta is tb:
        if ta is int:
            return _int_result(a - b)
        if ta is float:
            return a - b
        if ta is UInt:
            return _uint_result(a - b)
        if ta is Duration:
            return _duration(a.nanos - b.nanos)
        if ta is Timestamp:
            return _duration(a.nanos - b.nanos)
    if ta is Timestamp and tb is Duration:
        return _timestamp(a.nanos - b.nanos)
    return no_overload("_-_", a, b)


def multiply(a: Value, b: Value) -> Value:
    ta = type(a)
    if ta is type(b):
        if ta is int:
            return _int_result(a * b)
        if ta is float:
            return a * b
        if ta is UInt:
            return _uint_result(a * b)
    return no_overload("_*_", a, b)


def _truncated_quotient(a: int, b: int) -> int:
    quotient = abs(a) // abs(b)
    return quotient if (a < 0) == (b < 0) else -quotient


def divide(a: Value, b: Value) -> Value:
    ta = type(a)
    if ta is type(b):
        if ta is int:
            if b == 0:
                return error("division_by_zero")
            return _int_result(_truncated_quotient(a, b))
        if ta is float:
            if b == 0.0:
                if a == 0.0 or a != a:
                    return math.nan
                return math.copysign(math.inf, a) * math.copysign(1.0, b)
            return a / b
        if ta is UInt:
            if b == 0:
                return error("division_by_zero")
            return UInt(a // b)
    return no_overload("_/_", a, b)


def modulo(a: Value, b: Value) -> Value:
    ta = type(a)
    if ta is type(b):
        if ta is int:
            if b == 0:
                return error("modulus_by_zero")
            return a - b * _truncated_quotient(a, b)
        if ta is UInt:
            if b == 0:
                return error("modulus_by_zero")
            return UInt(a % b)
    return no_overload("_%_", a, b)


def negate(a: Value) -> Value:
    ta = type(a)
    if ta is int:
        return _int_result(-a)
    if ta is float:
        return -a
    return no_overload("-_", a)


def logical_not(a: Value) -> Value:
    if type(a) is bool:
        return not a
    return no_overload("!_", a)


# ----------------------------------------------------------------------------- ordering


_ORDERED = frozenset({str, bytes, bool})


def _compare(function: str, a: Value, b: Value) -> Any:
    """-1, 0 or 1, or the no-overload error.  Numbers compare across int, uint and double (an
    integer against a double as a double, as cel-go does); a NaN is neither less, equal nor
    greater: callers see 2."""
    ta = type(a)
    tb = type(b)
    if ta in _NUMBERS and tb in _NUMBERS:
        if ta is not tb and (ta is float or tb is float):
            a = float(a)
            b = float(b)
        if a != a or b != b:
            return 2
        return -1 if a < b else (1 if a > b else 0)
    if ta is tb:
        if ta in _ORDERED:
            return -1 if a < b else (1 if a > b else 0)
        if ta is Timestamp or ta is Duration:
            return -1 if a.nanos < b.nanos else (1 if a.nanos > b.nanos else 0)
    if ta is CelError:
        return a
    if tb is CelError:
        return b
    return no_overload(function, a, b)


def less(a: Value, b: Value) -> Value:
    order = _compare("_<_", a, b)
    return order if type(order) is CelError else order == -1


def less_equals(a: Value, b: Value) -> Value:
    order = _compare("_<=_", a, b)
    return order if type(order) is CelError else order in (-1, 0)


def greater(a: Value, b: Value) -> Value:
    order = _compare("_>_", a, b)
    return order if type(order) is CelError else order == 1


def greater_equals(a: Value, b: Value) -> Value:
    order = _compare("_>=_", a, b)
    return order if type(order) is CelError else order in (0, 1)


# ----------------------------------------------------------------------------- strings




@lru_cache(maxsize=256)
def _regex(pattern: str) -> Any:
    options = re2.Options()
    options.log_errors = False
    return re2.compile(pattern, options=options)


def matches(target: Value, pattern: Value) -> Value:
    """RE2 search (unanchored, as in CEL) of ``pattern`` in ``target``."""
    if type(target) is not str or type(pattern) is not str:
        return no_overload("matches", target, pattern)
    try:
        compiled = _regex(pattern)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else ""
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        return error("regex", text=_quote(pattern), detail=detail)
    return compiled.search(target) is not None


def _quote(text: str) -> str:
    from .errors import show

    return show(text)


# ----------------------------------------------------------------------------- conversions


_INT_TEXT = _re.compile(r"[+-]?[0-9]+\Z")


def _text_int(text: str) -> int | None:
    """The value of ``[+-]?[0-9]+``, or None past 20 significant digits (out of any 64-bit
    range): the digits are never converted whole."""
    sign = text[0] if text[0] in "+-" else ""
    significant = text[len(sign):].lstrip("0")
    if len(significant) > 20:
        return None
    value = int(significant or "0")
    return -value if sign == "-" else value


def to_int(a: Value) -> Value:
    kind = type(a)
    if kind is int:
        return a
    if kind is UInt:
        return int(a) if a <= INT64_MAX else error("int_range", value=int(a))
    if kind is float:
        if a != a or not -9223372036854775808.0 < a < 9223372036854775808.0:
            return error("int_range", value=format_value(a))
        return int(a)
    if kind is str:
        if _INT_TEXT.match(a):
            value = _text_int(a)
            if value is None:
                return error("int_range", value=a)
            return _int_result(value)
        return error("conversion", value=_quote(a), type="int")
    if kind is Timestamp:
        return a.nanos // NANOS
    return no_overload("int", a)


def to_uint(a: Value) -> Value:
    kind = type(a)
    if kind is UInt:
        return a
    if kind is int:
        return UInt(a) if a >= 0 else error("uint_range", value=a)
    if kind is float:
        if a != a or not -1.0 < a < 18446744073709551616.0:
            return error("uint_range", value=format_value(a))
        return UInt(int(a))
    if kind is str:
        if _INT_TEXT.match(a) and not a.startswith("-"):
            value = _text_int(a)
            if value is None:
                return error("uint_range", value=a)
            return UInt(value) if value <= UINT64_MAX else error("uint_range", value=value)
        return error("conversion", value=_quote(a), type="uint")
    return no_overload("uint", a)


_DOUBLE_TEXT = _re.compile(
    r"[+-]?(?:[0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)\Z",
    _re.IGNORECASE,
)


def to_double(a: Value) -> Value:
    kind = type(a)
    if kind is float:
        return a
    if kind is int or kind is UInt:
        return float(a)
    if kind is str:
        if _DOUBLE_TEXT.match(a):
            return float(a)
        return error("conversion", value=_quote(a), type="double")
    return no_overload("double", a)


def to_string(a: Value) -> Value:
    kind = type(a)
    if kind is str:
        return a
    if kind is int or kind is UInt:
        return str(int(a))
    if kind is float:
        return format_double(a)
    if kind is bool:
        return "true" if a else "false"
    if kind is bytes:
        try:
            return a.decode("utf-8")
        except UnicodeDecodeError:
            return error("invalid_utf8")
    if kind is Timestamp:
        return format_timestamp(a)
    if kind is Duration:
        return format_duration(a)
    return no_overload("string", a)


def to_bytes(a: Value) -> Value:
    if type(a) is bytes:
        return a
    if type(a) is str:
        return a.encode("utf-8", "surrogatepass")
    return no_overload("bytes", a)


_BOOL_TEXT = {
    "1": True, "t": True, "true": True, "TRUE": True, "True": True,
    "0": False, "f": False, "false": False, "FALSE": False, "False": False,
}


def to_bool(a: Value) -> Value:
    if type(a) is bool:
        return a
    if type(a) is str:
        found = _BOOL_TEXT.get(a)
        if found is None:
            return error("conversion", value=_quote(a), type="bool")
        return found
    return no_overload("bool", a)


def dyn(a: Value) -> Value:
    return a


def format_double(value: float) -> str:
    """A double as Go's ``strconv.FormatFloat(f, 'g', -1, 64)`` writes it (CEL's ``string()``).

    >>> format_double(123.456), format_double(-4.5e-3), format_double(1e6), format_double(0.0)
    ('123.456', '-0.0045', '1e+06', '0')
    >>> format_double(123456.0), format_double(1.5e-5), format_double(float("-inf"))
    ('123456', '1.5e-05', '-Inf')
    """
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    digits_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()[1:]
    digits = "".join(map(str, digits_tuple))
    assert isinstance(exponent, int)
    point = len(digits) + exponent  # the decimal point's place after the first digit
    exp = point - 1
    if exp < -4 or exp >= _G_EXPONENT_LIMIT:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return sign + "0." + "0" * (-point) + digits
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return sign + digits[:point] + "." + digits[point:]


#: Go's %g with the shortest precision writes an exponent from 10**6 up (and below 10**-4).
_G_EXPONENT_LIMIT = 6


def format_value(value: Value) -> str:
    """A CEL value as CEL source, for messages."""
    kind = type(value)
    if kind is str:
        return _quote(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is UInt:
        return f"{int(value)}u"
    if kind is float:
        text = format_double(value)
        return text if any(c in text for c in ".eIN") else text + ".0"
    if value is None:
        return "null"
    if kind is bytes:
        return "b" + _quote(value.decode("latin-1"))
    if kind is Timestamp:
        return f"timestamp({_quote(format_timestamp(value))})"
    if kind is Duration:
        return f"duration({_quote(format_duration(value))})"
    if kind is CelType:
        return str(value.name)
    return repr(value)


# ----------------------------------------------------------------------------- time


_FRACTION = _re.compile(r"\.([0-9]+)")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_timestamp(text: str) -> Value:
    """RFC 3339 text as a :class:`Timestamp`: read by our RFC 3339 parser
    (:func:`inngest_core.parse_datetime`), whose result holds microseconds, with the
    fraction's digits down to the nanosecond taken from the text (a longer fraction is cut).

    >>> parse_timestamp("2009-02-13T23:31:30.123456789+01:00")
    Timestamp('2009-02-13T22:31:30.123456789Z')
    """
    try:
        moment = parse_datetime(text, "RFC3339")
    except DatetimeError:
        if text.startswith("0000-"):  # well formed, but year 0 is outside CEL's range
            return error("timestamp_range")
        return error("timestamp_syntax", text=_quote(text))
    fraction = _FRACTION.search(text)
    nanos = int((fraction.group(1) + "00000000")[:9]) if fraction else 0
    since = moment - _EPOCH
    return _timestamp((since.days * 86400 + since.seconds) * NANOS + nanos)


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def format_timestamp(value: Timestamp) -> str:
    """RFC 3339 in UTC with the fraction's trailing zeros cut (Go's RFC3339Nano)."""
    seconds, nanos = divmod(value.nanos, NANOS)
    days, rest = divmod(seconds, 86400)
    day = date.fromordinal(days + _EPOCH_ORDINAL)
    hour, rest = divmod(rest, 3600)
    minute, second = divmod(rest, 60)
    fraction = f".{nanos:09d}".rstrip("0") if nanos else ""
    return (
        f"{day.year:04d}-{day.month:02d}-{day.day:02d}T"
        f"{hour:02d}:{minute:02d}:{second:02d}{fraction}Z"
    )


_GO_DURATION = _re.compile(
    r"[+-]?(?:0|(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)\Z"
)


def parse_duration(text: str) -> Value:
    """A Go duration (``"1h30m"``, ``"-1.5s"``, ``"100ns"``) as a :class:`Duration`; read by
    :func:`inngest_core.duration.parse_duration_ns` once the text is known to be Go syntax."""
    if not _GO_DURATION.match(text):
        return error("duration_syntax", text=_quote(text))
    try:
        return Duration(parse_duration_ns(text))
    except DurationError:
        return error("duration_range")


def format_duration(value: Duration) -> str:
    """Seconds with the fraction's trailing zeros cut, then ``s`` (protobuf's JSON form).

    >>> format_duration(Duration(1_500_000_000)), format_duration(Duration(-1))
    ('1.5s', '-0.000000001s')
    """
    nanos = value.nanos
    sign = "-" if nanos < 0 else ""
    seconds, rest = divmod(abs(nanos), NANOS)
    fraction = f".{rest:09d}".rstrip("0") if rest else ""
    return f"{sign}{seconds}{fraction}s"


def to_timestamp(a: Value) -> Value:
    kind = type(a)
    if kind is Timestamp:
        return a
    if kind is str:
        return parse_timestamp(a)
    if kind is int:
        return _timestamp(a * NANOS)
    return no_overload("timestamp", a)


def to_duration(a: Value) -> Value:
    if type(a) is Duration:
        return a
    if type(a) is str:
        return parse_duration(a)
    return no_overload("duration", a)


_FIXED_ZONE = _re.compile(r"([+-]?)([0-9]{2}):([0-9]{2})\Z")


@lru_cache(maxsize=128)
def _zone(name: str) -> tzinfo | None:
    fixed = _FIXED_ZONE.match(name)
    if fixed:
        minutes = int(fixed.group(2)) * 60 + int(fixed.group(3))
        if fixed.group(1) == "-":
            minutes = -minutes
        return timezone(timedelta(minutes=minutes))
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        return None


def _local_time(value: Timestamp, zone: str | None) -> datetime | CelError:
    seconds, _ = divmod(value.nanos, NANOS)
    utc = _EPOCH + timedelta(seconds=seconds)
    if zone is None:
        return utc
    found = _zone(zone)
    if found is None:
        return error("time_zone", text=_quote(zone))
    try:
        return utc.astimezone(found)
    except OverflowError:
        return error("timestamp_range")


def _timestamp_getter(
    part: Callable[[datetime, Timestamp], int]
) -> tuple[Callable[..., Value], Callable[..., Value]]:
    """The overloads ``(timestamp)`` and ``(timestamp, string)`` of a getter."""
    def getter(target: Timestamp) -> Value:
        local = _local_time(target, None)
        assert isinstance(local, datetime)
        return part(local, target)

    def zoned_getter(target: Timestamp, zone: str) -> Value:
        local = _local_time(target, zone)
        if type(local) is CelError:
            return local
        assert isinstance(local, datetime)
        return part(local, target)

    return getter, zoned_getter


def _duration_getter(unit: int) -> Callable[..., Value]:
    def getter(target: Duration) -> Value:
        return _truncated_quotient(target.nanos, unit)

    return getter


def _duration_milliseconds(target: Duration) -> Value:
    millis = _truncated_quotient(target.nanos, 1_000_000)
    return millis - 1000 * _truncated_quotient(millis, 1000)


_TIMESTAMP_PARTS: dict[str, Callable[[datetime, Timestamp], int]] = {
    "getFullYear": lambda d, t: d.year,
    "getMonth": lambda d, t: d.month - 1,
    "getDate": lambda d, t: d.day,
    "getDayOfMonth": lambda d, t: d.day - 1,
    "getDayOfYear": lambda d, t: d.timetuple().tm_yday - 1,
    "getDayOfWeek": lambda d, t: (d.weekday() + 1) % 7,
    "getHours": lambda d, t: d.hour,
    "getMinutes": lambda d, t: d.minute,
    "getSeconds": lambda d, t: d.second,
    "getMilliseconds": lambda d, t: (t.nanos % NANOS) // 1_000_000,
}

_DURATION_UNITS = {
    "getHours": 3600 * NANOS,
    "getMinutes": 60 * NANOS,
    "getSeconds": NANOS,
}


# ----------------------------------------------------------------------------- the table

Function = Callable[..., Value]
#: A function's overloads: argument types (a method's receiver first) -> the implementation
#: for exactly those types.  A kind that is an abstract class (``Mapping``) matches by
#: ``isinstance`` once the exact types have missed (``bool`` and ``UInt`` are never taken for
#: ``int``).
Overloads = dict[tuple[type, ...], Function]


#: ``size`` of a string, bytes, list or map (any Mapping, the abstract kind, after dict).
_SIZES: Overloads = {
    (str,): len, (bytes,): len, (list,): len, (tuple,): len, (dict,): len, (Mapping,): len,
}


def _dispatch(name: str, overloads: Overloads) -> Function:
    """The table's callable for declared ``overloads``: the implementation the argument types
    pick, or no matching overload for ``name``."""
    abstract = [(kinds, fn) for kinds, fn in overloads.items()
                if any(isinstance(kind, ABCMeta) for kind in kinds)]
    arity = {len(kinds) for kinds in overloads}
    if arity == {1}:
        single = {kinds[0]: fn for kinds, fn in overloads.items()}

        def one(a: Value) -> Value:
            fn = single.get(type(a))
            if fn is not None:
                return fn(a)
            for kinds, fn in abstract:
                if isinstance(a, kinds[0]):
                    return fn(a)
            return no_overload(name, a)

        return one

    def many(*args: Value) -> Value:
        fn = overloads.get(tuple(map(type, args)))
        if fn is not None:
            return fn(*args)
        for kinds, fn in abstract:
            if len(kinds) == len(args) and all(map(isinstance, args, kinds)):
                return fn(*args)
        return no_overload(name, *args)

    return many


#: The functions declared by their overloads, ``(name, arity, receiver)`` as in
#: :data:`FUNCTIONS`: the table's callable is made from the declaration (so are its "no
#: matching overload" errors), and both twins' fast paths read the same entries (the compiled
#: twin maps an implementation it knows, ``len`` or ``str.startswith``, to native code).
#: Adding a function of this kind is one entry and its implementation.
OVERLOADS: dict[tuple[str, int, bool], Overloads] = {
    ("size", 1, False): _SIZES,
    ("size", 0, True): _SIZES,
    ("contains", 1, True): {(str, str): str.__contains__},
    ("startsWith", 1, True): {(str, str): str.startswith},
    ("endsWith", 1, True): {(str, str): str.endswith},
}

for _name, _part in _TIMESTAMP_PARTS.items():
    _plain, _zoned = _timestamp_getter(_part)
    _getter: Overloads = {(Timestamp,): _plain}
    if _name in _DURATION_UNITS:
        _getter[(Duration,)] = _duration_getter(_DURATION_UNITS[_name])
    elif _name == "getMilliseconds":
        _getter[(Duration,)] = _duration_milliseconds
    OVERLOADS[(_name, 0, True)] = _getter
    OVERLOADS[(_name, 1, True)] = {(Timestamp, str): _zoned}

#: The string predicates ``s.f(x)`` (one overload, two strings): a str receiver and a constant
#: str argument answer by the method in both twins' fast paths, anything else by the table.
STRING_PREDICATES: dict[str, Callable[[str, str], bool]] = {
    key[0]: overloads[(str, str)] for key, overloads in OVERLOADS.items()
    if key[1:] == (1, True) and list(overloads) == [(str, str)]
}

FUNCTIONS: dict[tuple[str, int, bool], Function] = {
    ("_==_", 2, False): equals,
    ("_!=_", 2, False): not_equals,
    ("_<_", 2, False): less,
    ("_<=_", 2, False): less_equals,
    ("_>_", 2, False): greater,
    ("_>=_", 2, False): greater_equals,
    ("_+_", 2, False): add,
    ("_-_", 2, False): subtract,
    ("_*_", 2, False): multiply,
    ("_/_", 2, False): divide,
    ("_%_", 2, False): modulo,
    ("-_", 1, False): negate,
    ("!_", 1, False): logical_not,
    ("_[_]", 2, False): index,
    ("@in", 2, False): contains,
    ("matches", 1, True): matches,
    ("matches", 2, False): matches,
    ("int", 1, False): to_int,
    ("uint", 1, False): to_uint,
    ("double", 1, False): to_double,
    ("string", 1, False): to_string,
    ("bytes", 1, False): to_bytes,
    ("bool", 1, False): to_bool,
    ("dyn", 1, False): dyn,
    ("type", 1, False): type_of,
    ("timestamp", 1, False): to_timestamp,
    ("duration", 1, False): to_duration,
    **{key: _dispatch(key[0], overloads) for key, overloads in OVERLOADS.items()},
}


def call(name: str, args: tuple[Value, ...], receiver: bool = False) -> Value:
    """Call ``name`` from :data:`FUNCTIONS` (``args`` includes the receiver, first, for a
    method): the first error argument is the result; an unknown function is an error value.

    >>> call("size", ("abc",), receiver=True), call("nope", (1,))
    (3, CelError('unbound function: nope'))
    """
    for arg in args:
        if type(arg) is CelError:
            return arg
    function = FUNCTIONS.get((name, len(args) - (1 if receiver else 0), receiver))
    if function is None:
        if any(key[0] == name for key in FUNCTIONS):
            return no_overload(name, *args)
        return error("unbound_function", function=name)
    return function(*args)


__all__ += ["Value", "Function", "no_overload", "format_value", "format_double",
            "format_timestamp", "format_duration", "parse_timestamp", "parse_duration"]


_room_lock = threading.Lock()
_room_users = 0
_room_saved = 0


class recursion_room:
    """Compiling and evaluating recurse once per level of the tree, in Python frames only
    (Python 3.11+ runs those without the C stack; no closure reaches its children through C
    code such as a generator): past the default depth, raise the interpreter's recursion limit
    for as long as some thread needs it, then put it back."""

    __slots__ = ("needed",)

    def __init__(self, max_depth: int) -> None:
        self.needed = 4 * min(max_depth, MAX_NESTING) + 1000 if max_depth > 250 else 0

    def __enter__(self) -> None:
        global _room_users, _room_saved
        if not self.needed:
            return
        with _room_lock:
            if _room_users == 0:
                _room_saved = sys.getrecursionlimit()
            _room_users += 1
            if sys.getrecursionlimit() < self.needed:
                sys.setrecursionlimit(self.needed)

    def __exit__(self, *exc: object) -> None:
        global _room_users
        if not self.needed:
            return
        with _room_lock:
            _room_users -= 1
            if _room_users == 0:
                sys.setrecursionlimit(_room_saved)
