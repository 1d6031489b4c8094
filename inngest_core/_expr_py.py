"""Pure-Python twin of the CEL parser and evaluator (the compiled twin is ``src_pyx/_expr_c.pyx``).

Parsing: the Lark grammar ``grammars/cel.lark`` (LALR, contextual lexer), loaded once per
process, with the transformer passed to the parser so no parse tree is built; it returns the
tuples of :mod:`inngest_core._expr_ast`.  The LALR parser keeps an explicit stack, so no input
can make it recurse.

Depth is the height of the syntax tree as written (the same rule as the compiled twin): a
literal or identifier is 1; an operator application, call, method call (macros included),
selection, index, list, map or message literal, and a pair of parentheses is one more than its
deepest operand.  ``max_depth`` bounds it, checked as each node is built, so a too-deep input
fails as soon as the parser has read that far.
"""

from __future__ import annotations

import operator
import re
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Lark itself is imported on the first parse
    from lark import Lark, Token
    from lark.exceptions import UnexpectedInput

from . import _expr_lib as lib
from ._expr_ast import COMPREHENSIONS as _COMPREHENSIONS
from ._expr_ast import MAX_NESTING, RESERVED, Node, free_names, has_comprehension, height
from ._expr_lib import CelError, UInt
from .errors import (
    EvaluationError,
    ExpressionSyntaxError,
    comprehension_limit_error,
    depth_limit_error,
    show,
    source_length_error,
    syntax_error,
)

__all__ = ["parse", "Program", "compile_program"]


_INT64_MAGNITUDE = 1 << 63
_UINT64_MAX = (1 << 64) - 1

_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?",
}
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_OCTAL_DIGITS = frozenset("01234567")

# An item under construction: (node, height, qualified).  ``qualified`` is true for a dotted
# name (``a``, ``.a``, ``a.b.c``) as written, the only thing a message literal may follow.
_Item = tuple[Node, int, bool]


class _Context(threading.local):
    """Per-thread state of the parse in progress (the Lark parser and its callbacks are
    shared by every thread).  ``chain`` follows the tokens just read: 2 after a dotted name
    (``a``, ``.a``, ``a.b``), 1 after a dot that continues one, 0 otherwise."""

    source: str = ""
    max_depth: int = 250
    chain: int = 0
    opened: int = 0  # brackets open now
    run: int = 0  # "!" or "-" operators in a row, the last ending at run_end
    run_end: int = -1


_context = _Context()


def _item(node: Node, height: int, qualified: bool = False) -> _Item:
    if height > _context.max_depth:
        raise depth_limit_error(_context.max_depth)
    return (node, height, qualified)


def _fail(what: str, offset: int) -> Exception:
    return syntax_error(what, _context.source, offset)


def _binary(operator: str) -> Any:
    def build(self: _Builder, children: list[_Item]) -> _Item:
        left, right = children
        return _item(("call", operator, (left[0], right[0])), 1 + max(left[1], right[1]))

    build.__name__ = operator
    return build


def _decode(body: str, offset: int, is_bytes: bool) -> str | bytes:
    """The value of a non-raw literal's ``body`` (which starts at ``offset`` in the source):
    a str, or bytes (UTF-8 of the text, ``\\x`` and octal escapes as raw octets)."""
    if "\\" not in body:
        return body.encode("utf-8", "surrogatepass") if is_bytes else body
    parts: list[Any] = []
    i = 0
    n = len(body)
    while i < n:
        j = body.find("\\", i)
        if j < 0:
            j = n
        if j > i:
            chunk = body[i:j]
            parts.append(chunk.encode("utf-8", "surrogatepass") if is_bytes else chunk)
        if j >= n:
            break
        at = j
        c = body[j + 1] if j + 1 < n else ""
        i = j + 2
        simple = _SIMPLE_ESCAPES.get(c)
        if simple is not None:
            parts.append(simple.encode() if is_bytes else simple)
            continue
        digits = 0
        octet = False
        if c in ("x", "X"):
            digits, octet = 2, True
        elif c == "u" and not is_bytes:
            digits = 4
        elif c == "U" and not is_bytes:
            digits = 8
        elif c in ("0", "1", "2", "3"):
            if i + 1 < n and body[i] in _OCTAL_DIGITS and body[i + 1] in _OCTAL_DIGITS:
                value = int(body[j + 1 : j + 4], 8)
                i = j + 4
                parts.append(bytes((value,)) if is_bytes else chr(value))
                continue
            raise _fail("invalid escape sequence " + show(body[at : min(at + 2, n)]), offset + at)
        else:
            raise _fail("invalid escape sequence " + show(body[at : min(at + 2, n)]), offset + at)
        hex_text = body[i : i + digits]
        if len(hex_text) < digits or not all(h in _HEX_DIGITS for h in hex_text):
            raise _fail("invalid escape sequence " + show(body[at : min(at + 2, n)]), offset + at)
        i += digits
        value = int(hex_text, 16)
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise _fail(
                "invalid code point in escape sequence " + show(body[at:i]), offset + at
            )
        if is_bytes:
            parts.append(bytes((value,)) if octet else chr(value).encode("utf-8"))
        else:
            parts.append(chr(value))
    return b"".join(parts) if is_bytes else "".join(parts)


def _quoted_literal(token: Token, is_bytes: bool) -> str | bytes:
    text = str(token)
    start = token.start_pos or 0
    q = 0
    raw = False
    while text[q] not in "\"'":
        if text[q] in "rR":
            raw = True
        q += 1
    quote = text[q]
    width = 3 if text.startswith(quote * 3, q) and len(text) - q >= 6 else 1
    body = text[q + width : len(text) - width]
    if raw:
        return body.encode("utf-8", "surrogatepass") if is_bytes else body
    return _decode(body, start + q + width, is_bytes)


def _digits_offset(token: Token) -> tuple[str, int]:
    """A (possibly negative) number token without its sign and the spaces after it: the
    digits, and their offset in the source."""
    text = str(token)
    start = token.start_pos or 0
    if not text.startswith("-"):
        return text, start
    i = 1
    while True:
        while i < len(text) and text[i] in "\t\n\f\r ":
            i += 1
        if text.startswith("//", i):
            newline = text.find("\n", i)
            i = newline + 1
            continue
        break
    return text[i:], start + i


def _append(children: list[Any]) -> list[Any]:
    """A left-recursive list rule: ``[item]`` or ``[list, item]``."""
    if len(children) == 1:
        return children
    items: list[Any] = children[0]
    items.append(children[1])
    return items


def _on_ident(token: Token) -> Token:
    """Lexer callback: a variable or function name, which must not be a reserved word."""
    if token in RESERVED:
        raise _fail("reserved identifier " + show(str(token)), token.start_pos or 0)
    _context.chain = 2
    return token


def _on_dot(token: Token) -> Token:
    _context.chain = 1 if _context.chain == 2 else 0
    return token


def _on_name(token: Token) -> Token:
    _context.chain = 2 if _context.chain == 1 else 0
    return token


def _magnitude(digits: str) -> int:
    """The value of decimal or ``0x`` digits, or ``_UINT64_MAX + 1`` for anything larger:
    a literal of any length is judged by its significant digits, never converted whole
    (Python refuses to convert more than 4,300 decimal digits at once)."""
    if digits.startswith("0x"):
        significant = digits[2:].lstrip("0")
        if len(significant) > 16:
            return _UINT64_MAX + 1
        return int(significant or "0", 16)
    significant = digits.lstrip("0")
    if len(significant) > 20:
        return _UINT64_MAX + 1
    return int(significant or "0")


def _integer(token: Token) -> int:
    """The value of an INT, NEG_INT or UINT token; an error if it is out of range."""
    if token.type == "UINT":
        value = _magnitude(str(token)[:-1])
        if value > _UINT64_MAX:
            raise _fail("uint literal out of range", token.start_pos or 0)
        return value
    digits, at = _digits_offset(token)
    negative = str(token).startswith("-")
    value = _magnitude(digits)
    if value > (_INT64_MAGNITUDE if negative else _INT64_MAGNITUDE - 1):
        raise _fail("int literal out of range", at)
    return -value if negative else value


def _on_operand_end(token: Token) -> Token:
    """Lexer callback for the last token of an operand that is not a dotted name."""
    _context.chain = 0
    return token


def _on_message_brace(token: Token) -> Token:
    """Lexer callback: a message literal's brace must follow a dotted name."""
    if _context.chain != 2:
        raise _fail("unexpected " + show("{"), token.start_pos or 0)
    _context.chain = 0
    return token


# Each open bracket, and each "!" or "-" of a run, is a frame the compiled twin's parser
# holds until the construct closes, and a level of the finished tree: past ``max_depth`` of
# them the compiled twin fails at once, and so does this one, as the token is read (rather
# than at the end of a megabyte of "(((" or "!!!", which Lark would read first).


def _on_open(token: Token) -> Token:
    context = _context
    context.opened += 1
    if context.opened > context.max_depth:
        raise depth_limit_error(context.max_depth)
    return token


def _on_close(token: Token) -> Token:
    _context.opened -= 1
    _context.chain = 0
    return token


def _on_prefix(token: Token) -> Token:
    context = _context
    start = token.start_pos or 0
    gap = context.source[context.run_end:start] if context.run_end >= 0 else "x"
    context.run = context.run + 1 if not gap or gap.isspace() else 1
    context.run_end = start + 1
    if context.run + context.opened > context.max_depth:
        raise depth_limit_error(context.max_depth)
    return token


def _on_message_open(token: Token) -> Token:
    return _on_open(_on_message_brace(token))


_LEXER_CALLBACKS = {
    "IDENT": _on_ident,
    "DOT": _on_dot,
    "NAME": _on_name,
    "MESSAGE_LBRACE": _on_message_open,
    "LPAR": _on_open,
    "LSQB": _on_open,
    "LBRACE": _on_open,
    "RPAR": _on_close,
    "RSQB": _on_close,
    "RBRACE": _on_close,
    "BANG": _on_prefix,
    "MINUS": _on_prefix,
    **dict.fromkeys(
        ["QUOTED_IDENT", "INT", "NEG_INT", "UINT", "DOUBLE", "NEG_DOUBLE", "STRING", "BYTES",
         "TRUE", "FALSE", "NULL"],
        _on_operand_end,
    ),
}


class _Builder:
    """The parser callbacks: each rule of ``cel.lark`` builds its ``_expr_ast`` node."""

    # ----------------------------------------------------------------- operators

    def conditional(self, children: list[_Item]) -> _Item:
        a, b, c = children
        return _item(("call", "_?_:_", (a[0], b[0], c[0])), 1 + max(a[1], b[1], c[1]))

    logical_or = _binary("_||_")
    logical_and = _binary("_&&_")
    less = _binary("_<_")
    less_equals = _binary("_<=_")
    greater_equals = _binary("_>=_")
    greater = _binary("_>_")
    equals = _binary("_==_")
    not_equals = _binary("_!=_")
    in_ = _binary("@in")
    add = _binary("_+_")
    subtract = _binary("_-_")
    multiply = _binary("_*_")
    divide = _binary("_/_")
    modulo = _binary("_%_")

    def logical_not(self, children: list[_Item]) -> _Item:
        (a,) = children
        return _item(("call", "!_", (a[0],)), 1 + a[1])

    def negate(self, children: list[_Item]) -> _Item:
        (a,) = children
        return _item(("call", "-_", (a[0],)), 1 + a[1])

    # ----------------------------------------------------------------- members

    def select(self, children: list[Any]) -> _Item:
        operand, name = children
        plain = name.type == "NAME"
        field = str(name) if plain else str(name)[1:-1]
        return _item(("select", operand[0], field), 1 + operand[1], plain and operand[2])

    def method(self, children: list[Any]) -> _Item:
        target, name, args = children
        items: list[_Item] = args or []
        function = str(name)
        height = 1 + max([target[1]] + [a[1] for a in items])
        count = len(items)
        if (count == 2 and function in _COMPREHENSIONS) or (
            function == "map" and count in (2, 3)
        ):
            variable = items[0][0]
            if variable[0] != "ident":
                raise _fail(
                    f"the first argument of {function}() must be a simple name",
                    name.start_pos or 0,
                )
            rest = tuple(a[0] for a in items[1:])
            return _item(("comprehension", function, target[0], variable[1], rest), height)
        return _item(("method", function, target[0], tuple(a[0] for a in items)), height)

    def index(self, children: list[_Item]) -> _Item:
        target, key = children
        return _item(("call", "_[_]", (target[0], key[0])), 1 + max(target[1], key[1]))

    def message(self, children: list[Any]) -> _Item:
        target, brace, fields = children
        if not target[2]:
            raise _fail("unexpected " + show("{"), brace.start_pos or 0)
        parts: list[str] = []
        node = target[0]
        while node[0] == "select":
            parts.append(node[2])
            node = node[1]
        parts.append(node[1])
        parts.reverse()
        entries: list[tuple[str, _Item]] = fields or []
        height = 1 + max([0] + [value[1] for _, value in entries])
        built = tuple((name, value[0]) for name, value in entries)
        return _item(("struct", ".".join(parts), built), height)

    def fields(self, children: list[Any]) -> list[tuple[str, _Item]]:
        return _append(children)

    def field(self, children: list[Any]) -> tuple[str, _Item]:
        name, value = children
        text = str(name)
        return (text if name.type == "NAME" else text[1:-1], value)

    # ----------------------------------------------------------------- primaries

    def ident(self, children: list[Token]) -> _Item:
        (name,) = children
        return _item(("ident", str(name)), 1, True)

    def dot_ident(self, children: list[Token]) -> _Item:
        _, name = children
        return _item(("ident", "." + str(name)), 1, True)

    def call(self, children: list[Any]) -> _Item:
        name, args = children
        return self._call(str(name), name, args or [], name.start_pos or 0)

    def dot_call(self, children: list[Any]) -> _Item:
        dot, name, args = children
        return self._call("." + str(name), name, args or [], dot.start_pos or 0)

    def _call(self, function: str, name: Token, items: list[_Item], at: int) -> _Item:
        height = 1 + max([0] + [a[1] for a in items])
        if function == "has" and len(items) == 1:
            argument = items[0][0]
            if argument[0] != "select":
                raise _fail("invalid argument to has() macro", at)
            return _item(("has", argument[1], argument[2]), height)
        return _item(("call", function, tuple(a[0] for a in items)), height)

    def args(self, children: list[Any]) -> list[_Item]:
        return _append(children)

    def paren(self, children: list[_Item]) -> _Item:
        (inner,) = children
        return _item(inner[0], inner[1] + 1)

    def list_literal(self, children: list[Any]) -> _Item:
        (elements,) = children
        items: list[_Item] = elements or []
        height = 1 + max([0] + [e[1] for e in items])
        return _item(("list", tuple(e[0] for e in items)), height)

    def elements(self, children: list[Any]) -> list[_Item]:
        return _append(children)

    def map_literal(self, children: list[Any]) -> _Item:
        _, entries = children
        pairs: list[tuple[_Item, _Item]] = entries or []
        height = 1 + max([0] + [max(k[1], v[1]) for k, v in pairs])
        return _item(("map", tuple((k[0], v[0]) for k, v in pairs)), height)

    def entries(self, children: list[Any]) -> list[tuple[_Item, _Item]]:
        return _append(children)

    def entry(self, children: list[_Item]) -> tuple[_Item, _Item]:
        key, value = children
        return (key, value)

    # ----------------------------------------------------------------- literals

    def int_literal(self, children: list[Token]) -> _Item:
        (token,) = children
        return _item(("const", "int", _integer(token)), 1)

    def uint_literal(self, children: list[Token]) -> _Item:
        (token,) = children
        return _item(("const", "uint", _integer(token)), 1)

    def double_literal(self, children: list[Token]) -> _Item:
        (token,) = children
        digits, _ = _digits_offset(token)
        value = float(digits)
        return _item(("const", "double", -value if str(token).startswith("-") else value), 1)

    def string_literal(self, children: list[Token]) -> _Item:
        (token,) = children
        return _item(("const", "string", _quoted_literal(token, False)), 1)

    def bytes_literal(self, children: list[Token]) -> _Item:
        (token,) = children
        return _item(("const", "bytes", _quoted_literal(token, True)), 1)

    def true_literal(self, children: list[Token]) -> _Item:
        return _item(("const", "bool", True), 1)

    def false_literal(self, children: list[Token]) -> _Item:
        return _item(("const", "bool", False), 1)

    def null_literal(self, children: list[Token]) -> _Item:
        return _item(("const", "null", None), 1)


_parser: Lark | None = None
_parser_lock = threading.Lock()


def _lark() -> Lark:
    global _parser
    if _parser is None:
        from lark import Lark

        with _parser_lock:
            if _parser is None:
                _parser = Lark.open_from_package(
                    "inngest_core",
                    "grammars/cel.lark",
                    parser="lalr",
                    lexer="contextual",
                    transformer=_Builder(),
                    maybe_placeholders=True,
                    lexer_callbacks=_LEXER_CALLBACKS,
                )
    return _parser


_STRING_STARTS = frozenset("\"'")
_NUMBERS = frozenset({"INT", "UINT", "DOUBLE"})
_NEGATIVE_NUMBERS = frozenset({"NEG_INT", "NEG_DOUBLE"})
_WORDS = frozenset({"IDENT", "NAME"})
_PREFIXES = frozenset({"r", "R", "b", "B", "br", "bR", "Br", "BR", "rb", "rB", "Rb", "RB"})
_DOT_NUMBER = re.compile(r"\.[0-9]+(?:[eE][+-]?[0-9]+)?")


def _lark_error(source: str, error: UnexpectedInput) -> Exception:
    """Our syntax error for a Lark error, in the compiled twin's words where it can."""
    from lark.exceptions import UnexpectedToken

    if isinstance(error, UnexpectedToken):
        token = error.token
        if token.type == "$END":
            return syntax_error("unexpected end of expression", source, len(source))
        offset: int = token.start_pos if token.start_pos is not None else len(source)
        text = str(token)
        if token.type in _WORDS and source[offset + len(text) : offset + len(text) + 1] in _STRING_STARTS and text in _PREFIXES:
            # A string prefix before an unterminated literal: the compiled twin's lexer,
            # which is not contextual, reads on into the literal.
            return syntax_error("unterminated string literal", source, offset + len(text))
        if token.type in ("STRING", "BYTES"):
            word = offset
            while word > 0 and (source[word - 1].isascii() and source[word - 1].isalnum()
                                or source[word - 1] == "_"):
                word -= 1
            if source[word:offset] in _PREFIXES:
                # After a word the contextual lexer offers no literal, so it read the prefix
                # as a name; the compiled twin reads one prefixed literal.
                text = source[word:offset] + text
                offset = word
        if (offset > 0 and source[offset - 1] == "." and token.type in _NUMBERS
                and not text.startswith(".")):
            # Where a name must follow a dot, ".5" is one (double) token to the compiled twin.
            offset -= 1
            match = _DOT_NUMBER.match(source, offset)
            text = match.group() if match else "."
        if token.type in _NEGATIVE_NUMBERS:
            # Where the literal cannot stand, the compiled twin stops at the "-" operator.
            text = "-"
        return syntax_error("unexpected " + show(text), source, offset)
    offset = error.pos_in_stream or 0
    char = source[offset : offset + 1]
    if char == "=" and source[offset - 1 : offset] == "!":
        # Where "!=" cannot stand the contextual lexer reads "!" and stops at "="; the
        # compiled twin's lexer reads the one token "!=" and reports it.
        return syntax_error('unexpected "!="', source, offset - 1)
    quote = offset
    while quote < len(source) and quote - offset < 2 and source[quote] in "rRbB":
        quote += 1
    if source[quote : quote + 1] in _STRING_STARTS:
        return syntax_error("unterminated string literal", source, quote)
    return syntax_error("unexpected character " + show(char), source, offset)


#: Tokens that leave a construct open until its operand or closing token comes: each is a
#: frame of the compiled twin's parser and one level of the finished tree.
_OPENERS = frozenset({"(", "[", "{", "?", "||", "&&", "<", "<=", ">=", ">", "==", "!=", "in",
                      "+", "-", "*", "/", "%", "!"})


def _pending(error: UnexpectedInput) -> int:
    """How many constructs were open when the parser stopped."""
    from lark import Token

    interactive = getattr(error, "interactive_parser", None)
    if interactive is None:
        return 0
    return sum(1 for value in interactive.parser_state.value_stack
               if type(value) is Token and value in _OPENERS)


def parse(source: str, *, max_source_length: int = 100_000, max_depth: int = 250) -> Node:
    """Parse CEL ``source`` into the tuples of :mod:`inngest_core._expr_ast`.

    >>> parse("event.data.id == 1")
    ('call', '_==_', (('select', ('select', ('ident', 'event'), 'data'), 'id'), ('const', 'int', 1)))
    >>> parse("[1, 2].exists(x, x > 1)")[:4]
    ('comprehension', 'exists', ('list', (('const', 'int', 1), ('const', 'int', 2))), 'x')
    """
    if not isinstance(source, str):
        raise TypeError(f"expression source must be str, not {type(source).__name__}")
    if len(source) > max_source_length:
        raise source_length_error(len(source), max_source_length)
    parser = _lark()
    from lark.exceptions import UnexpectedInput

    context = _context
    saved = (context.source, context.max_depth, context.chain, context.opened, context.run,
             context.run_end)
    context.source = source
    context.max_depth = max_depth
    context.chain = 0
    context.opened = context.run = 0
    context.run_end = -1
    try:
        item: _Item = parser.parse(source)  # type: ignore[assignment]
    except UnexpectedInput as error:
        if _pending(error) > max_depth:
            # The compiled twin fails as soon as more constructs are open than the limit
            # allows, before it reads on to the error: so does this one.
            raise depth_limit_error(max_depth) from None
        raise _lark_error(source, error) from None
    finally:
        (context.source, context.max_depth, context.chain, context.opened, context.run,
         context.run_end) = saved
    return item[0]


# =========================================================================== the evaluator
#
# A program is compiled once into nested closures, one per node (``act -> value``), so that
# evaluating only runs closures.  ``act`` is the activation, or a _Scope over it inside a
# comprehension.  Values follow ``_expr_lib``: raw Python values from the activation are
# normalised where they are read, and errors are CelError values until the end.

Closure = Callable[[Any], Any]

_PLAIN = lib.PLAIN
_SIMPLE = frozenset({str, bool, bytes, type(None), int, UInt, float})
_FAST_ORDER = frozenset({int, float, str})
_INT64_MIN = lib.INT64_MIN
_INT64_MAX = lib.INT64_MAX


class _Scope(dict):  # type: ignore[type-arg]
    """Variables bound by comprehensions over an outer mapping; ``budget`` is the one-element
    list of comprehension steps left in this evaluation.  Names are looked up through the
    chain of scopes by :func:`_resolve`, a loop, so nesting never recurses."""

    __slots__ = ("outer", "budget")

    outer: Mapping[str, Any]
    budget: list[int]


def _resolve(act: Any, name: str) -> Any:
    """``name`` in the innermost scope that binds it, else in the activation (KeyError if
    neither has it)."""
    while type(act) is _Scope:
        if name in act:
            return act[name]
        act = act.outer
    return act[name]


def _undeclared(name: str) -> Any:
    """What an unbound identifier evaluates to: a type value, or an error value."""
    found = lib.TYPES.get(name)
    if found is not None and name not in ("google.protobuf.Timestamp", "google.protobuf.Duration"):
        return found
    return lib.error("undeclared", name=name)


def _constant(value: Any) -> Closure:
    def constant(act: Any) -> Any:
        return value

    return constant


class _Compiled:
    """A compiled node: its closure and, when it depends on nothing, its value."""

    __slots__ = ("run", "constant", "value")

    def __init__(self, run: Closure, constant: bool = False, value: Any = None) -> None:
        self.run = run
        self.constant = constant
        self.value = value


def _const(value: Any) -> _Compiled:
    return _Compiled(_constant(value), True, value)


class _Compiler:
    """Turns an ``_expr_ast`` tree into closures.  ``dotted``: resolve ``a.b.c`` against
    activation names with dots first (the longest name wins), as CEL's qualified names do."""

    def __init__(self, max_steps: int, dotted: bool, scoped: bool) -> None:
        self.max_steps = max_steps
        self.dotted = dotted
        self.scoped = scoped  # variables are looked up through _Scope chains

    def compile(self, node: Node, bound: frozenset[str]) -> _Compiled:
        kind = node[0]
        method: Callable[[Node, frozenset[str]], _Compiled] = getattr(self, "c_" + kind)
        return method(node, bound)

    # ----------------------------------------------------------------- leaves

    def c_const(self, node: Node, bound: frozenset[str]) -> _Compiled:
        _, kind, value = node
        return _const(UInt(value) if kind == "uint" else value)

    def c_ident(self, node: Node, bound: frozenset[str]) -> _Compiled:
        name: str = node[1]
        if name in bound:
            def loop_variable(act: Any) -> Any:
                return _resolve(act, name)

            return _Compiled(loop_variable)
        if name.startswith("."):
            name = name[1:]
        return _Compiled(_variable(name, _undeclared(name), self.scoped))

    # ----------------------------------------------------------------- members

    def c_select(self, node: Node, bound: frozenset[str]) -> _Compiled:
        fields: list[str] = []
        operand = node
        while operand[0] == "select":
            fields.append(operand[2])
            operand = operand[1]
        fields.reverse()
        if operand[0] == "ident" and operand[1] not in bound:
            root: str = operand[1]
            if root.startswith("."):
                root = root[1:]
            if self.dotted:
                return _Compiled(_dotted_chain(root, tuple(fields)))
            return _Compiled(_chain(root, tuple(fields), _undeclared(root), self.scoped))
        inner = self.compile(node[1], bound).run
        field: str = node[2]
        select = lib.select

        def selection(act: Any) -> Any:
            return select(inner(act), field)

        return _Compiled(selection)

    def c_has(self, node: Node, bound: frozenset[str]) -> _Compiled:
        inner = self.compile(node[1], bound).run
        field: str = node[2]
        has_field = lib.has_field

        def has(act: Any) -> Any:
            return has_field(inner(act), field)

        return _Compiled(has)

    def c_struct(self, node: Node, bound: frozenset[str]) -> _Compiled:
        return _const(lib.error("message", name=node[1]))

    def c_list(self, node: Node, bound: frozenset[str]) -> _Compiled:
        items = [self.compile(item, bound) for item in node[1]]
        if all(item.constant for item in items):
            values = tuple(item.value for item in items)
            problem = next((v for v in values if type(v) is CelError), None)
            return _const(problem if problem is not None else values)
        runs = tuple(item.run for item in items)

        def make_list(act: Any) -> Any:
            values = [run(act) for run in runs]
            for value in values:
                if type(value) is CelError:
                    return value
            return values

        return _Compiled(make_list)

    def c_map(self, node: Node, bound: frozenset[str]) -> _Compiled:
        pairs = [(self.compile(k, bound), self.compile(v, bound)) for k, v in node[1]]
        make_map = lib.make_map
        if all(k.constant and v.constant for k, v in pairs):
            return _const(make_map([(k.value, v.value) for k, v in pairs]))
        runs = tuple((k.run, v.run) for k, v in pairs)

        def build_map(act: Any) -> Any:
            return make_map([(k(act), v(act)) for k, v in runs])

        return _Compiled(build_map)

    # ----------------------------------------------------------------- calls

    def c_call(self, node: Node, bound: frozenset[str]) -> _Compiled:
        _, function, arg_nodes = node
        special = _SPECIAL.get(function)
        args = [self.compile(arg, bound) for arg in arg_nodes]
        if special is not None:
            return special(*args)
        return _function_call(function, args, False)

    def c_method(self, node: Node, bound: frozenset[str]) -> _Compiled:
        _, function, target_node, arg_nodes = node
        target = self.compile(target_node, bound)
        args = [self.compile(arg, bound) for arg in arg_nodes]
        if (function in _STRING_METHODS and len(args) == 1 and args[0].constant
                and type(args[0].value) is str and not target.constant):
            return _string_method(function, target.run, args[0].value)
        return _function_call(function, [target] + args, True)

    def c_comprehension(self, node: Node, bound: frozenset[str]) -> _Compiled:
        _, macro, target_node, variable, arg_nodes = node
        target = self.compile(target_node, bound).run
        inner = bound | {variable}
        args = tuple(self.compile(arg, inner).run for arg in arg_nodes)
        return _Compiled(_comprehension(macro, target, variable, args, self.max_steps))


# --------------------------------------------------------------------------- variables


def _variable(name: str, missing: Any, scoped: bool) -> Closure:
    plain = _PLAIN
    to_cel = lib.to_cel

    if scoped:
        def scoped_variable(act: Any) -> Any:
            try:
                value = _resolve(act, name)
            except KeyError:
                return missing
            if type(value) in plain:
                return value
            return to_cel(value)

        return scoped_variable

    def variable(act: Any) -> Any:
        try:
            value = act[name]
        except KeyError:
            return missing
        if type(value) in plain:
            return value
        return to_cel(value)

    return variable


def _chain(root: str, fields: tuple[str, ...], missing: Any, scoped: bool) -> Closure:
    """``root.f1.f2...``: the lookups of a select chain in one closure, dicts first (a dict is
    looked into once its keys are known to be plain strings, see ``_expr_lib.owned``)."""
    plain = _PLAIN
    to_cel = lib.to_cel
    select = lib.select
    errors = {field: lib.error("no_such_key", key=field) for field in fields}
    absent = object()

    def chain(act: Any) -> Any:
        try:
            value = _resolve(act, root) if scoped else act[root]
        except KeyError:
            value = missing
        for field in fields:
            value = to_cel(value)
            if type(value) is dict:
                try:
                    value = value[field]
                except KeyError:
                    return errors[field]
            else:
                value = select(value, field)
                if type(value) is CelError:
                    return value
        if type(value) in plain:
            return value
        return to_cel(value)

    if len(fields) == 3:
        first, second, third = fields

        # The key checks are written out (not ``keyed(value)``): a loop over a small dict's
        # keys costs a third of a call that builds iterators, and these run per evaluation.
        def chain3(act: Any) -> Any:
            try:
                value = _resolve(act, root) if scoped else act[root]
            except KeyError:
                return chain(act)
            if type(value) is not dict:
                return chain(act)
            for key in value:
                if type(key) is not str:
                    return chain(act)
            value = value.get(first, absent)
            if type(value) is not dict:
                return chain(act)
            for key in value:
                if type(key) is not str:
                    return chain(act)
            value = value.get(second, absent)
            if type(value) is not dict:
                return chain(act)
            for key in value:
                if type(key) is not str:
                    return chain(act)
            value = value.get(third, absent)
            if type(value) in plain:
                return value
            if value is absent:
                return errors[third]
            return to_cel(value)

        return chain3
    if len(fields) == 2:
        first, second = fields

        def chain2(act: Any) -> Any:  # as chain3
            try:
                value = _resolve(act, root) if scoped else act[root]
            except KeyError:
                return chain(act)
            if type(value) is not dict:
                return chain(act)
            for key in value:
                if type(key) is not str:
                    return chain(act)
            value = value.get(first, absent)
            if type(value) is not dict:
                return chain(act)
            for key in value:
                if type(key) is not str:
                    return chain(act)
            value = value.get(second, absent)
            if type(value) in plain:
                return value
            if value is absent:
                return errors[second]
            return to_cel(value)

        return chain2
    return chain


def _dotted_chain(root: str, fields: tuple[str, ...]) -> Closure:
    """A select chain where the activation may name a prefix with dots: the longest wins."""
    names = [".".join((root,) + fields[:i]) for i in range(len(fields) + 1)]
    to_cel = lib.to_cel
    select = lib.select

    def chain(act: Any) -> Any:
        for i in range(len(fields), -1, -1):
            name = names[i]
            try:
                found = _resolve(act, name)
            except KeyError:
                continue
            else:
                value = to_cel(found)
                rest = fields[i:]
                break
        else:
            value = _undeclared(root)
            rest = fields
        for field in rest:
            value = select(value, field)
            if type(value) is CelError:
                return value
        return value

    return chain


# --------------------------------------------------------------------------- calls


def _function_call(function: str, args: list[_Compiled], receiver: bool) -> _Compiled:
    call = lib.call
    runs = tuple(arg.run for arg in args)
    table = lib.FUNCTIONS.get((function, len(args) - (1 if receiver else 0), receiver))
    if table is None:
        def unknown(act: Any) -> Any:
            return call(function, tuple([run(act) for run in runs]), receiver)

        return _Compiled(unknown)
    fn = table
    if all(arg.constant for arg in args):
        return _const(call(function, tuple(arg.value for arg in args), receiver))
    if len(runs) == 1:
        (only,) = runs

        def call1(act: Any) -> Any:
            a = only(act)
            if type(a) is CelError:
                return a
            return fn(a)

        return _Compiled(call1)
    if len(runs) == 2:
        first, second = runs

        def call2(act: Any) -> Any:
            a = first(act)
            b = second(act)
            if type(a) is CelError:
                return a
            if type(b) is CelError:
                return b
            return fn(a, b)

        return _Compiled(call2)

    def call_n(act: Any) -> Any:
        values = [run(act) for run in runs]
        for value in values:
            if type(value) is CelError:
                return value
        return fn(*values)

    return _Compiled(call_n)


_STRING_METHODS = lib.STRING_PREDICATES


def _string_method(function: str, target: Closure, argument: str) -> _Compiled:
    method = _STRING_METHODS[function]
    slow = lib.FUNCTIONS[(function, 1, True)]

    def string_method(act: Any) -> Any:
        value = target(act)
        if type(value) is str:
            return method(value, argument)
        if type(value) is CelError:
            return value
        return slow(value, argument)

    return _Compiled(string_method)


def _logical(function: str, absorbing: bool) -> Callable[[_Compiled, _Compiled], _Compiled]:
    """``&&`` (``absorbing=False``) or ``||`` (``True``): the absorbing value on either side
    decides, whatever the other side is, errors included; otherwise an error is the answer."""
    identity = not absorbing

    def build(left: _Compiled, right: _Compiled) -> _Compiled:
        a_run = left.run
        b_run = right.run
        no_overload = lib.no_overload

        def logical(act: Any) -> Any:
            a = a_run(act)
            if a is absorbing:
                return absorbing
            b = b_run(act)
            if a is identity:
                if b is True or b is False or type(b) is CelError:
                    return b
                return no_overload(function, a, b)
            if b is absorbing:
                return absorbing
            if type(a) is CelError:
                return a
            if type(b) is CelError:  # a non-bool beside an error: the error, as cel-go reports
                return b
            return no_overload(function, a, b)

        return _Compiled(logical)

    return build


def _conditional(condition: _Compiled, then: _Compiled, otherwise: _Compiled) -> _Compiled:
    c_run = condition.run
    t_run = then.run
    o_run = otherwise.run
    no_overload = lib.no_overload

    def conditional(act: Any) -> Any:
        c = c_run(act)
        if c is True:
            return t_run(act)
        if c is False:
            return o_run(act)
        if type(c) is CelError:
            return c
        return no_overload("_?_:_", c)

    return _Compiled(conditional)


def _logical_not(operand: _Compiled) -> _Compiled:
    run = operand.run
    slow = lib.logical_not

    def logical_not(act: Any) -> Any:
        a = run(act)
        if a is True:
            return False
        if a is False:
            return True
        if type(a) is CelError:
            return a
        return slow(a)

    return _Compiled(logical_not)


def _equality(negated: bool) -> Callable[[_Compiled, _Compiled], _Compiled]:
    equals = lib.not_equals if negated else lib.equals

    def build(left: _Compiled, right: _Compiled) -> _Compiled:
        if left.constant and right.constant:
            return _const(equals(left.value, right.value))
        if right.constant and type(right.value) in _SIMPLE:
            return _compare_constant(left.run, right.value, equals, negated)
        if left.constant and type(left.value) in _SIMPLE:
            return _compare_constant(right.run, left.value, equals, negated)
        a_run = left.run
        b_run = right.run
        simple = _SIMPLE

        if negated:
            def not_equal(act: Any) -> Any:
                a = a_run(act)
                b = b_run(act)
                if type(a) is type(b) and type(a) in simple:
                    return a != b
                return equals(a, b)

            return _Compiled(not_equal)

        def equal(act: Any) -> Any:
            a = a_run(act)
            b = b_run(act)
            if type(a) is type(b) and type(a) in simple:
                return a == b
            return equals(a, b)

        return _Compiled(equal)

    return build


def _compare_constant(
    run: Closure, constant: Any, equals: Callable[[Any, Any], Any], negated: bool
) -> _Compiled:
    kind = type(constant)

    if negated:
        def not_equal_constant(act: Any) -> Any:
            a = run(act)
            if type(a) is kind:
                return a != constant
            return equals(a, constant)

        return _Compiled(not_equal_constant)

    def equal_constant(act: Any) -> Any:
        a = run(act)
        if type(a) is kind:
            return a == constant
        return equals(a, constant)

    return _Compiled(equal_constant)


_ORDER_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "_<_": operator.lt,
    "_<=_": operator.le,
    "_>_": operator.gt,
    "_>=_": operator.ge,
}


def _ordering(function: str) -> Callable[[_Compiled, _Compiled], _Compiled]:
    slow: Callable[[Any, Any], Any] = lib.FUNCTIONS[(function, 2, False)]
    op = _ORDER_OPERATORS[function]

    def build(left: _Compiled, right: _Compiled) -> _Compiled:
        if left.constant and right.constant:
            return _const(_strict(slow)(left.value, right.value))
        a_run = left.run
        b_run = right.run
        fast = _FAST_ORDER
        if right.constant and type(right.value) in (int, float):
            limit = right.value
            kind = type(limit)

            def order_constant(act: Any) -> Any:
                a = a_run(act)
                if type(a) is kind:
                    return op(a, limit)
                if type(a) is CelError:
                    return a
                return slow(a, limit)

            return _Compiled(order_constant)

        def order(act: Any) -> Any:
            a = a_run(act)
            b = b_run(act)
            if type(a) is type(b) and type(a) in fast:
                return op(a, b)
            if type(a) is CelError:
                return a
            if type(b) is CelError:
                return b
            return slow(a, b)

        return _Compiled(order)

    return build


def _strict(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with CEL's strictness: an error argument is the result."""

    def strict(*args: Any) -> Any:
        for arg in args:
            if type(arg) is CelError:
                return arg
        return function(*args)

    return strict


def _int_arithmetic(function: str) -> Callable[[_Compiled, _Compiled], _Compiled]:
    slow: Callable[[Any, Any], Any] = lib.FUNCTIONS[(function, 2, False)]
    op = {"_+_": operator.add, "_-_": operator.sub, "_*_": operator.mul}[function]
    overflow = lib.error("int_overflow")

    def build(left: _Compiled, right: _Compiled) -> _Compiled:
        if left.constant and right.constant:
            return _const(_strict(slow)(left.value, right.value))
        a_run = left.run
        b_run = right.run

        def arithmetic(act: Any) -> Any:
            a = a_run(act)
            b = b_run(act)
            if type(a) is int and type(b) is int:
                result = op(a, b)
                if _INT64_MIN <= result <= _INT64_MAX:
                    return result
                return overflow
            if type(a) is CelError:
                return a
            if type(b) is CelError:
                return b
            return slow(a, b)

        return _Compiled(arithmetic)

    return build


def _membership(item: _Compiled, container: _Compiled) -> _Compiled:
    contains = lib.contains
    if item.constant and container.constant:
        return _const(contains(item.value, container.value))
    item_run = item.run
    if container.constant and type(container.value) is tuple and container.value and all(
        type(v) is str for v in container.value
    ):
        strings = frozenset(container.value)
        values = container.value

        def in_strings(act: Any) -> Any:
            a = item_run(act)
            if type(a) is str:
                return a in strings
            return contains(a, values)

        return _Compiled(in_strings)
    container_run = container.run

    def membership(act: Any) -> Any:
        return contains(item_run(act), container_run(act))

    return _Compiled(membership)


def _folding(function: str) -> Callable[..., _Compiled]:
    """A plain strict call of the table, folded when every argument is constant."""

    def build(*args: _Compiled) -> _Compiled:
        return _function_call(function, list(args), False)

    return build


_SPECIAL: dict[str, Callable[..., _Compiled]] = {
    "_&&_": _logical("_&&_", False),
    "_||_": _logical("_||_", True),
    "_?_:_": _conditional,
    "!_": _logical_not,
    "_==_": _equality(False),
    "_!=_": _equality(True),
    "_<_": _ordering("_<_"),
    "_<=_": _ordering("_<=_"),
    "_>_": _ordering("_>_"),
    "_>=_": _ordering("_>=_"),
    "_+_": _int_arithmetic("_+_"),
    "_-_": _int_arithmetic("_-_"),
    "_*_": _int_arithmetic("_*_"),
    "@in": _membership,
}


# --------------------------------------------------------------------------- macros


def _comprehension(
    macro: str, target: Closure, variable: str, args: tuple[Closure, ...], max_steps: int
) -> Closure:
    iterate = lib.iterate
    no_overload = lib.no_overload
    limit_error = comprehension_limit_error

    def scope(act: Any) -> tuple[_Scope, list[int]]:
        frame = _Scope()
        frame.outer = act
        budget: list[int] = act.budget
        frame.budget = budget
        return frame, budget

    def step(budget: list[int]) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise limit_error(max_steps)

    if macro in ("all", "exists"):
        (predicate,) = args
        decisive = macro == "exists"  # the value that ends the loop

        def quantifier(act: Any) -> Any:
            items = iterate(target(act))
            if isinstance(items, CelError):
                return items
            frame, budget = scope(act)
            problem: Any = None
            for item in items:
                step(budget)
                frame[variable] = item
                result = predicate(frame)
                if result is decisive:
                    return decisive
                if result is not (not decisive) and problem is None:
                    problem = result if type(result) is CelError else no_overload(macro, result)
            return (not decisive) if problem is None else problem

        return quantifier

    if macro == "exists_one":
        (predicate,) = args

        def exists_one(act: Any) -> Any:
            items = iterate(target(act))
            if isinstance(items, CelError):
                return items
            frame, budget = scope(act)
            count = 0
            for item in items:
                step(budget)
                frame[variable] = item
                result = predicate(frame)
                if result is True:
                    count += 1
                elif result is not False:
                    return result if type(result) is CelError else no_overload(macro, result)
            return count == 1

        return exists_one

    if macro == "filter" or (macro == "map" and len(args) == 2):
        predicate = args[0]
        transform = args[1] if macro == "map" else None

        def filtering(act: Any) -> Any:
            items = iterate(target(act))
            if isinstance(items, CelError):
                return items
            frame, budget = scope(act)
            out = []
            for item in items:
                step(budget)
                frame[variable] = item
                keep = predicate(frame)
                if keep is True:
                    if transform is None:
                        out.append(item)
                    else:
                        value = transform(frame)
                        if type(value) is CelError:
                            return value
                        out.append(value)
                elif keep is not False:
                    return keep if type(keep) is CelError else no_overload(macro, keep)
            return out

        return filtering

    (transform,) = args

    def mapping(act: Any) -> Any:
        items = iterate(target(act))
        if isinstance(items, CelError):
            return items
        frame, budget = scope(act)
        out = []
        for item in items:
            step(budget)
            frame[variable] = item
            value = transform(frame)
            if type(value) is CelError:
                return value
            out.append(value)
        return out

    return mapping


# --------------------------------------------------------------------------- programs


class Program:
    """A compiled CEL expression: immutable, safe to share between threads.

    >>> program = compile_program("event.data.user.id == async.data.user.id")
    >>> sorted(program.variables)
    ['async', 'event']
    >>> program.evaluate({"event": {"data": {"user": {"id": 7}}},
    ...                   "async": {"data": {"user": {"id": 7}}}})
    True
    """

    __slots__ = ("source", "ast", "variables", "_run", "_dotted_names", "_dotted_run",
                 "_scoped", "_max_steps", "_max_depth")

    source: str
    ast: Node
    variables: frozenset[str]
    _run: Closure
    _dotted_names: tuple[str, ...]
    _dotted_run: list[Closure]
    _scoped: bool
    _max_steps: int
    _max_depth: int

    def __init__(self, source: str, ast: Node, max_comprehension_steps: int = 1_000_000,
                 max_depth: int = 250) -> None:
        if max_depth > 250 and height(ast) > MAX_NESTING:  # deeper can only come from here
            raise depth_limit_error(MAX_NESTING)
        free, dotted = free_names(ast, lib.TYPES)
        set_ = object.__setattr__
        set_(self, "source", source)
        set_(self, "ast", ast)
        set_(self, "variables", free)
        set_(self, "_max_steps", max_comprehension_steps)
        set_(self, "_max_depth", max_depth)
        scoped = has_comprehension(ast)
        set_(self, "_scoped", scoped)
        set_(self, "_dotted_names", dotted)
        set_(self, "_dotted_run", [])
        compiler = _Compiler(max_comprehension_steps, False, scoped)
        set_(self, "_run", compiler.compile(ast, frozenset()).run)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Program is immutable")

    def __repr__(self) -> str:
        return f"Program({self.source!r})"

    def __str__(self) -> str:
        return self.source

    def __eq__(self, other: object) -> bool:
        # Equal when they mean the same: the same tree, however the source was spaced.
        if not isinstance(other, Program):
            return NotImplemented
        return self.ast == other.ast

    def __hash__(self) -> int:
        return hash(self.ast)

    def evaluate(self, activation: Mapping[str, object]) -> object:
        """Evaluate with ``activation`` (variable name -> Python value); an error is raised
        as :class:`~inngest_core.errors.EvaluationError`.

        >>> compile_program("a / b").evaluate({"a": 1, "b": 0})
        Traceback (most recent call last):
        ...
        inngest_core.errors.EvaluationError: division by zero
        """
        if type(activation) is dict:
            for key in activation:  # written out: see chain3
                if type(key) is not str:
                    lib.check_keys(activation)
                    break
        elif issubclass(type(activation), Mapping):  # the class is asked, not the object
            activation = lib.plain_mapping(activation)
        else:
            raise TypeError(f"activation must be a mapping, not {type(activation).__name__}")
        run = self._run
        names = self._dotted_names
        if names:
            if type(activation) is dict and len(activation) <= len(names):
                # Cheaper than looking every name up: is any key dotted at all?
                try:
                    for key in activation:
                        if "." in key:
                            run = self._dotted()
                            break
                except TypeError:  # a key that is not a str
                    run = self._dotted()
            elif any(name in activation for name in names):
                run = self._dotted()
        act: Any = activation
        if self._scoped:
            act = _Scope()
            act.outer = activation
            act.budget = [self._max_steps]
        try:
            if self._max_depth > 250:
                with lib.recursion_room(self._max_depth):
                    result = run(act)
                    return result if type(result) in _RESULT_SCALARS else lib.to_python(result)
            result = run(act)
            if type(result) in _RESULT_SCALARS:
                return result
            return lib.to_python(result)
        except RecursionError:  # data, not source, nested past the interpreter's limit
            raise lib.error("value_too_deep").exception() from None

    def matches(self, activation: Mapping[str, object]) -> bool:
        """Does the expression evaluate to exactly ``true``?  Any other value, or an
        evaluation error, is no match (a limit still raises).

        >>> compile_program("a.b == 1").matches({"a": {}})
        False
        """
        try:
            return self.evaluate(activation) is True
        except EvaluationError:
            return False

    def substitute(self, bindings: Mapping[str, object]) -> Program:
        """A program with every selection rooted at a bound variable replaced by the literal
        it selects (see :func:`inngest_core._expr_subst.substitute`).

        >>> compile_program("event.id == async.id").substitute({"event": {"id": 1}}).source
        '1 == async.id'
        """
        from ._expr_subst import substitute, unparse

        ast = substitute(self.ast, bindings)
        deepest = max(self._max_depth, height(ast))  # substituted data can nest deeply
        if deepest > MAX_NESTING:
            raise depth_limit_error(MAX_NESTING)
        with lib.recursion_room(deepest):
            return Program(unparse(ast), ast, self._max_steps, deepest)

    def _dotted(self) -> Closure:
        cache: list[Closure] = self._dotted_run
        if not cache:
            with lib.recursion_room(self._max_depth):
                compiler = _Compiler(self._max_steps, True, self._scoped)
                compiled = compiler.compile(self.ast, frozenset())
            cache.append(compiled.run)
        return cache[0]


_RESULT_SCALARS = frozenset({bool, str, int, float, type(None), bytes, UInt, lib.CelType})


def compile_program(
    source: str,
    *,
    max_source_length: int = 100_000,
    max_depth: int = 250,
    max_comprehension_steps: int = 1_000_000,
) -> Program:
    """Parse and compile CEL ``source`` into a :class:`Program`.

    >>> compile_program('"pro" in plans && size(plans) > 1').evaluate({"plans": ["pro", "free"]})
    True
    """
    # Parsing never recurses, but compiling and evaluating do: at most MAX_NESTING levels.
    max_depth = min(max_depth, MAX_NESTING)
    ast = parse(source, max_source_length=max_source_length, max_depth=max_depth)
    with lib.recursion_room(max_depth):
        return Program(source, ast, max_comprehension_steps, max_depth)


