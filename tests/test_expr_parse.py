"""The CEL parsers: the compiled twin's exact trees and errors, and agreement between twins.

Each twin's parser (``parse``, from the ``impl`` fixture) is checked against hand-written trees,
against a random tree generator that renders its trees to source, and against every expression
of the cel-spec conformance files (the repository's copy, ``tests/cel-spec/``).  Where both
twins are under test they must give the same tree (or the same error type at the same line and
column) on all of that input.
"""

from __future__ import annotations

import glob
import json
import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inngest_core.errors import ExpressionLimitError, ExpressionSyntaxError
from twins import SKIP_COMPILED, Twin

CONFORMANCE = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "cel-spec", "*.json")))


def conformance_expressions(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return [test["expr"] for section in data.get("section", []) for test in section.get("test", [])]


@pytest.fixture(scope="session")
def parse(impl):
    """The parser of the twin under test."""
    return impl.expr.parse


@pytest.fixture(scope="session")
def c_parse():
    """For the agreement tests: the compiled twin's parser (beside ``py_parse``)."""
    if SKIP_COMPILED:
        pytest.skip(SKIP_COMPILED)
    return Twin("c").expr.parse


@pytest.fixture(scope="session")
def py_parse():
    return Twin("py").expr.parse


def outcome(parse_fn, source: str, **limits):
    """What a parser makes of ``source``: ("ok", repr of the tree) or (error type, line, column).

    ``repr`` keeps ``-0.0`` apart from ``0.0`` and ``True`` apart from ``1``."""
    try:
        return ("ok", repr(parse_fn(source, **limits)))
    except ExpressionSyntaxError as exc:
        return ("ExpressionSyntaxError", exc.line, exc.column)
    except ExpressionLimitError:
        return ("ExpressionLimitError",)


I = lambda v: ("const", "int", v)  # noqa: E731
U = lambda v: ("const", "uint", v)  # noqa: E731
D = lambda v: ("const", "double", v)  # noqa: E731
S = lambda v: ("const", "string", v)  # noqa: E731
B = lambda v: ("const", "bytes", v)  # noqa: E731
X = lambda n: ("ident", n)  # noqa: E731
TRUE = ("const", "bool", True)
FALSE = ("const", "bool", False)
NULL = ("const", "null", None)


def call(fn, *args):
    return ("call", fn, tuple(args))


def sel(operand, *fields):
    for field in fields:
        operand = ("select", operand, field)
    return operand


# --------------------------------------------------------------------------- exact trees

TREES = [
    # literals
    ("0", I(0)),
    ("007", I(7)),
    ("42", I(42)),
    ("-42", I(-42)),
    ("- 42", I(-42)),
    ("9223372036854775807", I(9223372036854775807)),
    ("-9223372036854775808", I(-9223372036854775808)),
    ("0x1F", I(31)),
    ("0xff", I(255)),
    ("-0x8000000000000000", I(-9223372036854775808)),
    ("0x7fffffffffffffff", I(9223372036854775807)),
    ("1u", U(1)),
    ("1U", U(1)),
    ("0x1Fu", U(31)),
    ("18446744073709551615u", U(18446744073709551615)),
    ("0xffffffffffffffffU", U(18446744073709551615)),
    ("1.5", D(1.5)),
    ("-1.5", D(-1.5)),
    ("1e3", D(1000.0)),
    ("1E3", D(1000.0)),
    ("1e+3", D(1000.0)),
    ("2.5e-3", D(0.0025)),
    (".5", D(0.5)),
    (".5e1", D(5.0)),
    ("-.5", D(-0.5)),
    ("0.0", D(0.0)),
    ("1e400", D(float("inf"))),
    ("true", TRUE),
    ("false", FALSE),
    ("null", NULL),
    # strings
    ("'a'", S("a")),
    ('"a"', S("a")),
    ("''", S("")),
    ("'''a\n'b'''", S("a\n'b")),
    ('"""x""y"""', S('x""y')),
    ("'''x''x'''", S("x''x")),
    ("'\"\"'", S('""')),
    (r'"\""', S('"')),
    (r'"\\"', S("\\")),
    (r'r"\\"', S("\\\\")),
    (r"R'\n'", S("\\n")),
    (r"r'''a\'''", S("a\\")),
    (r'" \a \b \f \n \r \t \v \\ \' \" \` \? "', S(" \a \b \f \n \r \t \v \\ ' \" ` ? ")),
    (r'"\x41\X42"', S("AB")),
    (r'"\xFF"', S("\xff")),
    (r'"\u00e9\u00E9"', S("éé")),
    (r'"\U0001F600"', S("\U0001f600")),
    (r'"\101\000\377"', S("A\x00\xff")),
    (r'"\303\277"', S("\xc3\xbf")),
    ("'ÿ ☃ 😀'", S("ÿ ☃ 😀")),
    # bytes
    ('b"abc"', B(b"abc")),
    ('B"abc"', B(b"abc")),
    ('b"ÿ"', B(b"\xc3\xbf")),
    (r'b"\303\277"', B(b"\xc3\xbf")),
    (r'b"\377"', B(b"\xff")),
    (r'b"\xFF\x00"', B(b"\xff\x00")),
    (r'b"\n\t\\"', B(b"\n\t\\")),
    (r"b'''a\''''", B(b"a'")),
    (r'br"\x"', B(b"\\x")),
    (r'bR"\x"', B(b"\\x")),
    (r'rb"\x"', B(b"\\x")),
    (r"Rb'\377'", B(b"\\377")),
    # identifiers and selection
    ("x", X("x")),
    ("_x1", X("_x1")),
    (".x", X(".x")),
    (". x", X(".x")),
    ("a.b.c", sel(X("a"), "b", "c")),
    (".a.b", sel(X(".a"), "b")),
    ("a.`b-c`", sel(X("a"), "b-c")),
    ("a.`b.c/d e_1`", sel(X("a"), "b.c/d e_1")),
    ("a.if", sel(X("a"), "if")),
    ("a . b", sel(X("a"), "b")),
    ("1.e3", sel(I(1), "e3")),
    ("-1.abs()", ("method", "abs", I(-1), ())),
    ("inx", X("inx")),
    ("trueish", X("trueish")),
    # indexing, calls, methods
    ("a[0]", call("_[_]", X("a"), I(0))),
    ("a[0][b]", call("_[_]", call("_[_]", X("a"), I(0)), X("b"))),
    ("f()", call("f", )),
    ("f(1, 2)", call("f", I(1), I(2))),
    (".f(1)", call(".f", I(1))),
    ("a.f()", ("method", "f", X("a"), ())),
    ("a.b.f(x).g[1]", call("_[_]", sel(("method", "f", sel(X("a"), "b"), (X("x"),)), "g"), I(1))),
    ("a.if(1)", ("method", "if", X("a"), (I(1),))),
    ("size(x)", call("size", X("x"))),
    # literals of aggregates
    ("[]", ("list", ())),
    ("[1]", ("list", (I(1),))),
    ("[1, 2,]", ("list", (I(1), I(2)))),
    ("{}", ("map", ())),
    ("{1: 'a', x: y,}", ("map", ((I(1), S("a")), (X("x"), X("y"))))),
    ("{a ? b : c : d}", ("map", ((call("_?_:_", X("a"), X("b"), X("c")), X("d")),))),
    ("T{}", ("struct", "T", ())),
    ("T{f: 1, `g-h`: 2,}", ("struct", "T", (("f", I(1)), ("g-h", I(2))))),
    (".a.b.T{if: x}", ("struct", ".a.b.T", (("if", X("x")),))),
    ("a.T{}.f", sel(("struct", "a.T", ()), "f")),
    ("-T{}", call("-_", ("struct", "T", ()))),
    ("[[], {}, [[1]]]", ("list", (("list", ()), ("map", ()), ("list", (("list", (I(1),)),))))),
    # unary
    ("!x", call("!_", X("x"))),
    ("!!x", call("!_", call("!_", X("x")))),
    ("-x", call("-_", X("x"))),
    ("--x", call("-_", call("-_", X("x")))),
    ("--1", call("-_", I(-1))),
    ("-(1)", call("-_", I(1))),
    ("-1u", call("-_", U(1))),
    ("!-1", call("!_", I(-1))),
    ("!true", call("!_", TRUE)),
    ("-x.y", call("-_", sel(X("x"), "y"))),
    ("!(a)", call("!_", X("a"))),
    ("-(x)[0]", call("-_", call("_[_]", X("x"), I(0)))),
    # binary
    ("1 + 2 * 3", call("_+_", I(1), call("_*_", I(2), I(3)))),
    ("1 - 2 - 3", call("_-_", call("_-_", I(1), I(2)), I(3))),
    ("1 -1", call("_-_", I(1), I(1))),
    ("1 - -1", call("_-_", I(1), I(-1))),
    ("a / b % c", call("_%_", call("_/_", X("a"), X("b")), X("c"))),
    ("(1 + 2) * 3", call("_*_", call("_+_", I(1), I(2)), I(3))),
    ("a < b == c", call("_==_", call("_<_", X("a"), X("b")), X("c"))),
    ("a <= b", call("_<=_", X("a"), X("b"))),
    ("a >= b", call("_>=_", X("a"), X("b"))),
    ("a > b", call("_>_", X("a"), X("b"))),
    ("a != b", call("_!=_", X("a"), X("b"))),
    ("a in b", call("@in", X("a"), X("b"))),
    ("a + 1 in [2]", call("@in", call("_+_", X("a"), I(1)), ("list", (I(2),)))),
    ("a && b || c && d", call("_||_", call("_&&_", X("a"), X("b")), call("_&&_", X("c"), X("d")))),
    ("a || b || c", call("_||_", call("_||_", X("a"), X("b")), X("c"))),
    ("a && b && c", call("_&&_", call("_&&_", X("a"), X("b")), X("c"))),
    ("!a && -b < c", call("_&&_", call("!_", X("a")), call("_<_", call("-_", X("b")), X("c")))),
    # ternary
    ("a ? b : c", call("_?_:_", X("a"), X("b"), X("c"))),
    ("a ? b : c ? d : e", call("_?_:_", X("a"), X("b"), call("_?_:_", X("c"), X("d"), X("e")))),
    ("a || b ? c && d : e || f",
     call("_?_:_", call("_||_", X("a"), X("b")), call("_&&_", X("c"), X("d")),
          call("_||_", X("e"), X("f")))),
    ("(a ? b : c) ? d : e", call("_?_:_", call("_?_:_", X("a"), X("b"), X("c")), X("d"), X("e"))),
    ("a ? (b ? c : d) : e", call("_?_:_", X("a"), call("_?_:_", X("b"), X("c"), X("d")), X("e"))),
    ("[a ? b : c, d]", ("list", (call("_?_:_", X("a"), X("b"), X("c")), X("d")))),
    # macros
    ("has(a.b)", ("has", X("a"), "b")),
    ("has(a.b.c)", ("has", sel(X("a"), "b"), "c")),
    ("has((a.b))", ("has", X("a"), "b")),
    ("has(a.`b-c`)", ("has", X("a"), "b-c")),
    ("has()", call("has")),
    ("has(a, b)", call("has", X("a"), X("b"))),
    ("a.has(b)", ("method", "has", X("a"), (X("b"),))),
    (".has(a)", call(".has", X("a"))),
    ("l.all(x, x > 0)", ("comprehension", "all", X("l"), "x", (call("_>_", X("x"), I(0)),))),
    ("l.exists(x, x)", ("comprehension", "exists", X("l"), "x", (X("x"),))),
    ("l.exists_one(x, x)", ("comprehension", "exists_one", X("l"), "x", (X("x"),))),
    ("l.filter(x, x)", ("comprehension", "filter", X("l"), "x", (X("x"),))),
    ("l.map(x, x * 2)", ("comprehension", "map", X("l"), "x", (call("_*_", X("x"), I(2)),))),
    ("l.map(x, x < 1, x)", ("comprehension", "map", X("l"), "x", (call("_<_", X("x"), I(1)), X("x")))),
    ("l.all(x)", ("method", "all", X("l"), (X("x"),))),
    ("l.map(x, y, z, w)", ("method", "map", X("l"), (X("x"), X("y"), X("z"), X("w")))),
    ("all(x, y)", call("all", X("x"), X("y"))),
    ("[1].all(x, [2].exists(y, x < y))",
     ("comprehension", "all", ("list", (I(1),)), "x",
      (("comprehension", "exists", ("list", (I(2),)), "y", (call("_<_", X("x"), X("y")),)),))),
    # whitespace and comments
    (" \t\n\r\f1 \n", I(1)),
    ("a // comment\n + b // another", call("_+_", X("a"), X("b"))),
    ("// only a comment\n1", I(1)),
    ("1 // comment without a newline", I(1)),
    ("a /b", call("_/_", X("a"), X("b"))),
]


@pytest.mark.parametrize("source, tree", TREES, ids=[repr(s) for s, _ in TREES])
def test_tree(parse, source, tree):
    assert repr(parse(source)) == repr(tree)


def test_s1(parse):
    assert parse("event.data.user.id == async.data.user.id") == call(
        "_==_", sel(X("event"), "data", "user", "id"), sel(X("async"), "data", "user", "id"))


def test_identifiers_are_shared(c_parse):
    # The compiled parser interns identifiers (memory per stored program); Lark's tokens are not.
    a = c_parse("some_long_name_x + some_long_name_x")
    assert a[2][0][1] is a[2][1][1]


def test_big_string_literal(parse):
    body = "x" * (1 << 20)
    assert parse('"' + body + '"', max_source_length=1 << 21) == S(body)
    assert parse(r'"\n' + body + '"', max_source_length=1 << 21) == S("\n" + body)
    assert parse('b"' + body + '"', max_source_length=1 << 21) == B(body.encode())


# --------------------------------------------------------------------------- exact errors

ERRORS = [
    ("", 1, 1, "unexpected end of expression"),
    ("   ", 1, 4, "unexpected end of expression"),
    ("a +", 1, 4, "unexpected end of expression"),
    ("(a", 1, 3, "unexpected end of expression"),
    ("a)", 1, 2, 'unexpected ")"'),
    ("a b", 1, 3, 'unexpected "b"'),
    ("a\n  + )", 2, 5, 'unexpected ")"'),
    ("()", 1, 2, 'unexpected ")"'),
    ("f(1,)", 1, 5, 'unexpected ")"'),
    ("f(,)", 1, 3, 'unexpected ","'),
    ("[,]", 1, 2, 'unexpected ","'),
    ("[1,,]", 1, 4, 'unexpected ","'),
    ("{1}", 1, 3, 'unexpected "}"'),
    ("{1:}", 1, 4, 'unexpected "}"'),
    ("{1: 2: 3}", 1, 6, 'unexpected ":"'),
    ("{,}", 1, 2, 'unexpected ","'),
    ("a[]", 1, 3, 'unexpected "]"'),
    ("a[1, 2]", 1, 4, 'unexpected ","'),
    ("(1, 2)", 1, 3, 'unexpected ","'),
    ("a ? b ? c : d : e", 1, 7, 'unexpected "?"'),
    ("a ? b", 1, 6, "unexpected end of expression"),
    ("a : b", 1, 3, 'unexpected ":"'),
    ("a ? b : c : d", 1, 11, 'unexpected ":"'),
    ("1.", 1, 3, "unexpected end of expression"),
    ("1..5", 1, 3, 'unexpected ".5"'),
    ("1e", 1, 2, 'unexpected "e"'),
    ("0x", 1, 2, 'unexpected "x"'),
    ("0X1", 1, 2, 'unexpected "X1"'),
    ("1.5u", 1, 4, 'unexpected "u"'),
    ("a.5", 1, 2, 'unexpected ".5"'),
    ("a.", 1, 3, "unexpected end of expression"),
    ("a.in", 1, 3, 'unexpected "in"'),
    ("a.true", 1, 3, 'unexpected "true"'),
    ("a.1", 1, 2, 'unexpected ".1"'),
    ("a.`b`()", 1, 6, 'unexpected "("'),
    ("`a`", 1, 1, 'unexpected "`a`"'),
    ("a.``", 1, 3, 'unexpected character "`"'),
    ("a.`b", 1, 3, 'unexpected character "`"'),
    ("a.`b+c`", 1, 3, 'unexpected character "`"'),
    ("(a).b{}", 1, 6, 'unexpected "{"'),
    ("f(){}", 1, 4, 'unexpected "{"'),
    ("a.`b`{}", 1, 6, 'unexpected "{"'),
    ("T{}{}", 1, 4, 'unexpected "{"'),
    ("T{1: 2}", 1, 3, 'unexpected "1"'),
    ("T{a}", 1, 4, 'unexpected "}"'),
    ("T{a: 1,,}", 1, 8, 'unexpected ","'),
    ("T{in: 1}", 1, 3, 'unexpected "in"'),
    ("x{", 1, 3, "unexpected end of expression"),
    ("-!x", 1, 2, 'unexpected "!"'),
    ("!-x", 1, 2, 'unexpected "-"'),
    ("!!-(1)", 1, 3, 'unexpected "-"'),
    ("!", 1, 2, "unexpected end of expression"),
    ("1 = 2", 1, 3, 'unexpected character "="'),
    ("a & b", 1, 3, 'unexpected character "&"'),
    ("a | b", 1, 3, 'unexpected character "|"'),
    ("#", 1, 1, 'unexpected character "#"'),
    ("a\n\n  é", 3, 3, 'unexpected character "é"'),
    ("1 2", 1, 3, 'unexpected "2"'),
    ("(a)(b)", 1, 4, 'unexpected "("'),
    ("a.?b", 1, 3, 'unexpected "?"'),
    ("[?a]", 1, 2, 'unexpected "?"'),
    ("x'a'", 1, 2, "unexpected \"'a'\""),
    # reserved words
    ("if", 1, 1, 'reserved identifier "if"'),
    ("a + while", 1, 5, 'reserved identifier "while"'),
    (".package", 1, 2, 'reserved identifier "package"'),
    ("return(1)", 1, 1, 'reserved identifier "return"'),
    ("in", 1, 1, 'unexpected "in"'),
    # number ranges
    ("9223372036854775808", 1, 1, "int literal out of range"),
    ("-9223372036854775809", 1, 2, "int literal out of range"),
    ("- 9223372036854775809", 1, 3, "int literal out of range"),
    ("-(9223372036854775808)", 1, 3, "int literal out of range"),
    ("0x8000000000000000", 1, 1, "int literal out of range"),
    ("99999999999999999999999", 1, 1, "int literal out of range"),
    ("18446744073709551616u", 1, 1, "uint literal out of range"),
    ("0x10000000000000000u", 1, 1, "uint literal out of range"),
    # strings
    ('"abc', 1, 1, "unterminated string literal"),
    ("x + 'ab\nc'", 1, 5, "unterminated string literal"),
    ("'''abc''", 1, 1, "unterminated string literal"),
    ("r'a\rb'", 1, 2, "unterminated string literal"),
    ('br"abc', 1, 3, "unterminated string literal"),
    (r'"\q"', 1, 2, r'invalid escape sequence "\\q"'),
    (r'"ab\8"', 1, 4, r'invalid escape sequence "\\8"'),
    (r'"\400"', 1, 2, r'invalid escape sequence "\\4"'),
    (r'"\12"', 1, 2, r'invalid escape sequence "\\1"'),
    (r'"\xG0"', 1, 2, r'invalid escape sequence "\\x"'),
    (r'"\u12"', 1, 2, r'invalid escape sequence "\\u"'),
    (r'"\uD800"', 1, 2, r'invalid code point in escape sequence "\\uD800"'),
    (r'"\uDFFF"', 1, 2, r'invalid code point in escape sequence "\\uDFFF"'),
    (r'"\U00110000"', 1, 2, r'invalid code point in escape sequence "\\U00110000"'),
    (r'b"\u0041"', 1, 3, r'invalid escape sequence "\\u"'),
    (r'b"\U00000041"', 1, 3, r'invalid escape sequence "\\U"'),
    # macros
    ("has(a)", 1, 1, "invalid argument to has() macro"),
    ("has(a[0])", 1, 1, "invalid argument to has() macro"),
    ("x + has(1)", 1, 5, "invalid argument to has() macro"),
    ("l.all(1, x)", 1, 3, "the first argument of all() must be a simple name"),
    ("l.map(a.b, x)", 1, 3, "the first argument of map() must be a simple name"),
    ("l.filter(f(x), x)", 1, 3, "the first argument of filter() must be a simple name"),
    # an error in building an operand waits for the next token, as in an LALR parser: if that
    # token cannot follow an operand, it is the error
    ("99999999999999999999 x", 1, 22, 'unexpected "x"'),
    ("99999999999999999999 + x", 1, 1, "int literal out of range"),
    (r'"\q" 1', 1, 6, 'unexpected "1"'),
    (r'"\q"]', 1, 2, r'invalid escape sequence "\\q"'),
    ("has(a) b", 1, 8, 'unexpected "b"'),
    ("has(a).b", 1, 1, "invalid argument to has() macro"),
    (r'"\q"{}', 1, 5, 'unexpected "{"'),
]


@pytest.mark.parametrize("source, line, column, what", ERRORS, ids=[repr(e[0]) for e in ERRORS])
def test_error(parse, source, line, column, what):
    with pytest.raises(ExpressionSyntaxError) as info:
        parse(source)
    exc = info.value
    assert (exc.line, exc.column) == (line, column)
    assert exc.source == source
    first = str(exc).splitlines()[0]
    assert first == f"{what} at line {line}, column {column}"


def test_error_message_shows_caret(parse):
    with pytest.raises(ExpressionSyntaxError) as info:
        parse("a &&\n  b +* c")
    assert str(info.value) == 'unexpected "*" at line 2, column 6\n    b +* c\n       ^'
    assert isinstance(info.value, ValueError)


def test_error_message_cuts_long_lines(parse):
    source = "x + " * 1000 + ")"
    with pytest.raises(ExpressionSyntaxError) as info:
        parse(source, max_depth=10_000)
    message = str(info.value)
    assert info.value.column == 4001
    assert len(message) < 200
    snippet, caret = message.splitlines()[1:]
    assert snippet[caret.index("^")] == ")"


def test_source_must_be_str(parse):
    with pytest.raises(TypeError):
        parse(b"1")


# --------------------------------------------------------------------------- limits


def test_source_length_limit(parse):
    parse("1" + " " * 99_999)
    with pytest.raises(ExpressionLimitError, match="100001 characters long; the limit is 100000"):
        parse("1" + " " * 100_000)
    assert parse("1 + 1", max_source_length=5) == call("_+_", I(1), I(1))
    with pytest.raises(ExpressionLimitError):
        parse("1 + 1", max_source_length=4)


@pytest.mark.parametrize("make", [
    lambda k: "(" * (k - 1) + "1" + ")" * (k - 1),
    lambda k: "[" * (k - 1) + "[]" + "]" * (k - 1),
    lambda k: "{1: " * (k - 1) + "1" + "}" * (k - 1),
    lambda k: "!" * (k - 1) + "x",
    lambda k: "-" * (k - 1) + "x",
    lambda k: "x" + ".f" * (k - 1),
    lambda k: "x" + "[0]" * (k - 1),
    lambda k: "f(" * (k - 1) + "f()" + ")" * (k - 1),
    lambda k: "x" + " + x" * (k - 1),
    lambda k: "x" + " || x" * (k - 1),
    lambda k: "x" + " ? x : x" * (k - 1),
    lambda k: "x" + ".f()" * (k - 1),
], ids=["parens", "lists", "maps", "not", "neg", "select", "index", "calls", "plus", "or",
        "ternary", "methods"])
def test_depth_limit(parse, make):
    """Each source has height exactly ``k``: it passes at max_depth k and fails at k - 1."""
    for k in (1, 2, 3, 10, 250):
        source = make(k)
        parse(source, max_depth=k)
        if k > 1:
            with pytest.raises(ExpressionLimitError, match=f"limit of {k - 1}"):
                parse(source, max_depth=k - 1)
    with pytest.raises(ExpressionLimitError):
        parse(make(251))


def test_depth_counts_macros(parse):
    parse("has(a.b)", max_depth=3)
    with pytest.raises(ExpressionLimitError):
        parse("has(a.b)", max_depth=2)
    parse("l.all(x, x)", max_depth=2)
    with pytest.raises(ExpressionLimitError):
        parse("l.all(x, x)", max_depth=1)


def test_long_chain_default_limits_fail_fast(parse):
    source = "+".join(["1"] * 250_000)
    start = time.perf_counter()
    with pytest.raises(ExpressionLimitError):
        parse(source, max_source_length=len(source))
    # The limit stops the reading early: reading all 500,000 tokens takes far longer than this.
    assert time.perf_counter() - start < 2


def test_long_chain_raised_limits(parse):
    source = "+".join(["1"] * 250_000)
    tree = parse(source, max_source_length=len(source), max_depth=10**9)
    depth = 0
    while tree[0] == "call":
        assert tree[1] == "_+_" and tree[2][1] == I(1)
        tree = tree[2][0]
        depth += 1
    assert (depth, tree) == (249_999, I(1))


@pytest.mark.parametrize("make", [
    lambda k: "(" * k + "1" + ")" * k,
    lambda k: "[" * k + "]" * k,
    lambda k: "!" * k + "x",
    lambda k: "a" + "[0]" * k,
    lambda k: "f(" * k + ")" * k,
    lambda k: "x" + " ? x : x" * k,
    lambda k: "(" * k,
], ids=["parens", "lists", "not", "index", "calls", "ternary", "unclosed"])
def test_deep_nesting_never_crashes(impl, parse, make):
    # Far past the recursion limit either way; Lark reads 100,000 levels in tens of seconds.
    source = make(100_000 if impl.suffix == "c" else 20_000)
    with pytest.raises(ExpressionLimitError):
        parse(source, max_source_length=10**7)
    try:
        parse(source, max_source_length=10**7, max_depth=10**9)
    except ExpressionSyntaxError:
        assert source.endswith("(")


# --------------------------------------------------------------------------- conformance


@pytest.mark.parametrize("path", CONFORMANCE, ids=[os.path.basename(p) for p in CONFORMANCE])
def test_conformance_parses_or_raises(parse, path):
    for source in conformance_expressions(path):
        try:
            parse(source)
        except (ExpressionSyntaxError, ExpressionLimitError):
            pass


@pytest.mark.parametrize("path", CONFORMANCE, ids=[os.path.basename(p) for p in CONFORMANCE])
def test_conformance_twins_agree(path, c_parse, py_parse):
    differences = [
        (source, c, p)
        for source in conformance_expressions(path)
        if (c := outcome(c_parse, source)) != (p := outcome(py_parse, source))
    ]
    assert differences == []


def test_conformance_is_there():
    assert len(CONFORMANCE) >= 20


# --------------------------------------------------------------------------- random trees

RESERVED = {"as", "break", "const", "continue", "else", "for", "function", "if", "import", "let",
            "loop", "package", "namespace", "return", "var", "void", "while", "in", "true",
            "false", "null"}
names = st.from_regex(r"[a-z_][a-zA-Z0-9_]{0,5}", fullmatch=True).filter(lambda n: n not in RESERVED)
quoted_names = st.from_regex(r"[a-zA-Z0-9_.\-/ ]{1,6}", fullmatch=True)

BINARY = {"_||_": ("||", 1), "_&&_": ("&&", 2), "_==_": ("==", 3), "_!=_": ("!=", 3),
          "_<_": ("<", 3), "_<=_": ("<=", 3), "_>_": (">", 3), "_>=_": (">=", 3),
          "@in": ("in", 3), "_+_": ("+", 4), "_-_": ("-", 4), "_*_": ("*", 5), "_/_": ("/", 5),
          "_%_": ("%", 5)}


def precedence(node) -> int:
    if node[0] == "call" and node[1] in BINARY:
        return BINARY[node[1]][1]
    if node[0] == "call" and node[1] == "_?_:_":
        return 0
    if node[0] == "call" and node[1] in ("!_", "-_"):
        return 6
    return 7


def string_token(draw, text: str, is_bytes: bool) -> str:
    """Render ``text`` (a str; for bytes, each char is one octet) as a literal, escaping at
    random."""
    quote = draw(st.sampled_from(["'", '"', "'''", '"""']))
    out = []
    for ch in text:
        code = ord(ch)
        choice = draw(st.integers(0, 3))
        plain_ok = ch not in "\\'\"\r\n" and (not is_bytes or code < 0x80)
        if plain_ok and choice == 0:
            out.append(ch)
        elif code < 0x100 and choice == 1:
            out.append("\\x%02x" % code)
        elif code < 0x100 and choice == 2:
            out.append("\\%03o" % code)
        elif not is_bytes and code < 0x10000 and not 0xD800 <= code <= 0xDFFF and choice == 3:
            out.append("\\u%04X" % code)
        elif ch in "\n\r\t\\'\"":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", "'": "\\'",
                        '"': '\\"'}[ch])
        elif plain_ok:
            out.append(ch)
        elif code < 0x100:
            out.append("\\x%02X" % code)
        else:
            out.append("\\U%08x" % code)
    return ("b" if is_bytes else "") + quote + "".join(out) + quote


@st.composite
def leaves(draw):
    kind = draw(st.sampled_from(["int", "uint", "double", "string", "bytes", "bool", "null",
                                 "ident", "dotident"]))
    if kind == "int":
        v = draw(st.integers(-(1 << 63), (1 << 63) - 1))
        text = draw(st.sampled_from([str(v), ("-" if v < 0 else "") + hex(abs(v))]))
        return I(v), [text]
    if kind == "uint":
        v = draw(st.integers(0, (1 << 64) - 1))
        return U(v), [draw(st.sampled_from([str(v), hex(v)])) + draw(st.sampled_from("uU"))]
    if kind == "double":
        v = draw(st.floats(allow_nan=False, allow_infinity=False))
        text = repr(v)
        if "e" not in text and "." not in text:
            text += ".0"
        return D(v), [text]
    if kind == "string":
        text = draw(st.text(max_size=8))
        text = "".join(ch for ch in text if not 0xD800 <= ord(ch) <= 0xDFFF)
        return S(text), [string_token(draw, text, False)]
    if kind == "bytes":
        raw = draw(st.binary(max_size=8))
        return B(raw), [string_token(draw, raw.decode("latin-1"), True)]
    if kind == "bool":
        v = draw(st.booleans())
        return ("const", "bool", v), ["true" if v else "false"]
    if kind == "null":
        return NULL, ["null"]
    name = draw(names)
    if kind == "dotident":
        return X("." + name), [".", name]
    return X(name), [name]


def paren(tokens):
    return ["("] + tokens + [")"]


def postfix_target(node, tokens):
    """``tokens`` as the operand of ``.``, ``[`` or a method call."""
    return paren(tokens) if precedence(node) < 7 else tokens


def qualified(draw):
    parts = draw(st.lists(names, min_size=1, max_size=3))
    lead = draw(st.booleans())
    return ("." if lead else "") + ".".join(parts)


def extend(children):
    @st.composite
    def build(draw):
        kind = draw(st.sampled_from([
            "binary", "binary", "unary", "ternary", "select", "index", "call", "method",
            "list", "map", "struct", "has", "comprehension", "paren"]))
        if kind == "binary":
            op = draw(st.sampled_from(sorted(BINARY)))
            text, prec = BINARY[op]
            (a, at), (b, bt) = draw(children), draw(children)
            if precedence(a) < prec:
                at = paren(at)
            if precedence(b) <= prec:
                bt = paren(bt)
            return call(op, a, b), at + [text] + bt
        if kind == "unary":
            op = draw(st.sampled_from(["!_", "-_"]))
            a, at = draw(children)
            if (precedence(a) < 6
                    or (op == "-_" and at[0][:1].isdigit())  # "-" + "1..." would fold
                    or (op == "-_" and a[:2] == ("call", "!_"))
                    or (op == "!_" and a[:2] == ("call", "-_"))):
                at = paren(at)
            return call(op, a), [op[0]] + at
        if kind == "ternary":
            (a, at), (b, bt), (c, ct) = draw(children), draw(children), draw(children)
            if precedence(a) == 0:
                at = paren(at)
            if precedence(b) == 0:
                bt = paren(bt)
            return call("_?_:_", a, b, c), at + ["?"] + bt + [":"] + ct
        if kind == "select":
            a, at = draw(children)
            if draw(st.booleans()):
                field = draw(names)
                return sel(a, field), postfix_target(a, at) + [".", field]
            field = draw(quoted_names)
            return sel(a, field), postfix_target(a, at) + [".", "`" + field + "`"]
        if kind == "index":
            (a, at), (b, bt) = draw(children), draw(children)
            return call("_[_]", a, b), postfix_target(a, at) + ["["] + bt + ["]"]
        if kind in ("call", "method", "list"):
            args = draw(st.lists(children, max_size=3))
            tokens = []
            for i, (_, t) in enumerate(args):
                tokens += ([","] if i else []) + t
            if kind == "list":
                if args and draw(st.booleans()):
                    tokens.append(",")
                return ("list", tuple(a for a, _ in args)), ["["] + tokens + ["]"]
            name = draw(names)
            if kind == "call":
                if name == "has" and len(args) == 1:
                    name = "has_"
                return call(name, *(a for a, _ in args)), [name, "("] + tokens + [")"]
            a, at = draw(children)
            if name in ("all", "exists", "exists_one", "filter", "map") and len(args) in (2, 3):
                name = name + "_"
            return (("method", name, a, tuple(x for x, _ in args)),
                    postfix_target(a, at) + [".", name, "("] + tokens + [")"])
        if kind == "map":
            entries = draw(st.lists(st.tuples(children, children), max_size=3))
            tokens = []
            for i, ((_, kt), (_, vt)) in enumerate(entries):
                tokens += ([","] if i else []) + kt + [":"] + vt
            if entries and draw(st.booleans()):
                tokens.append(",")
            return ("map", tuple((k, v) for (k, _), (v, _) in entries)), ["{"] + tokens + ["}"]
        if kind == "struct":
            type_name = qualified(draw)
            fields = draw(st.lists(st.tuples(st.one_of(names, quoted_names), children), max_size=3))
            tokens = []
            for i, (f, (_, vt)) in enumerate(fields):
                ft = f if f.isidentifier() and f.isascii() else "`" + f + "`"
                tokens += ([","] if i else []) + [ft, ":"] + vt
            parts = type_name.lstrip(".").split(".")
            name_tokens = ["." if type_name.startswith(".") else ""] + [parts[0]]
            for part in parts[1:]:
                name_tokens += [".", part]
            name_tokens = [t for t in name_tokens if t]
            return (("struct", type_name, tuple((f, v) for f, (v, _) in fields)),
                    name_tokens + ["{"] + tokens + ["}"])
        if kind == "has":
            a, at = draw(children)
            field = draw(names)
            return ("has", a, field), ["has", "("] + postfix_target(a, at) + [".", field, ")"]
        if kind == "comprehension":
            macro = draw(st.sampled_from(["all", "exists", "exists_one", "filter", "map", "map3"]))
            target, tt = draw(children)
            var = draw(names)
            args = [draw(children) for _ in range(2 if macro == "map3" else 1)]
            tokens = [var]
            for _, t in args:
                tokens += [","] + t
            name = "map" if macro == "map3" else macro
            return (("comprehension", name, target, var, tuple(a for a, _ in args)),
                    postfix_target(target, tt) + [".", name, "("] + tokens + [")"])
        a, at = draw(children)  # paren
        return a, paren(at)
    return build()


trees = st.recursive(leaves(), extend, max_leaves=12)

SEPARATORS = st.sampled_from(["", "", "", " ", "  ", "\n", "\t", "\r\n", "\f", " // c\n", "//\n"])


def is_word(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


@st.composite
def sources(draw):
    tree, tokens = draw(trees)
    out = []
    for i, tok in enumerate(tokens):
        sep = draw(SEPARATORS) if i else draw(st.sampled_from(["", " "]))
        if out and not sep and is_word(out[-1][-1]) and is_word(tok[0]):
            sep = " "
        if out and out[-1].endswith("/") and sep.startswith("/"):
            sep = " " + sep
        out.append(sep)
        out.append(tok)
    return tree, "".join(out)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sources())
def test_random_sources(parse, case):
    tree, source = case
    assert repr(parse(source, max_depth=10**6)) == repr(tree), source


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=sources())
def test_random_sources_twins_agree(case, c_parse, py_parse):
    _, source = case
    assert outcome(c_parse, source, max_depth=10**6) == outcome(py_parse, source, max_depth=10**6)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab1.()[]{}+-!?:,'\"\\ x`u", max_size=20))
def test_random_text_never_crashes(parse, source):
    try:
        parse(source)
    except (ExpressionSyntaxError, ExpressionLimitError):
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab1.()[]{}+-!?:,'\"\\ x`u", max_size=20))
def test_random_text_twins_agree(c_parse, py_parse, source):
    assert outcome(c_parse, source) == outcome(py_parse, source)
