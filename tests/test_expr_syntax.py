"""The CEL parser, twin by twin: syntax, literals and escapes, macros, errors, limits.

(``test_expr_parse.py`` checks the compiled twin in depth and that the twins agree.)
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

import pytest

from inngest_core.errors import ExpressionLimitError, ExpressionSyntaxError
from twins import Twin


@pytest.fixture
def twin(impl: Twin) -> ModuleType:
    return impl.expr


def c(kind: str, value: Any) -> tuple[Any, ...]:
    return ("const", kind, value)


def ident(name: str) -> tuple[Any, ...]:
    return ("ident", name)


def call(function: str, *args: Any) -> tuple[Any, ...]:
    return ("call", function, tuple(args))


SYNTAX = [
    ("a", ident("a")),
    (".a", ident(".a")),
    ("a.b", ("select", ident("a"), "b")),
    ("a.`b-c`", ("select", ident("a"), "b-c")),
    ("a.`b.c/d e`", ("select", ident("a"), "b.c/d e")),
    ("a.as", ("select", ident("a"), "as")),
    ("a[0]", call("_[_]", ident("a"), c("int", 0))),
    ("f()", call("f", )),
    ("f(1, 2)", call("f", c("int", 1), c("int", 2))),
    (".f(1)", call(".f", c("int", 1))),
    ("a.f(1)", ("method", "f", ident("a"), (c("int", 1),))),
    ("a.while()", ("method", "while", ident("a"), ())),
    ("[]", ("list", ())),
    ("[1, 2,]", ("list", (c("int", 1), c("int", 2)))),
    ("{}", ("map", ())),
    ("{'a': 1,}", ("map", ((c("string", "a"), c("int", 1)),))),
    ("a.B{x: 1}", ("struct", "a.B", (("x", c("int", 1)),))),
    (".a.B{}", ("struct", ".a.B", ())),
    ("T{`x-y`: 1, z: 2,}", ("struct", "T", (("x-y", c("int", 1)), ("z", c("int", 2))))),
    ("(a)", ident("a")),
    ("a ? b : c", call("_?_:_", ident("a"), ident("b"), ident("c"))),
    ("a ? b : c ? d : e",
     call("_?_:_", ident("a"), ident("b"), call("_?_:_", ident("c"), ident("d"), ident("e")))),
    ("a || b || c", call("_||_", call("_||_", ident("a"), ident("b")), ident("c"))),
    ("a && b || c", call("_||_", call("_&&_", ident("a"), ident("b")), ident("c"))),
    ("a || b && c", call("_||_", ident("a"), call("_&&_", ident("b"), ident("c")))),
    ("a < b", call("_<_", ident("a"), ident("b"))),
    ("a <= b", call("_<=_", ident("a"), ident("b"))),
    ("a > b", call("_>_", ident("a"), ident("b"))),
    ("a >= b", call("_>=_", ident("a"), ident("b"))),
    ("a == b", call("_==_", ident("a"), ident("b"))),
    ("a != b", call("_!=_", ident("a"), ident("b"))),
    ("a in b", call("@in", ident("a"), ident("b"))),
    ("a + b * c", call("_+_", ident("a"), call("_*_", ident("b"), ident("c")))),
    ("a - b - c", call("_-_", call("_-_", ident("a"), ident("b")), ident("c"))),
    ("a / b % c", call("_%_", call("_/_", ident("a"), ident("b")), ident("c"))),
    ("a + b == c", call("_==_", call("_+_", ident("a"), ident("b")), ident("c"))),
    ("!a", call("!_", ident("a"))),
    ("!!a", call("!_", call("!_", ident("a")))),
    ("-a", call("-_", ident("a"))),
    ("--a", call("-_", call("-_", ident("a")))),
    ("-5", c("int", -5)),
    ("- 5", c("int", -5)),
    ("--5", call("-_", c("int", -5))),
    ("-(5)", call("-_", c("int", 5))),
    ("!-5", call("!_", c("int", -5))),
    ("-1u", call("-_", c("uint", 1))),
    ("-1.5", c("double", -1.5)),
    ("a -1", call("_-_", ident("a"), c("int", 1))),
    ("a - -1", call("_-_", ident("a"), c("int", -1))),
    ("-1.e5", ("select", c("int", -1), "e5")),
    ("a // comment\n + b", call("_+_", ident("a"), ident("b"))),
    ("has(a.b)", ("has", ident("a"), "b")),
    ("has(a.b.c)", ("has", ("select", ident("a"), "b"), "c")),
    ("has(a.b, c)", call("has", ("select", ident("a"), "b"), ident("c"))),
    ("l.all(x, x)", ("comprehension", "all", ident("l"), "x", (ident("x"),))),
    ("l.exists(x, x)", ("comprehension", "exists", ident("l"), "x", (ident("x"),))),
    ("l.exists_one(x, x)", ("comprehension", "exists_one", ident("l"), "x", (ident("x"),))),
    ("l.filter(x, x)", ("comprehension", "filter", ident("l"), "x", (ident("x"),))),
    ("l.map(x, x)", ("comprehension", "map", ident("l"), "x", (ident("x"),))),
    ("l.map(x, p, x)", ("comprehension", "map", ident("l"), "x", (ident("p"), ident("x")))),
    ("l.all(x)", ("method", "all", ident("l"), (ident("x"),))),
    ("l.map(x, p, x, y)", ("method", "map", ident("l"), (ident("x"), ident("p"), ident("x"), ident("y")))),
]


@pytest.mark.parametrize(("source", "expected"), SYNTAX, ids=[s for s, _ in SYNTAX])
def test_syntax(twin: ModuleType, source: str, expected: tuple[Any, ...]) -> None:
    assert twin.parse(source) == expected


LITERALS = [
    ("0", c("int", 0)),
    ("42", c("int", 42)),
    ("0x1F", c("int", 31)),
    ("-0x10", c("int", -16)),
    ("9223372036854775807", c("int", 9223372036854775807)),
    ("-9223372036854775808", c("int", -9223372036854775808)),
    ("1u", c("uint", 1)),
    ("0x10U", c("uint", 16)),
    ("18446744073709551615u", c("uint", 18446744073709551615)),
    ("1.5", c("double", 1.5)),
    (".5", c("double", 0.5)),
    ("1e3", c("double", 1000.0)),
    ("1.5E-3", c("double", 0.0015)),
    ("2e+2", c("double", 200.0)),
    ("true", c("bool", True)),
    ("false", c("bool", False)),
    ("null", c("null", None)),
    ("'a'", c("string", "a")),
    ('"a"', c("string", "a")),
    ("'''a'b\nc'''", c("string", "a'b\nc")),
    ('"""a"b"""', c("string", 'a"b')),
    ("r'\\n'", c("string", "\\n")),
    ("R'''\\'''", c("string", "\\")),
    ("'\\a\\b\\f\\n\\r\\t\\v\\\\\\'\\\"\\`\\?'", c("string", "\a\b\f\n\r\t\v\\'\"`?")),
    ("'\\x41\\X42'", c("string", "AB")),
    ("'\\101\\377'", c("string", "A\u00ff")),
    ("'\\u00e9\\U0001F600'", c("string", "\u00e9\U0001f600")),
    ("'\u00e9'", c("string", "\u00e9")),
    ("b'abc'", c("bytes", b"abc")),
    ("B'\u00ff'", c("bytes", b"\xc3\xbf")),
    ("b'\\xff\\377\\n'", c("bytes", b"\xff\xff\n")),
    ("br'\\x'", c("bytes", b"\\x")),
    ("Rb'\\x'", c("bytes", b"\\x")),
    ("b'''a\nb'''", c("bytes", b"a\nb")),
]


@pytest.mark.parametrize(("source", "expected"), LITERALS, ids=[s for s, _ in LITERALS])
def test_literal(twin: ModuleType, source: str, expected: tuple[Any, ...]) -> None:
    node = twin.parse(source)
    assert node == expected
    assert type(node[2]) is type(expected[2])


ERRORS = [
    ("", "unexpected end of expression", 1, 1),
    ("1 +", "unexpected end of expression", 1, 4),
    ("1 2", 'unexpected "2"', 1, 3),
    ("a\n  + * b", 'unexpected "*"', 2, 5),
    ("@", 'unexpected character "@"', 1, 1),
    ("a = b", 'unexpected character "="', 1, 3),
    ("'abc", "unterminated string literal", 1, 1),
    ("x + b'abc\ndef'", "unterminated string literal", 1, 6),
    ("'''abc", "unterminated string literal", 1, 1),
    ("'a\\qb'", 'invalid escape sequence "\\\\q"', 1, 3),
    ("'\\x4'", 'invalid escape sequence "\\\\x"', 1, 2),
    ("'\\400'", 'invalid escape sequence "\\\\4"', 1, 2),
    ("'\\ud800'", 'invalid code point in escape sequence "\\\\ud800"', 1, 2),
    ("'\\U00110000'", 'invalid code point in escape sequence "\\\\U00110000"', 1, 2),
    ("b'\\u0041'", 'invalid escape sequence "\\\\u"', 1, 3),
    ("9223372036854775808", "int literal out of range", 1, 1),
    ("-9223372036854775809", "int literal out of range", 1, 2),
    ("18446744073709551616u", "uint literal out of range", 1, 1),
    ("as", 'reserved identifier "as"', 1, 1),
    ("a + while", 'reserved identifier "while"', 1, 5),
    ("if(1)", 'reserved identifier "if"', 1, 1),
    ("for x in y", 'reserved identifier "for"', 1, 1),
    (".var", 'reserved identifier "var"', 1, 2),
    ("a.in", 'unexpected "in"', 1, 3),
    ("a.true()", 'unexpected "true"', 1, 3),
    ("`a`", 'unexpected "`a`"', 1, 1),
    ("a.`b", 'unexpected character "`"', 1, 3),
    ("a.`b`()", 'unexpected "("', 1, 6),
    ("x.5", 'unexpected ".5"', 1, 2),
    ("has(a)", "invalid argument to has() macro", 1, 1),
    ("l.all(x.y, true)", "the first argument of all() must be a simple name", 1, 3),
    ("l.map(1, 2, 3)", "the first argument of map() must be a simple name", 1, 3),
    ("(a.b){}", 'unexpected "{"', 1, 6),
    ("f(1,)", 'unexpected ")"', 1, 5),
    ("[,]", 'unexpected ","', 1, 2),
    ("a ? b ? c : d : e", 'unexpected "?"', 1, 7),
    ("-!a", 'unexpected "!"', 1, 2),
]


@pytest.mark.parametrize(("source", "what", "line", "column"), ERRORS, ids=[e[0] for e in ERRORS])
def test_syntax_error(twin: ModuleType, source: str, what: str, line: int, column: int) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        twin.parse(source)
    error = info.value
    assert isinstance(error, ValueError)
    assert (error.line, error.column) == (line, column)
    first, snippet, caret = str(error).split("\n")
    assert first == f"{what} at line {line}, column {column}"
    assert snippet == "  " + source.split("\n")[line - 1]
    assert caret == "  " + " " * (column - 1) + "^"


def test_error_message_shape(twin: ModuleType) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        twin.parse("event.data.id ==")
    assert str(info.value) == (
        "unexpected end of expression at line 1, column 17\n"
        "  event.data.id ==\n"
        "                  ^"
    )


def test_source_must_be_str(twin: ModuleType) -> None:
    with pytest.raises(TypeError):
        twin.parse(b"1")


# ------------------------------------------------------------------ limits


def test_depth_counts_the_tree_as_written(twin: ModuleType) -> None:
    twin.parse("(" * 249 + "1" + ")" * 249)
    with pytest.raises(ExpressionLimitError, match="nests deeper than the limit of 250"):
        twin.parse("(" * 250 + "1" + ")" * 250)
    twin.parse("+".join(["1"] * 250))
    with pytest.raises(ExpressionLimitError):
        twin.parse("+".join(["1"] * 251))
    twin.parse("!" * 249 + "true")
    with pytest.raises(ExpressionLimitError):
        twin.parse("!" * 250 + "true")
    twin.parse("a" + ".b" * 249)
    with pytest.raises(ExpressionLimitError):
        twin.parse("a" + ".b" * 250)
    assert twin.parse("((1))", max_depth=3) == c("int", 1)
    with pytest.raises(ExpressionLimitError):
        twin.parse("((1))", max_depth=2)


def test_source_length_limit(twin: ModuleType) -> None:
    twin.parse("1" + " " * 99_999)
    with pytest.raises(ExpressionLimitError, match="100001 characters long; the limit is 100000"):
        twin.parse("1" + " " * 100_000)
    with pytest.raises(ExpressionLimitError):
        twin.parse("1 + 1", max_source_length=4)


HUGE = {
    "chain": "+".join(["1"] * 250_000),
    "parens": "(" * 100_000 + "1" + ")" * 100_000,
    "string": '"' + "x" * 1_000_000 + '"',
}


@pytest.mark.parametrize("name", sorted(HUGE))
@pytest.mark.parametrize("raised", [False, True], ids=["default", "raised"])
def test_huge_inputs_answer_fast(twin: ModuleType, name: str, raised: bool) -> None:
    # A guard against hangs and quadratic work with a generous bound (a shared machine); the
    # speed itself is measured by the bench rows.
    source = HUGE[name]
    limits = {"max_source_length": 10**7} if raised else {}
    start = time.perf_counter()
    try:
        node = twin.parse(source, **limits)
    except ExpressionLimitError:
        pass
    else:
        assert raised and name == "string"
        assert node == c("string", "x" * 1_000_000)
    assert time.perf_counter() - start < 5.0
