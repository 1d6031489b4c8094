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

import re
import threading
from typing import Any

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from ._expr_ast import Node
from .errors import (
    ExpressionSyntaxError,
    depth_limit_error,
    show,
    source_length_error,
    syntax_error,
)

__all__ = ["parse"]

RESERVED = frozenset(
    {
        "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let",
        "loop", "package", "namespace", "return", "var", "void", "while",
    }
)
_COMPREHENSIONS = frozenset({"all", "exists", "exists_one", "filter"})

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


def _integer(token: Token) -> int:
    """The value of an INT, NEG_INT or UINT token; an error if it is out of range."""
    if token.type == "UINT":
        digits = str(token)[:-1]
        value = int(digits[2:], 16) if digits.startswith("0x") else int(digits)
        if value > _UINT64_MAX:
            raise _fail("uint literal out of range", token.start_pos or 0)
        return value
    digits, at = _digits_offset(token)
    negative = str(token).startswith("-")
    value = int(digits[2:], 16) if digits.startswith("0x") else int(digits)
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


_LEXER_CALLBACKS = {
    "IDENT": _on_ident,
    "DOT": _on_dot,
    "NAME": _on_name,
    "MESSAGE_LBRACE": _on_message_brace,
    **dict.fromkeys(
        ["QUOTED_IDENT", "INT", "NEG_INT", "UINT", "DOUBLE", "NEG_DOUBLE", "STRING", "BYTES",
         "TRUE", "FALSE", "NULL", "RPAR", "RSQB", "RBRACE"],
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
_WORDS = frozenset({"IDENT", "NAME"})
_PREFIXES = frozenset({"r", "R", "b", "B", "br", "bR", "Br", "BR", "rb", "rB", "Rb", "RB"})
_DOT_NUMBER = re.compile(r"\.[0-9]+(?:[eE][+-]?[0-9]+)?")


def _lark_error(source: str, error: UnexpectedInput) -> Exception:
    """Our syntax error for a Lark error, in the compiled twin's words where it can."""
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
        return syntax_error("unexpected " + show(text), source, offset)
    offset = error.pos_in_stream or 0
    char = source[offset : offset + 1]
    quote = offset
    while quote < len(source) and quote - offset < 2 and source[quote] in "rRbB":
        quote += 1
    if source[quote : quote + 1] in _STRING_STARTS:
        return syntax_error("unterminated string literal", source, quote)
    return syntax_error("unexpected character " + show(char), source, offset)


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
    context = _context
    saved = (context.source, context.max_depth, context.chain)
    context.source = source
    context.max_depth = max_depth
    context.chain = 0
    try:
        item: _Item = parser.parse(source)  # type: ignore[assignment]
    except UnexpectedInput as error:
        raise _lark_error(source, error) from None
    finally:
        context.source, context.max_depth, context.chain = saved
    return item[0]
