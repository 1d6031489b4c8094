"""The ``"inngest"`` expression dialect: CEL as Inngest's Go server evaluates it.

Plain Python shared by both twins: the live twin's parser (``parse``) gives the tree, and this
module's interpreter evaluates it with the dialect's rules.  Every rule cites the file of
``inngest/inngest`` (commit ``253303cd``, ``pkg/expressions/``; cel-go v0.27.0 and
``inngest/expr`` as vendored there) it reproduces; ``tests/inngest_dialect/rules.md`` is the
inventory these rule numbers (R1...R17) refer to.  No Go code text is copied (the server is
SSPL): the behaviour is restated from the reading and from the recorded answers.

Outline of one evaluation (``expressions.go: NewExpressionEvaluator``, ``Evaluate``):

1. literals are lifted out of the source into ``vars`` (R2, ``vendor/.../inngest/expr/lift.go``)
   and the lifted text is parsed, never type-checked;
2. every select path the tree reads as an argument is registered (R3, ``attrs.go``); at
   evaluation a registered path missing from the data reads as *unknown*;
3. every call but ``&&``, ``||`` and ``?:`` goes through the unknown decorator (R4-R9,
   ``unknown.go: runtimeUnknownCall.Eval``); ``&&``/``||``/``?:`` are truthy (R11, R12);
4. the result is mapped (``cel.go: eval``): unknown -> ``false``, an error ->
   ``invalid type comparison: ...: expression errored``, no value ->
   ``expression did not return true or false``.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import json
import re
import time
from collections.abc import Mapping
from datetime import timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable

from . import _compat
from . import _expr_lib as lib
from ._expr_ast import Node
from ._expr_lib import CelError, CelType, Duration, Timestamp, UInt
from .errors import EvaluationError, ExpressionLimitError, ExpressionSyntaxError

__all__ = ["DIALECTS", "lift", "DialectProgram", "compile_dialect", "validate", "interpolate",
           "POLICIES", "ValidationError"]

#: The dialects the public API knows.
DIALECTS = ("cel", "inngest")

# ============================================================================ values
#
# Beyond ``_expr_lib``'s values the dialect has two more: *unknown* (a registered path the
# data lacks, cel-go's ``types.Unknown``) and *nil* (no value at all: what ``date('bad')``
# returns and what a recovered panic in an operator gives, ``cel.go: eval`` -> ErrNoResult).


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


class _Nil:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NIL"


UNKNOWN: Any = _Unknown()
NIL: Any = _Nil()


def _err(message: str) -> CelError:
    return CelError(message)


_NO_OVERLOAD = "no such overload"
_GO_TYPE = {  # cel-go's Go type names, for "got 'types.X', expected iterable type"
    str: "types.String", float: "types.Double", int: "types.Int", UInt: "types.Uint",
    bool: "types.Bool", type(None): "types.Null", bytes: "types.Bytes",
    Timestamp: "types.Timestamp", Duration: "types.Duration", CelType: "types.TypeValue",
}

# Which left operands make cel-go say "no such overload: <fn>" rather than a bare "no such
# overload" (the first when no overload of the function is declared for the left operand's
# type at all).  Observed with the server (behaviour_matrix.json); a cel-go internal.
_NULL = type(None)
_ARITH_SUFFIX = (_NULL, bool, dict, list, tuple)
_TRAITS: dict[str, tuple[type, ...]] = {
    "_+_": (_NULL, bool, dict),
    "_-_": _ARITH_SUFFIX, "_*_": _ARITH_SUFFIX, "_/_": _ARITH_SUFFIX,
    "_%_": _ARITH_SUFFIX + (float,),
    "_<_": (_NULL, dict, list, tuple), "_<=_": (_NULL, dict, list, tuple),
    "_>_": (_NULL, dict, list, tuple), "_>=_": (_NULL, dict, list, tuple),
    "-_": (_NULL, dict, list, tuple),
    "size": (_NULL, bool, int, UInt, float, Timestamp, Duration),
    "matches": (_NULL, bool, int, UInt, float, dict, list, tuple, bytes, Timestamp, Duration),
}
_CONVERSIONS = {"int": "int", "uint": "uint", "double": "double", "string": "string",
                "bool": "bool", "bytes": "bytes", "timestamp": "google.protobuf.Timestamp",
                "duration": "google.protobuf.Duration"}
_CONVERSION_ERROR = re.compile(r"cannot convert (.*) to (\w+)\Z")
_INDEX_RANGE = re.compile(r"index out of range: (-?\d+)")


def _kind(value: Any) -> Any:
    """The runtime type the decorator compares (``unknown.go: argColl``); ``None`` for nil."""
    if value is NIL:
        return None
    kind = type(value)
    if kind is tuple:
        return list
    if kind is not dict and kind not in _GO_TYPE and kind is not list and kind not in (
            CelError, _Unknown) and isinstance(value, Mapping):
        return dict
    return kind


def _type_label(value: Any) -> str:
    name = lib.type_name(value)
    return "null_type" if name == "null_type" else name


def _go_error(function: str, args: tuple[Any, ...], problem: CelError) -> CelError:
    """``_expr_lib``'s error for a standard call, in cel-go's words (the text Inngest's
    server reports; R9/R10 and rules.md §13)."""
    message = problem.message
    if message.startswith("no matching overload") or message.startswith("unbound function"):
        if function == "_[_]":
            if isinstance(args[0], (list, tuple)):
                return _err(f"unsupported index type '{_type_label(args[1])}' in list")
            return _err(f"no such key: {go_value(args[1])}")
        if function == "duration" and type(args[0]) is int:
            return _err("type conversion error from 'int' to 'google.protobuf.Duration'")
        if function in _CONVERSIONS and len(args) == 1:
            return _err(f"no such overload: {function}({_type_label(args[0])})")
        suffixed = _TRAITS.get(function)
        if suffixed is not None and args and (
                type(args[0]) in suffixed or (dict in suffixed and isinstance(args[0], Mapping))):
            return _err(f"{_NO_OVERLOAD}: {function}")
        return _err(_NO_OVERLOAD)
    if message.startswith("cannot convert"):
        target = _CONVERSIONS.get(function, function)
        source = _type_label(args[0]) if args else "?"
        return _err(f"type conversion error from '{source}' to '{target}'")
    if message.startswith("invalid timestamp") or message.startswith("invalid duration"):
        return _err(f"type conversion error from 'string' to '{_CONVERSIONS[function]}'")
    found = _INDEX_RANGE.match(message)
    if found:
        return _err(f"index out of bounds: {found.group(1)}")
    if message in ("int overflow", "uint overflow"):
        return _err("integer overflow")
    return problem


# ============================================================================ R2: lifting

_IDENT_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_NUMBER = re.compile(r"[0-9]*(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_INT64_MAX = 2**63 - 1


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote``: ``"``, ``\\`` and the named controls escaped, other runes
    Go's ``unicode.IsPrint`` rejects as ``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN`` (the 27th
    lifted literal on, R2; cel-go's unparser and the tree parser's predicates, R17).

    >>> print(go_quote('a"b\\tc\\x01\\u200b é'))
    "a\\"b\\tc\\x01\\u200b é"
    """
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch == " " or ch.isprintable():
            out.append(ch)
        elif ch in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_NAMED_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                  "\t": "\\t", "\v": "\\v"}


def _format_f(value: float) -> str:
    """Go's ``FormatFloat(f, 'f', -1, 64)``."""
    text = format(Decimal(repr(value)), "f")
    return text


@lru_cache(maxsize=4096)
def lift(source: str) -> tuple[str, dict[str, Any] | None]:
    """Lift string and decimal number literals into ``vars`` (R2,
    ``vendor/github.com/inngest/expr/lift.go: liftLiterals``): strings keep their raw text
    (no unescaping), ints become int64, floats float64; numbers inside ``[...]``, ``0x..``
    and ``..u`` literals stay.  A source containing ``vars.`` is left alone (``None``).

    >>> lift('event.data.id == "a\\\\"b" && event.data.n > 5')
    ('event.data.id == vars.a && event.data.n > vars.b', {'a': 'a\\\\"b', 'b': 5})
    """
    if "vars." in source:
        return source, None
    out: list[str] = []
    values: dict[str, Any] = {}
    depth = 0
    i = 0
    n = len(source)

    def emit(value: Any, text: str) -> None:
        if len(values) < len(_LETTERS):
            name = _LETTERS[len(values)]
            values[name] = value
            out.append("vars." + name)
        else:
            out.append(text)

    while i < n:
        ch = source[i]
        if ch == "/" and source.startswith("//", i):
            end = source.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch == '"' or ch == "'":
            j = i + 1
            while j < n and source[j] != ch:
                j += 2 if source[j] == "\\" else 1
            raw = source[i + 1:min(j, n)]
            emit(raw, go_quote(raw))
            i = j + 1
            continue
        previous = source[i - 1] if i else ""
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        starts_number = ch.isdigit() or (
            ch == "." and i + 1 < n and source[i + 1].isdigit())
        if starts_number and ch.isascii() and previous not in _IDENT_CHARS and (
                ch != "." or previous not in _IDENT_CHARS):
            if depth > 0:
                match = _NUMBER.match(source, i)
                end = match.end() if match and match.end() > i else i + 1
                out.append(source[i:end])
                i = end
                continue
            if ch == "0" and i + 1 < n and source[i + 1].isalpha() and source[i + 1] not in "eE":
                end = i + 1
                while end < n and source[end] in _IDENT_CHARS:
                    end += 1
                out.append(source[i:end])
                i = end
                continue
            match = _NUMBER.match(source, i)
            assert match is not None
            end = match.end()
            text = source[i:end]
            if end < n and source[end] in "uU":
                out.append(source[i:end + 1])
                i = end + 1
                continue
            if "." in text or "e" in text or "E" in text:
                emit(float(text), _format_f(float(text)))
            else:
                number = int(text)
                if number > _INT64_MAX:
                    out.append(text)
                else:
                    emit(number, text)
            i = end
            continue
        out.append(ch)
        i += 1
    return "".join(out).strip(), values if values else None


# ============================================================================ R3: paths


def _chain(node: Node) -> tuple[str, tuple[str, ...]] | None:
    fields: list[str] = []
    while node[0] == "select":
        fields.append(node[2])
        node = node[1]
    if node[0] != "ident":
        return None
    fields.reverse()
    return node[1], tuple(fields)


def registered_paths(ast: Node) -> frozenset[tuple[str, ...]]:
    """The select paths ``attrs.go: parseUsedAttributes`` registers: call arguments (not
    receiver targets), comprehension ranges (not bodies), ``has`` operands; never list or
    map literal elements.  A path needs at least one field (``attrs.go: add``)."""
    found: set[tuple[str, ...]] = set()
    stack = [ast]
    while stack:
        node = stack.pop()
        kind = node[0]
        if kind == "select" or kind == "has":
            chain = _chain(("select", node[1], node[2]))
            if chain is not None:
                found.add((chain[0],) + chain[1])
            else:
                stack.append(node[1])
        elif kind == "call":
            stack.extend(node[2])
        elif kind == "method":
            stack.extend(node[3])
        elif kind == "comprehension":
            stack.append(node[2])
    return frozenset(found)


def _start(activation: Mapping[str, Any], path: tuple[str, ...]) -> int:
    """How many leading names of ``path`` the activation binds as one variable: 1 for
    ``event``; more when a key itself has dots (``"event.data"``), the longest winning, as
    cel-go (and our CEL twins) resolve qualified names; 0 when none is bound."""
    for end in range(len(path), 1, -1):
        if ".".join(path[:end]) in activation:
            return end
    return 1 if path[0] in activation else 0


def _walk(activation: Mapping[str, Any], path: tuple[str, ...], dotted: bool = False) -> bool:
    """Does ``data.go: Data.Get`` find ``path``?  Only string-keyed maps are walked."""
    start = _start(activation, path) if dotted else (1 if path[0] in activation else 0)
    if not start:
        return False
    value = activation[".".join(path[:start])]
    for field in path[start:]:
        if not isinstance(value, Mapping) or field not in value:
            return False
        value = value[field]
    return True


# ============================================================================ Go %v (R9)


def _go_time(value: Timestamp) -> str:
    seconds, nanos = divmod(value.nanos, lib.NANOS)
    moment = lib._EPOCH + timedelta(seconds=seconds)
    fraction = f".{nanos:09d}".rstrip("0") if nanos else ""
    return str(moment.strftime("%Y-%m-%d %H:%M:%S")) + fraction + " +0000 UTC"


def go_duration(nanos: int) -> str:
    """Go's ``time.Duration.String``."""
    if nanos == 0:
        return "0s"
    minus = "-" if nanos < 0 else ""
    u = abs(nanos)
    if u < lib.NANOS:
        for unit, size in (("ns", 1), ("µs", 1000), ("ms", 1_000_000)):
            if u < size * 1000:
                whole, rest = divmod(u, size)
                frac = f".{rest:0{len(str(size)) - 1}d}".rstrip("0") if rest and size > 1 else ""
                return f"{minus}{whole}{frac.rstrip('.')}{unit}"
    seconds, rest = divmod(u, lib.NANOS)
    frac = f".{rest:09d}".rstrip("0") if rest else ""
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    text = f"{seconds}{frac}s"
    if hours:
        return f"{minus}{hours}h{minutes}m{text}"
    if minutes:
        return f"{minus}{minutes}m{text}"
    return minus + text


def go_value(value: Any, top: bool = True) -> str:
    """Go's ``%v`` of a value's Go form (R9).  Lists print their elements as data (a CEL-built
    list prints as cel-go's ``String()`` in Go: not distinguished here, see known
    differences)."""
    kind = type(value)
    if kind is str:
        return str(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is UInt:
        return str(int(value))
    if kind is float:
        # Go's %v of a float64: strconv.FormatFloat(f, 'g', -1, 64), as CEL's string() writes it.
        return lib.format_double(value)
    if value is None:
        return "NULL_VALUE" if top else "<nil>"
    if kind is CelError:
        return str(value.message)
    if kind is Timestamp:
        return _go_time(value)
    if kind is Duration:
        return go_duration(value.nanos)
    if kind is CelType:
        return str(value.name)
    if kind is bytes:
        return "[" + " ".join(str(b) for b in value) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(go_value(lib.to_cel(v), False) for v in value) + "]"
    if isinstance(value, Mapping):
        items = sorted((go_value(lib.to_cel(k), False), go_value(lib.to_cel(v), False))
                       for k, v in value.items())
        return "map[" + " ".join(f"{k}:{v}" for k, v in items) + "]"
    return str(value)


# ============================================================================ truthiness


def truthy(value: Any) -> bool:
    """``unknown.go: isTruthy``: nil, unknown, error, null, false, "", 0, 0u, 0.0 are falsy;
    everything else -- ``[]`` and ``{}`` included -- is truthy (R11)."""
    kind = type(value)
    if kind is bool:
        return bool(value)
    if value is NIL or value is UNKNOWN or value is None or kind is CelError:
        return False
    if kind is str:
        return bool(value != "")
    if kind is int or kind is UInt or kind is float:
        return bool(value != 0)
    return True


def iterable(value: Any) -> Any:
    """A macro's range as cel-go iterates it: a list's elements, a map's keys (converted
    up front), else the error cel-go gives."""
    if isinstance(value, (list, tuple)):
        return [lib.to_cel(v) for v in value]
    if isinstance(value, Mapping):
        return [lib.to_cel(k) for k in value]
    return _err(f"got '{_GO_TYPE.get(type(value), 'types.Unknown')}', expected iterable type")


# ============================================================================ §7: functions


def _go_upper(text: str) -> str:
    # Go maps rune by rune (``strings.ToUpper``): no expansion such as ß -> SS.
    return "".join(c.upper() if len(c.upper()) == 1 else c for c in text)


def _go_lower(text: str) -> str:
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


_B64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def _b64decode(text: str) -> str:
    """``base64.StdEncoding.DecodeString`` keeping what was decoded before an error
    (``exprenv/overloads.go``: the error is ignored, the bytes are not)."""
    data = text.encode("utf-8", "surrogatepass").replace(b"\r", b"").replace(b"\n", b"")
    out = bytearray()
    for start in range(0, len(data), 4):
        quantum = data[start:start + 4]
        if len(quantum) < 4:
            break
        body = quantum.rstrip(b"=")
        pad = len(quantum) - len(body)
        if any(c not in _B64 for c in body) or pad > 2 or len(body) < 2:
            # Go decodes the valid characters of a broken quantum too
            good = bytearray()
            for c in body:
                if c not in _B64:
                    break
                good.append(c)
            if len(good) >= 2:
                chunk = bytes(good[: len(good)])
                try:
                    out += base64.b64decode(chunk + b"=" * (-len(chunk) % 4))[: (len(good) * 6) // 8]
                except (binascii.Error, ValueError):
                    pass
            break
        try:
            out += base64.b64decode(quantum)
        except (binascii.Error, ValueError):
            break
        if pad:
            break
    return out.decode("utf-8", "replace")


def _json_parse(text: str) -> Any:
    def no_constant(name: str) -> Any:
        raise ValueError(name)

    try:
        value = json.loads(text, parse_int=float, parse_constant=no_constant)
    except (ValueError, RecursionError):
        return {}
    return value if type(value) is dict else {}


_DATE_FORMATS = ("RFC3339", "ISO8601", "RFC1123", "RFC1123Z", "RFC822", "RFC822Z", "RFC850",
                 "RUBY", "UNIX", "ANSIC", "ISODATE")


def _date(value: Any) -> Any:
    """``date(x)``: ``pkg/dateutil/dateutil.go: ParseString`` for strings, ``ParseInt`` for
    ints; anything else, or a failure, is nil (R7 §7)."""
    kind = type(value)
    if kind is str:
        from .datetimes import parse_datetime

        for name in _DATE_FORMATS:
            try:
                moment = parse_datetime(value, name)
            except ValueError:
                continue
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            return lib.to_cel(moment)
        return NIL
    if kind is int:
        if value < 946684800:
            return NIL
        if value < 9999999999:
            return Timestamp(value * lib.NANOS)
        if value < 9999999999999:
            return Timestamp(value * 1_000_000)
        return Timestamp(value)
    return NIL


_STR2DURATION = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h|d|w)")
_UNIT_NANOS = {"ns": 1, "us": 1000, "µs": 1000, "μs": 1000, "ms": 1_000_000, "s": lib.NANOS,
               "m": 60 * lib.NANOS, "h": 3600 * lib.NANOS, "d": 86400 * lib.NANOS,
               "w": 7 * 86400 * lib.NANOS}


def _str2duration(text: str) -> int | None:
    """``github.com/xhit/go-str2duration/v2.ParseDuration``: Go units plus d and w."""
    rest = text
    sign = 1
    if rest[:1] in "+-" and rest:
        sign = -1 if rest[0] == "-" else 1
        rest = rest[1:]
    if rest == "0":
        return 0
    if not rest:
        return None
    total = Decimal(0)
    pos = 0
    while pos < len(rest):
        match = _STR2DURATION.match(rest, pos)
        if not match or match.group(1) in ("", "."):
            return None
        total += Decimal(match.group(1)) * _UNIT_NANOS[match.group(2)]
        pos = match.end()
    return sign * int(total)


def _now() -> Timestamp:
    return Timestamp(time.time_ns())


def _now_shift(sign: int) -> Any:
    def shift(value: Any) -> Any:
        if type(value) is not str:
            return NIL
        nanos = _str2duration(value)
        if nanos is None:
            return NIL
        return Timestamp(time.time_ns() + sign * nanos)

    return shift


def _string_or(default: Any, function: Any) -> Any:
    def run(value: Any) -> Any:
        return function(value) if type(value) is str else (
            default() if callable(default) else default)

    return run


#: ``exprenv/overloads.go: CELOverloads``: the custom functions, name -> (arity, function).
#: A non-string argument gives the function's empty value, never an error.
CUSTOM_FUNCTIONS: dict[str, tuple[int, Any]] = {
    "lowercase": (1, _string_or("", _go_lower)),
    "uppercase": (1, _string_or("", _go_upper)),
    "b64decode": (1, _string_or("", _b64decode)),
    "json_parse": (1, _string_or(dict, _json_parse)),
    "date": (1, _date),
    "now": (0, _now),
    "now_plus": (1, _now_shift(1)),
    "now_minus": (1, _now_shift(-1)),
}


# ============================================================================ calls


def _standard(function: str, args: tuple[Any, ...], receiver: bool) -> Any:
    """The call as cel-go makes it without the decorator: the first unknown or error
    argument is the result; a nil argument gives nil (cel-go panics, recovered)."""
    for arg in args:
        if arg is UNKNOWN or type(arg) is CelError:
            return arg
    for arg in args:
        if arg is NIL:
            if function == "_==_" or function == "_!=_":
                return function == "_!=_"
            return NIL
    if function == "@not_strictly_false":
        return args[0] if type(args[0]) is bool else True
    custom = CUSTOM_FUNCTIONS.get(function)
    if custom is not None and not receiver:
        if len(args) != custom[0]:
            return _err(_NO_OVERLOAD)
        return custom[1](*args)
    if function == "_+_" and type(args[0]) is float and type(args[1]) is float:
        return args[0] + args[1]
    result = lib.call(function, args, receiver)
    if type(result) is CelError:
        return _go_error(function, args, result)
    return result


_UNKNOWN_OR_ERROR = (_Unknown, CelError)
_ORDERING = frozenset({"_<_", "_<=_", "_>_", "_>=_"})
_ZERO = {int: 0, UInt: UInt(0), float: 0.0, str: ""}


def _fixed(function: str, args: tuple[Any, ...]) -> Any:
    """``unknown.go: handleUnknownCall``: the fixed answer for a call with an unknown or an
    error argument (R4)."""
    if function == "_+_":
        for arg in args:
            if arg is not UNKNOWN:
                return arg
        return False
    if function == "_==_":
        return any(arg is None for arg in args)
    if function == "_!=_":
        return not any(arg is None for arg in args)
    if function in ("_<_", "_<=_"):
        return args[0] is UNKNOWN or type(args[0]) is CelError
    if function in ("_>_", "_>=_"):
        return not (args[0] is UNKNOWN or type(args[0]) is CelError)
    if function == "size":
        return 0
    return False


def _null_ordering(function: str, args: tuple[Any, ...]) -> Any:
    """R7 (``unknown.go: zeroValArgs``, ``exprenv/overloads.go: GetBindings``): the null
    becomes the other operand's zero value, then the left operand compares itself."""
    left, right = args
    if left is None:
        left = _ZERO.get(type(right), None)
    else:
        right = _ZERO.get(type(left), None)
    if not isinstance(left, (int, float, str, bytes, Timestamp, Duration)):
        return NIL  # not a Comparer: the type assertion panics, cel-go recovers -> nil
    if right is None or type(left) is bool and type(right) is not bool:
        return _err(_NO_OVERLOAD)
    return _standard(function, (left, right), False)


def dialect_call(function: str, args: tuple[Any, ...], receiver: bool = False) -> Any:
    """A call through ``unknown.go: runtimeUnknownCall.Eval`` (R4-R9)."""
    kinds: list[Any] = []
    for arg in args:
        kind = _kind(arg)
        if kind is not None and kind not in kinds and len(kinds) < 2:
            kinds.append(kind)
    special = _Unknown in kinds or CelError in kinds
    if len(kinds) == 1 and not special:
        return _standard(function, args, receiver)
    if len(kinds) == 2 and _Unknown not in kinds:
        result = _standard(function, args, receiver)
        if result is not UNKNOWN and type(result) is not CelError:
            return result
        if function == "_+_":  # R9: heterogeneous + is Go's "%v%v"
            return go_value(args[0]) + go_value(args[1])
    if special:
        for arg in args[:2]:
            if type(arg) is CelError and arg.message.startswith("no such attribute"):
                return _standard(function, args, receiver)
        return _fixed(function, args)
    if len(args) == 2 and type(None) in kinds:
        if function == "_==_":
            return False
        if function == "_!=_":
            return True
        if function in _ORDERING:
            return _null_ordering(function, args)
    return _standard(function, args, receiver)


# ============================================================================ programs

_ERRORED = "invalid type comparison: {}: expression errored"
NO_RESULT = "expression did not return true or false"


def result_value(result: Any) -> object:
    """``cel.go: eval``: a dialect value as ``expressions.Evaluate`` returns it -- unknown is
    ``false``; no value and an error raise :class:`~inngest_core.errors.EvaluationError` with
    the server's text."""
    if result is UNKNOWN:
        return False
    if result is NIL:
        raise EvaluationError(NO_RESULT)
    if type(result) is CelError:
        raise EvaluationError(_ERRORED.format(result.message))
    if type(result) is CelType:
        return result.name
    return lib.to_python(result)


class DialectProgram:
    """An expression compiled for the ``"inngest"`` dialect; immutable and shareable.

    ``evaluate(activation)`` gives the value Inngest's ``expressions.Evaluate`` returns (its
    errors raise :class:`~inngest_core.errors.EvaluationError` with the server's text);
    ``matches(activation)`` says whether that value is exactly ``true`` (pause and trigger
    matching); ``raw(activation)`` is the dialect value before it is mapped.  The three are
    the live twin's evaluator (``_dialect_c.Kernel`` or ``_dialect_py.Kernel``), bound once.

    >>> p = compile_dialect("event.data.missing == null")
    >>> p.evaluate({"event": {"data": {}}})
    True
    >>> p.matches({"event": {"data": {"missing": 1}}})
    False
    >>> compile_dialect("1 + 2.5").evaluate({})
    '12.5'
    """

    __slots__ = ("source", "lifted", "vars", "ast", "plan_ast", "variables", "_paths",
                 "_max_steps", "dialect", "_fast", "_kernel", "raw", "evaluate", "matches")

    source: str
    lifted: str
    vars: dict[str, Any] | None
    ast: Node
    plan_ast: Node
    variables: frozenset[str]
    _paths: frozenset[tuple[str, ...]]
    _max_steps: int
    dialect: str
    _fast: Any
    _kernel: Any
    raw: Callable[[Mapping[str, object]], Any]
    evaluate: Callable[[Mapping[str, object]], object]
    matches: Callable[[Mapping[str, object]], bool]

    def __init__(self, source: str, lifted: str, values: dict[str, Any] | None, ast: Node,
                 max_steps: int, twin: Any = None) -> None:
        """The program of an already lifted and parsed ``source``, evaluated by ``twin``'s
        kernel (``_dialect_c`` when ``twin`` is the compiled expression twin)."""
        from ._expr_ast import free_names

        set_ = object.__setattr__
        set_(self, "source", source)
        set_(self, "lifted", lifted)
        set_(self, "vars", values)
        set_(self, "ast", ast)
        plan_ast = _unlift(ast, values) if values else ast
        set_(self, "plan_ast", plan_ast)
        set_(self, "dialect", "inngest")
        set_(self, "variables", free_names(ast, lib.TYPES)[0])
        paths = registered_paths(ast)
        set_(self, "_paths", paths)
        set_(self, "_max_steps", max_steps)
        if twin is None:
            twin = _compat.load("expr")
        fast = None
        fast_false = False
        if twin.__name__.endswith("_c"):
            kernel = importlib.import_module("inngest_core._dialect_c").Kernel(
                ast, values, paths, max_steps)
        else:
            if _fast_shape(plan_ast):
                fast, fast_false = _fast_path(source, plan_ast, twin)
            kernel = importlib.import_module("inngest_core._dialect_py").Kernel(
                ast, values, paths, max_steps, fast, fast_false)
        set_(self, "_fast", fast)
        set_(self, "_kernel", kernel)
        set_(self, "raw", kernel.raw)
        set_(self, "evaluate", kernel.evaluate)
        set_(self, "matches", kernel.matches)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Program is immutable")

    def __repr__(self) -> str:
        return f"Program({self.source!r}, dialect='inngest')"

    def __str__(self) -> str:
        return self.source

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DialectProgram):
            return NotImplemented
        return bool(self.ast == other.ast and self.vars == other.vars)

    def __hash__(self) -> int:
        return hash(("inngest", self.ast))

    def evaluate_bool(self, activation: Mapping[str, object]) -> bool:
        """``expressions.EvaluateBoolean``: a non-bool value is an error."""
        value = self.evaluate(activation)
        if type(value) is not bool:
            raise EvaluationError(
                f"returned type {_go_type_name(value)} ({_go_s(value)}): expression errored")
        return value

    def substitute(self, bindings: Mapping[str, object]) -> DialectProgram:
        """The program with bound variables replaced by literals.  With the triggering
        ``event`` alone this is what the server stores for a pause (``residual.go:
        Interpolate``, R17: :mod:`inngest_core._dialect_interpolate`), its errors included;
        other bindings are substituted and folded as ``Program.substitute`` does.  The text
        is read again as dialect source, so string literals are lifted raw."""
        if set(bindings) == {"event"}:
            from ._dialect_interpolate import interpolate

            source = interpolate(self.source, bindings)
        else:
            from ._expr_subst import substitute, unparse

            source = unparse(substitute(_parse_source(self.source), bindings))
        return compile_dialect(source, max_comprehension_steps=self._max_steps)


def _unlift(node: Any, values: dict[str, Any]) -> Any:
    """The lifted tree with each ``vars.x`` put back as the literal it was lifted from (raw
    text for strings, as the dialect compares them): what the wait index plans with."""
    if type(node) is not tuple or not node:
        return node
    if node[0] == "select" and node[1] == ("ident", "vars") and node[2] in values:
        value = values[node[2]]
        kind = "string" if type(value) is str else "int" if type(value) is int else "double"
        return ("const", kind, value)
    return tuple(_unlift(child, values) if type(child) is tuple else child for child in node)


def _go_type_name(value: Any) -> str:
    from datetime import datetime, timedelta

    kind = type(value)
    if value is None:
        return "structpb.NullValue"
    return {str: "string", int: "int64", float: "float64", UInt: "uint64", bytes: "[]uint8",
            list: "[]interface {}", dict: "map[string]interface {}", datetime: "time.Time",
            timedelta: "time.Duration"}.get(kind, kind.__name__)


def _go_s(value: Any) -> str:
    if value is None:
        return "NULL_VALUE"
    return go_value(lib.to_cel(value))


def _parse_source(source: str, max_source_length: int = 100_000, max_depth: int = 250) -> Node:
    parsed: Node = _compat.load("expr").parse(source, max_source_length=max_source_length,
                                              max_depth=max_depth)
    return parsed


def compile_dialect(source: str, *, max_source_length: int = 100_000, max_depth: int = 250,
                    max_comprehension_steps: int = 1_000_000, twin: Any = None) -> DialectProgram:
    """Lift and parse ``source`` for the dialect (R2; never type-checked, as the server's
    evaluation path).  The length limit applies to the lifted text, as cel-go's parser
    sees it."""
    if not isinstance(source, str):
        raise TypeError(f"expression source must be str, not {type(source).__name__}")
    lifted, values = lift(source)
    if twin is None:
        twin = _compat.load("expr")  # else a given twin (tests compare the twins)
    parser = twin.parse
    try:
        ast = parser(lifted, max_source_length=max_source_length, max_depth=max_depth)
    except ExpressionSyntaxError:
        # The server's message shows the lifted text; ours points into what was written
        # when that fails to parse too (it nearly always does: lifting keeps the syntax).
        parser(source, max_source_length=max_source_length, max_depth=max_depth)
        raise
    return DialectProgram(source, lifted, values, ast, max_comprehension_steps, twin)


def _fast_path(source: str, plan_ast: Node, twin: Any) -> tuple[Any, bool]:
    """The Python twin's shortcut for the common shape (see below): standard CEL's
    ``evaluate`` of ``source`` when it reads the same tree, and whether its ``false`` is the
    dialect's too (no ``&&``)."""
    try:
        cel = twin.compile_program(source)
    except (ExpressionSyntaxError, ExpressionLimitError):
        return None, False
    # Same tree once the lifted literals are put back: no escape, prefix or triple quote
    # made lifting change a literal, so CEL reads the same values.
    if cel.ast != plan_ast:
        return None, False
    return cel.evaluate, not _has_and(plan_ast)


# ---------------------------------------------------------------------------- the fast path
#
# The dialect costs nothing on the common shape -- comparisons of fields and literals under
# && and || -- because there standard CEL's answer, when it has one, is the dialect's:
#
# * a field standard CEL reads is present, so the dialect reads the same value (no prefix of
#   its path is missing, so it is not unknown);
# * on known values of one type, or of two types standard CEL compares, the unknown decorator
#   runs the standard call (R4 steps 1-2), so every comparison gives the same bool;
# * ``a || b`` true in CEL has a true side, which is true in the dialect, and the dialect's
#   ``||`` returns it (its other operand is a bool or an error, never a truthy non-bool);
#   ``a && b`` true has both sides true; ``a || b`` false has both sides false.
#
# CEL's ``false`` from ``a && b`` may come from an error it absorbed where the dialect's
# ``&&`` returns that error (R11), so with an ``&&`` only ``true`` is taken; ``matches``
# takes ``false`` too (an error is no match either).  Anything else -- a CEL error, a
# missing field, a null -- goes to the interpreter.

_COMPARISONS = frozenset({"_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_"})
_FAST_METHODS = frozenset({"startsWith", "endsWith", "contains"})


_FAST_CONVERSIONS = frozenset({"size", "int", "uint", "double", "string"})


def _fast_operand(node: Node) -> bool:
    """A literal, a field, or ``size``/a conversion of one: on a present value of one type
    the decorator runs the standard call (R4 step 1), so CEL's value is the dialect's."""
    if node[0] == "const":
        return bool(node[1] != "bytes")
    if node[0] == "call" and node[1] in _FAST_CONVERSIONS and len(node[2]) == 1:
        return _fast_field(node[2][0])
    if node[0] == "method" and node[1] == "size" and not node[3]:
        return _fast_field(node[2])
    return _fast_field(node)


def _fast_field(node: Node) -> bool:
    chain = _chain(node) if node[0] == "select" else None
    return chain is not None and chain[0] != "vars" and chain[0] not in lib.TYPES


def _fast_atom(node: Node) -> bool:
    if node[0] == "call":
        if node[1] in _COMPARISONS:
            return all(_fast_operand(arg) for arg in node[2])
        if node[1] == "@in":
            item, container = node[2]
            return _fast_operand(item) and (_fast_operand(container) or (
                container[0] == "list" and all(_fast_operand(e) for e in container[1])))
    if node[0] == "method" and node[1] in _FAST_METHODS and len(node[3]) == 1:
        return _fast_field(node[2]) and node[3][0][0] == "const" and node[3][0][1] == "string"
    return False


def _fast_shape(node: Node) -> bool:
    """Is the tree comparisons of fields and literals under ``&&``, ``||`` and ``!``?"""
    if node[0] == "call" and node[1] in ("_&&_", "_||_"):
        return all(_fast_shape(arg) for arg in node[2])
    if node[0] == "call" and node[1] == "!_":
        return _fast_atom(node[2][0])
    if node[0] == "const" and node[1] == "bool":
        return True
    return _fast_atom(node)


def _has_and(node: Node) -> bool:
    if node[0] == "call":
        return node[1] == "_&&_" or any(_has_and(arg) for arg in node[2])
    return False


# ============================================================================ R15/R16: Validate

POLICIES: dict[str, dict[str, bool]] = {
    "restrictive": {"DisallowMacros": True, "DisallowNonLogicFns": True,
                    "AllowDateTimeFns": False, "AllowMathFns": False},
}
_DECLARED = frozenset({"event", "async", "vars"})
_LOGIC_FNS = frozenset({"_?_:_", "_&&_", "_||_", "!_", "_==_", "_!=_", "_<_", "_<=_", "_>_",
                        "_>=_", "_[_]", "_[?_]", "_?._", "@in", "int", "uint", "double"})
_DATETIME_FNS = frozenset({"date", "now_plus", "now_minus", "duration"})
_MATH_FNS = frozenset({"_+_", "_-_", "_*_", "_/_", "_%_", "-_"})
_STRING_ARG = {"lowercase", "uppercase", "b64decode", "json_parse", "now_plus", "now_minus"}


class ValidationError(ValueError):
    """``Validate`` rejected the expression (``error.go``): the message is the server's."""


def _static_type(node: Node) -> str:
    """A coarse type for the checks below: a literal's kind, else ``dyn``."""
    if node[0] == "const":
        return node[1] if node[1] != "null" else "null_type"
    if node[0] == "list":
        return "list"
    if node[0] == "map":
        return "map"
    if node[0] == "call" and node[1] in ("_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_",
                                          "@in", "!_", "_&&_", "_||_"):
        return "bool"
    if node[0] == "call" and node[1] in CUSTOM_FUNCTIONS:
        return {"json_parse": "dyn", "date": "google.protobuf.Timestamp",
                "now": "google.protobuf.Timestamp", "now_plus": "google.protobuf.Timestamp",
                "now_minus": "google.protobuf.Timestamp"}.get(node[1], "string")
    return "dyn"


def _check(ast: Node) -> list[str]:
    """The part of cel-go's type check (``exprenv.Env().Compile``) this package reproduces:
    undeclared variables (R1), custom function argument types, non-bool literal operands of
    ``&&``/``||``/``!``/conditions (R15: only the seven operators are loosened)."""
    problems: list[str] = []
    stack: list[tuple[Node, frozenset[str]]] = [(ast, frozenset())]
    while stack:
        node, bound = stack.pop()
        kind = node[0]
        if kind == "ident":
            if node[1] not in bound and node[1] not in _DECLARED and node[1] not in lib.TYPES:
                problems.append(f"undeclared reference to '{node[1]}' (in container '')")
        elif kind in ("select", "has"):
            stack.append((node[1], bound))
        elif kind == "call":
            function, args = node[1], node[2]
            if function in _STRING_ARG and len(args) == 1:
                found = _static_type(args[0])
                if found not in ("string", "dyn"):
                    problems.append(f"found no matching overload for '{function}' applied "
                                    f"to '({found})'")
            if function in ("_&&_", "_||_", "!_"):
                for arg in args:
                    found = _static_type(arg)
                    if found not in ("bool", "dyn"):
                        problems.append(f"expected type 'bool' but found '{found}'")
            if function == "_?_:_":
                found = _static_type(args[0])
                if found not in ("bool", "dyn"):
                    problems.append(f"expected type 'bool' but found '{found}'")
                a, b = _static_type(args[1]), _static_type(args[2])
                if "dyn" not in (a, b) and a != b and "null_type" not in (a, b):
                    problems.append(f"found no matching overload for '_?_:_' applied to "
                                    f"'({_static_type(args[0]) if _static_type(args[0]) != 'dyn' else 'dyn'}, {a}, {b})'")
            stack.extend((arg, bound) for arg in args)
        elif kind == "method":
            if not any(key[0] == node[1] and key[2] for key in lib.FUNCTIONS):
                problems.append(f"undeclared reference to '{node[1]}' (in container '')")
            stack.append((node[2], bound))
            stack.extend((arg, bound) for arg in node[3])
        elif kind == "list":
            stack.extend((e, bound) for e in node[1])
        elif kind == "map":
            for k, v in node[1]:
                stack.extend(((k, bound), (v, bound)))
        elif kind == "comprehension":
            stack.append((node[2], bound))
            stack.extend((arg, bound | {node[3]}) for arg in node[4])
    return problems


_QUOTED = re.compile(r"'([^']*)'")


def _issue(source: str, problem: str) -> tuple[int, str]:
    """A checker issue as cel-go writes one: ``ERROR: <input>:L:C: msg``, the source line and
    a caret under the name the message is about (our tree has no positions: the name's
    first occurrence as a word is pointed at; the column of the expression's start else)."""
    offset = 0
    name = _QUOTED.search(problem)
    if name and not problem.startswith("expected type"):
        found = re.search(r"(?<![\w.])" + re.escape(name.group(1).strip("_")) + r"\b"
                          if problem.startswith("undeclared") else
                          r"\b" + re.escape(name.group(1)) + r"\s*\(", source)
        if found is None and problem.startswith("undeclared"):
            # a method: cel-go points at its call's parenthesis
            found = re.search(r"\." + re.escape(name.group(1)) + r"\s*\(", source)
            if found is not None:
                offset = found.end() - 1
        elif found is not None:
            offset = found.end() - 1 if found.group().endswith("(") else found.start()
    line = source.count("\n", 0, offset) + 1
    start = source.rfind("\n", 0, offset) + 1
    end = source.find("\n", offset)
    text = source[start:] if end < 0 else source[start:end]
    column = offset - start
    return offset, (f"ERROR: <input>:{line}:{column + 1}: {problem}\n | {text}\n | "
                    + "." * column + "^")


def _policy_violations(node: Node, policy: Mapping[str, bool], out: list[str]) -> None:
    """``validation.go: validateAST``: the node's own violation, then its arguments, left to
    right; receiver targets, literal elements and comprehension bodies are not walked."""
    kind = node[0]
    if kind == "comprehension":
        if policy.get("DisallowMacros"):
            out.append("macros are disallowed (contains '")
        return
    if kind == "has":
        if policy.get("DisallowMacros"):
            out.append("macros are disallowed (uses 'has')")
        _policy_violations(node[1], policy, out)
        return
    if kind == "select":
        _policy_violations(node[1], policy, out)
        return
    if kind in ("call", "method"):
        function = node[1]
        if function in ("has", "all", "exists", "exists_one", "map", "filter"):
            if policy.get("DisallowMacros"):
                out.append(f"macros are disallowed (uses '{function}')")
        elif policy.get("DisallowNonLogicFns") and function not in _LOGIC_FNS and not (
                policy.get("AllowDateTimeFns") and function in _DATETIME_FNS) and not (
                policy.get("AllowMathFns") and function in _MATH_FNS):
            out.append(f"function calls are disallowed (uses '{function}')")
        for arg in (node[2] if kind == "call" else node[3]):
            _policy_violations(arg, policy, out)


def interpolate(source: str, activation: Mapping[str, Any]) -> str:
    """``residual.go: Interpolate`` (R17): see :mod:`inngest_core._dialect_interpolate`."""
    from ._dialect_interpolate import interpolate as run

    return run(source, activation)


def validate(source: str, policy: Mapping[str, bool] | str | None = None) -> None:
    """``validation.go: Validate``: parse and check the **unlifted** source; with a policy,
    collect every violation.  Raises :class:`ValidationError` with the server's text
    (``error compiling expression: ...`` or ``validation failed: N errors occurred: ...``)."""
    if isinstance(policy, str):
        policy = POLICIES[policy]
    try:
        ast = _parse_source(source)
    except ExpressionLimitError as exc:
        text = str(exc)
        if "characters long" in text:
            text = (f"expression code point size exceeds limit: size: {len(source)}, "
                    "limit 100000")
        else:
            text = "expression recursion limit exceeded: 250"
        raise ValidationError(f"error compiling expression: ERROR: <input>:-1:0: {text}") from None
    except ExpressionSyntaxError as exc:
        raise ValidationError(f"error compiling expression: {exc}") from None
    problems = _check(ast)
    if problems:
        raise ValidationError("error compiling expression: " + "\n".join(
            text for _, text in sorted(_issue(source, p) for p in problems)))
    if policy is None:
        return
    violations: list[str] = []
    _policy_violations(ast, policy, violations)
    if violations:
        count = len(violations)
        head = "1 error occurred" if count == 1 else f"{count} errors occurred"
        raise ValidationError("validation failed: " + head + ":\n" + "".join(
            f"\t* {v}\n" for v in violations) + "\n")
